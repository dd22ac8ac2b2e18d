"""Where the public keys of access tokens come from, and over what."""

import pytest
from jg_auth import AuthSettings
from pydantic import ValidationError

pytestmark = pytest.mark.unit


def test_production_fetches_the_keys_over_https_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JG_ENVIRONMENT", "production")
    monkeypatch.setenv("JG_AUTH_JWKS_URL", "http://accounts:8005/.well-known/jwks.json")
    with pytest.raises(ValidationError, match="JG_AUTH_JWKS_URL must be an https"):
        AuthSettings()
    monkeypatch.setenv("JG_AUTH_JWKS_URL", "https://accounts.japangoodz.com/.well-known/jwks.json")
    assert AuthSettings().jwks_url.startswith("https://")


def test_a_forgotten_environment_is_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JG_ENVIRONMENT", raising=False)
    monkeypatch.delenv("JG_AUTH_JWKS_URL", raising=False)
    with pytest.raises(ValidationError, match="https"):
        AuthSettings()  # the local default (http://127.0.0.1:8005) is not for production


def test_the_local_stack_may_use_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JG_ENVIRONMENT", "development")
    monkeypatch.delenv("JG_AUTH_JWKS_URL", raising=False)
    assert AuthSettings().jwks_url == "http://127.0.0.1:8005/.well-known/jwks.json"
