"""Settings: shipping methods are validated; the development storefront token never reaches prod."""

import pytest
from checkout.settings import CheckoutSettings
from pydantic import ValidationError

pytestmark = pytest.mark.unit


def test_defaults_work_against_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JG_ENVIRONMENT", "development")
    settings = CheckoutSettings()
    assert settings.http_port == 8001
    assert settings.release_delay_seconds == 300
    assert set(settings.shipping_options()) == {"standard", "express"}


def test_production_refuses_the_development_storefront_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JG_ENVIRONMENT", "production")
    monkeypatch.setenv("CHECKOUT_DATABASE_URL", "postgresql://checkout:s3cret@db/checkout")
    with pytest.raises(ValidationError, match="storefront_token"):
        CheckoutSettings()
    monkeypatch.setenv("CHECKOUT_STOREFRONT_TOKEN", "a-long-random-production-token")
    assert CheckoutSettings().storefront_token.get_secret_value().startswith("a-long")


def test_shipping_methods_come_from_the_environment_and_are_validated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "CHECKOUT_SHIPPING_METHODS",
        '[{"code": "relais", "label": "Point relais", "price": "6.50",'
        ' "transit_days_min": 6, "transit_days_max": 9}]',
    )
    (option,) = CheckoutSettings().shipping_options().values()
    assert (option.code, str(option.price), str(option.vat_rate)) == ("relais", "6.50", "20.00")
    for bad in (
        '[{"code": "a", "label": "A", "price": 6.5, "transit_days_min": 1, "transit_days_max": 2}]',
        '[{"code": "a", "label": "A", "price": "6.50", "transit_days_min": 5,'
        ' "transit_days_max": 2}]',
        '[{"code": "a", "label": "A", "price": "1.00", "transit_days_min": 1, "transit_days_max":'
        ' 2}, {"code": "a", "label": "B", "price": "2.00", "transit_days_min": 1,'
        ' "transit_days_max": 2}]',
        "[]",
    ):
        monkeypatch.setenv("CHECKOUT_SHIPPING_METHODS", bad)
        with pytest.raises(ValidationError):
            CheckoutSettings()
