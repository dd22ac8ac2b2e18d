"""Settings that would break the guarantees are refused at start-up."""

import os

import pytest
from jg_messaging import PlatformSettings
from jg_shop import SellerIdentity
from payment.settings import PaymentSettings
from pydantic import ValidationError

pytestmark = pytest.mark.unit


def test_defaults_work_against_the_local_stack() -> None:
    settings = PaymentSettings()
    assert settings.http_port == 8002
    assert settings.stripe_api_base == "http://127.0.0.1:8420"
    assert settings.stripe_lease > settings.stripe_timeout * (
        settings.stripe_max_network_retries + 1
    )


def test_a_lease_shorter_than_a_stripe_call_is_refused() -> None:
    with pytest.raises(ValidationError, match="must outlast"):
        PaymentSettings(stripe_timeout=30, stripe_max_network_retries=2, stripe_lease=60)


REAL_SELLER = SellerIdentity(
    legal_name="Kumo Trading SARL",
    legal_form="SARL au capital de 25 000 €",
    address="1 avenue de l'Opéra\n75001 Paris\nFrance",
    phone="+33 1 80 00 00 01",
    email="service@kumo.example",
    siren="987654321",
    rcs="RCS Paris 987 654 321",
    vat_number="FR45987654321",
    mediator_name="CM2C",
    mediator_url="https://www.cm2c.net",
    terms_url="https://www.kumo.example/cgv",
)
REAL_SECRETS = {
    "database_url": "postgresql://payment:s3cret@db/payment",
    "stripe_api_key": "sk_live_real",
    "stripe_webhook_secret": "whsec_real",
    "internal_token": "a-real-token",
}


def test_production_refuses_development_secrets_and_the_sample_seller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in os.environ:
        if name.startswith("JG_SELLER_"):
            monkeypatch.delenv(name)
    production = PlatformSettings(environment="production")
    https = "https://api.stripe.com/"
    with pytest.raises(ValidationError):
        PaymentSettings(platform=production, seller=REAL_SELLER)
    with pytest.raises(ValidationError, match="JG_SELLER_SIREN") as refused:
        PaymentSettings(platform=production, stripe_api_base=https, **REAL_SECRETS)
    assert "JG_SELLER_ADDRESS" in str(refused.value)
    sample_siren = REAL_SELLER.model_copy(update={"siren": "123456789"})
    sample_siren = SellerIdentity(**sample_siren.model_dump())
    with pytest.raises(ValidationError, match="still the sample value: JG_SELLER_SIREN"):
        PaymentSettings(
            platform=production, stripe_api_base=https, seller=sample_siren, **REAL_SECRETS
        )
    ok = PaymentSettings(
        platform=production, stripe_api_base=https, seller=REAL_SELLER, **REAL_SECRETS
    )
    assert ok.stripe_api_base == "https://api.stripe.com"
    assert ok.seller.legal_name == "Kumo Trading SARL"


def test_the_seller_is_read_from_the_platform_wide_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JG_SELLER_LEGAL_NAME", "Kumo Trading SARL")
    monkeypatch.setenv("PAYMENT_SELLER_NAME", "a removed setting, read by nothing")
    assert PaymentSettings().seller.legal_name == "Kumo Trading SARL"


def test_production_talks_to_stripe_over_https_only() -> None:
    production = PlatformSettings(environment="production")
    with pytest.raises(ValidationError, match="PAYMENT_STRIPE_API_BASE must be an https"):
        PaymentSettings(
            platform=production,
            stripe_api_base="http://api.stripe.com",
            seller=REAL_SELLER,
            **REAL_SECRETS,
        )
    test = PlatformSettings(environment="test")  # the local stack's stand-in speaks http
    assert PaymentSettings(platform=test, **REAL_SECRETS).stripe_api_base.startswith("http://")
