import pytest
from jg_messaging import Environment, RetryPolicy, ServiceSettings
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

pytestmark = pytest.mark.unit


class ShopSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHOP_", extra="ignore", frozen=True)


def test_production_refuses_a_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JG_ENVIRONMENT", "production")
    monkeypatch.setenv("SHOP_DATABASE_URL", "postgresql://shop:dev-only@db/shop")
    with pytest.raises(ValidationError, match=r"development default secret.*database_url"):
        ShopSettings(http_port=1)


def test_production_accepts_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JG_ENVIRONMENT", "production")
    monkeypatch.setenv("SHOP_DATABASE_URL", "postgresql://shop:s3cr3t-from-vault@db/shop")
    settings = ShopSettings(http_port=1)
    assert settings.platform.environment is Environment.PRODUCTION


def test_development_runs_with_development_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JG_ENVIRONMENT", "development")
    monkeypatch.setenv("SHOP_DATABASE_URL", "postgresql://shop:dev-only@db/shop")
    assert ShopSettings(http_port=1).database_url.get_secret_value().endswith("/shop")


def test_a_forgotten_environment_is_production_and_refuses_development_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("JG_ENVIRONMENT", raising=False)
    monkeypatch.setenv("SHOP_DATABASE_URL", "postgresql://shop:dev-only@db/shop")
    with pytest.raises(ValueError, match=r"refusing to start in production.*JG_ENVIRONMENT"):
        ShopSettings(http_port=1)


def test_platform_settings_come_from_jg_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JG_KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("JG_TOPIC_PREFIX", "staging.")
    monkeypatch.setenv("SHOP_DATABASE_URL", "postgresql://x@y/z")
    settings = ShopSettings(http_port=1)
    assert settings.platform.kafka_bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert settings.platform.topic_prefix == "staging."


def test_retry_backoff_grows_and_is_bounded() -> None:
    policy = RetryPolicy(attempts=6, first_delay=0.5, max_delay=3.0)
    delays = [policy.delay(n) for n in range(1, 6)]
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0]


class SignedSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SIGNED_", extra="ignore", frozen=True)
    signing_key: SecretStr = SecretStr("a-key-for-laptops")


def test_production_refuses_a_secret_left_at_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JG_ENVIRONMENT", "production")
    monkeypatch.setenv("SIGNED_DATABASE_URL", "postgresql://shop:vault@db/shop")
    with pytest.raises(ValidationError, match="signing_key"):
        SignedSettings(http_port=1)
    monkeypatch.setenv("SIGNED_SIGNING_KEY", "rotated-in-vault")
    assert SignedSettings(http_port=1).signing_key.get_secret_value() == "rotated-in-vault"
