"""Settings that would break the guarantees are refused at start-up."""

import pytest
from jg_messaging import PlatformSettings
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


def test_production_refuses_development_secrets_and_the_placeholder_seller() -> None:
    production = PlatformSettings(environment="production")
    with pytest.raises(ValidationError):
        PaymentSettings(platform=production)
    with pytest.raises(ValidationError, match="SELLER"):
        PaymentSettings(
            platform=production,
            database_url="postgresql://payment:s3cret@db/payment",
            stripe_api_base="https://api.stripe.com",
            stripe_api_key="sk_live_real",
            stripe_webhook_secret="whsec_real",
            internal_token="a-real-token",
        )
    ok = PaymentSettings(
        platform=production,
        database_url="postgresql://payment:s3cret@db/payment",
        stripe_api_base="https://api.stripe.com/",
        stripe_api_key="sk_live_real",
        stripe_webhook_secret="whsec_real",
        internal_token="a-real-token",
        seller_address="1 avenue de l'Opéra\\n75001 Paris",
        seller_siren="987654321",
    )
    assert ok.stripe_api_base == "https://api.stripe.com"


def test_production_talks_to_stripe_over_https_only() -> None:
    real = {
        "database_url": "postgresql://payment:s3cret@db/payment",
        "stripe_api_key": "sk_live_real",
        "stripe_webhook_secret": "whsec_real",
        "internal_token": "a-real-token",
        "seller_address": "1 avenue de l'Opéra\\n75001 Paris",
        "seller_siren": "987654321",
    }
    production = PlatformSettings(environment="production")
    with pytest.raises(ValidationError, match="PAYMENT_STRIPE_API_BASE must be an https"):
        PaymentSettings(platform=production, stripe_api_base="http://api.stripe.com", **real)
    test = PlatformSettings(environment="test")  # the local stack's stand-in speaks http
    assert PaymentSettings(platform=test, **real).stripe_api_base.startswith("http://")
