"""The seller's identity: samples in development and test, the real one elsewhere."""

from collections.abc import Iterator

import pytest
from jg_messaging import Environment
from jg_shop import SAMPLE_SELLER, SellerIdentity, require_real_seller
from pydantic import ValidationError

pytestmark = pytest.mark.unit

REAL = {
    "JG_SELLER_LEGAL_NAME": "Kumo Trading SARL",
    "JG_SELLER_LEGAL_FORM": "SARL au capital de 25 000 €",
    "JG_SELLER_ADDRESS": "8 rue Exemple\n69002 Lyon\nFrance",
    "JG_SELLER_PHONE": "+33 4 78 00 00 01",
    "JG_SELLER_EMAIL": "service@kumo.example",
    "JG_SELLER_SIREN": "987654321",
    "JG_SELLER_RCS": "RCS Lyon 987 654 321",
    "JG_SELLER_VAT_NUMBER": "FR45987654321",
    "JG_SELLER_MEDIATOR_NAME": "CM2C",
    "JG_SELLER_MEDIATOR_URL": "https://www.cm2c.net",
    "JG_SELLER_TERMS_URL": "https://www.kumo.example/cgv",
}


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in REAL:
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch


def test_development_and_test_run_on_the_sample(environ: pytest.MonkeyPatch) -> None:
    seller = SellerIdentity()
    assert seller == SAMPLE_SELLER
    for environment in (Environment.DEVELOPMENT, Environment.TEST):
        assert require_real_seller(seller, environment) is seller


def test_the_identity_is_read_from_jg_seller_variables(environ: pytest.MonkeyPatch) -> None:
    for name, value in REAL.items():
        environ.setenv(name, value)
    seller = require_real_seller(SellerIdentity(), Environment.PRODUCTION)
    assert seller.legal_name == "Kumo Trading SARL"
    assert seller.address_lines == ("8 rue Exemple", "69002 Lyon", "France")
    assert seller.one_line_address == "8 rue Exemple, 69002 Lyon, France"
    assert seller.mediator_url == "https://www.cm2c.net"


def test_production_refuses_an_unset_identity_and_names_every_variable(
    environ: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValueError, match="seller's identity") as refused:
        require_real_seller(SellerIdentity(), Environment.PRODUCTION)
    for name in REAL:
        assert name in str(refused.value)


def test_production_refuses_one_forgotten_variable(environ: pytest.MonkeyPatch) -> None:
    for name, value in REAL.items():
        if name != "JG_SELLER_PHONE":
            environ.setenv(name, value)
    with pytest.raises(ValueError, match=r"not set: JG_SELLER_PHONE\b") as refused:
        require_real_seller(SellerIdentity(), Environment.PRODUCTION)
    assert "JG_SELLER_SIREN" not in str(refused.value)


@pytest.mark.parametrize(
    "sample",
    [
        "JG_SELLER_LEGAL_FORM",
        "JG_SELLER_ADDRESS",
        "JG_SELLER_PHONE",
        "JG_SELLER_SIREN",
        "JG_SELLER_RCS",
        "JG_SELLER_VAT_NUMBER",
        "JG_SELLER_MEDIATOR_NAME",
        "JG_SELLER_MEDIATOR_URL",
    ],
)
def test_production_refuses_a_sample_value_set_explicitly(
    environ: pytest.MonkeyPatch, sample: str
) -> None:
    for name, value in REAL.items():
        environ.setenv(name, value)
    field = sample.removeprefix("JG_SELLER_").lower()
    environ.setenv(sample, getattr(SAMPLE_SELLER, field))
    with pytest.raises(ValueError, match=rf"still the sample value: {sample}\)"):
        require_real_seller(SellerIdentity(), Environment.PRODUCTION)


def test_production_takes_the_shop_s_own_name_email_and_terms_page(
    environ: pytest.MonkeyPatch,
) -> None:
    """Those samples are the shop's plausible own values: set explicitly, they are kept."""
    for name, value in REAL.items():
        environ.setenv(name, value)
    environ.setenv("JG_SELLER_LEGAL_NAME", SAMPLE_SELLER.legal_name)
    environ.setenv("JG_SELLER_EMAIL", SAMPLE_SELLER.email)
    environ.setenv("JG_SELLER_TERMS_URL", SAMPLE_SELLER.terms_url)
    assert require_real_seller(SellerIdentity(), Environment.PRODUCTION).email == (
        SAMPLE_SELLER.email
    )


def test_production_wants_https_links(environ: pytest.MonkeyPatch) -> None:
    for name, value in REAL.items():
        environ.setenv(name, value)
    environ.setenv("JG_SELLER_TERMS_URL", "http://www.kumo.example/cgv")
    with pytest.raises(ValueError, match="not an https:// URL: JG_SELLER_TERMS_URL"):
        require_real_seller(SellerIdentity(), Environment.PRODUCTION)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JG_SELLER_SIREN", "12345678"),
        ("JG_SELLER_VAT_NUMBER", "fr 12"),
        ("JG_SELLER_EMAIL", "not an address"),
        ("JG_SELLER_MEDIATOR_URL", "www.cm2c.net"),
        ("JG_SELLER_LEGAL_NAME", ""),
    ],
)
def test_malformed_values_are_refused_in_any_environment(
    environ: pytest.MonkeyPatch, name: str, value: str
) -> None:
    environ.setenv(name, value)
    with pytest.raises(ValidationError):
        SellerIdentity()
