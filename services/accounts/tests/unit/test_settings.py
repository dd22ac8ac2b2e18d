"""Settings: development works out of the box; production refuses unsafe defaults."""

import pytest
from accounts.settings import AccountsSettings
from jg_auth import SigningKey
from jg_messaging import PlatformSettings
from pydantic import ValidationError

pytestmark = pytest.mark.unit

PRODUCTION = PlatformSettings(environment="production")
SAFE = {
    "database_url": "postgresql://accounts:s3cret@db/accounts",
    "operator_token": "a-long-random-operator-token",
    "link_sealing_key": "0f3c9a1e7b2d4c6e8a0b1c2d3e4f5a6b",
}


def test_development_needs_no_configuration() -> None:
    settings = AccountsSettings()
    assert settings.http_port == 8005
    assert settings.jwt_private_key is None  # generated at first start, kept in the database


def test_production_requires_a_signing_key() -> None:
    with pytest.raises(ValidationError, match="ACCOUNTS_JWT_PRIVATE_KEY"):
        AccountsSettings(platform=PRODUCTION, **SAFE)
    key = SigningKey.generate().private_pem()
    assert AccountsSettings(platform=PRODUCTION, jwt_private_key=key, **SAFE).jwt_private_key


def test_production_refuses_the_development_operator_token() -> None:
    key = SigningKey.generate().private_pem()
    with pytest.raises(ValidationError, match="operator_token"):
        AccountsSettings(
            platform=PRODUCTION,
            jwt_private_key=key,
            database_url=SAFE["database_url"],
        )


def test_production_refuses_the_development_link_sealing_key_and_a_short_one() -> None:
    key = SigningKey.generate().private_pem()
    safe = {k: v for k, v in SAFE.items() if k != "link_sealing_key"}
    with pytest.raises(ValidationError, match="link_sealing_key"):
        AccountsSettings(platform=PRODUCTION, jwt_private_key=key, **safe)
    with pytest.raises(ValidationError, match="at least 16 characters"):
        AccountsSettings(link_sealing_key="short")


def test_trusted_proxies_must_be_networks() -> None:
    assert AccountsSettings(trusted_proxies=("10.0.0.0/8", "192.0.2.1")).trusted_proxies
    with pytest.raises(ValidationError):
        AccountsSettings(trusted_proxies=("storefront",))
