import pytest
from jg_messaging import PlatformSettings
from jg_messaging.kafka import client_options
from pydantic import ValidationError

pytestmark = pytest.mark.unit


def test_plaintext_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JG_KAFKA_SECURITY_PROTOCOL", raising=False)
    assert client_options(PlatformSettings()) == {}


def test_sasl_ssl_scram_gives_the_clients_their_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JG_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("JG_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("JG_KAFKA_SASL_USERNAME", "checkout")
    monkeypatch.setenv("JG_KAFKA_SASL_PASSWORD", "from-the-kafkauser-secret")
    options = client_options(PlatformSettings())
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "checkout"
    assert options["sasl_plain_password"] == "from-the-kafkauser-secret"
    assert options["ssl_context"] is not None


def test_sasl_without_credentials_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JG_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.delenv("JG_KAFKA_SASL_USERNAME", raising=False)
    with pytest.raises(ValidationError, match="JG_KAFKA_SASL_USERNAME"):
        PlatformSettings()
