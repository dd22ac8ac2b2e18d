"""Where a service finds accounts' keys: platform-wide settings ``JG_AUTH_*``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from jg_auth.verifier import TokenVerifier

__all__ = [
    "DEFAULT_AUDIENCE",
    "DEFAULT_ISSUER",
    "DEFAULT_JWKS_URL",
    "AuthSettings",
]

DEFAULT_ISSUER = "http://127.0.0.1:8005"
"""Accounts' issuer in local development (its base URL)."""

DEFAULT_AUDIENCE = "japangoodz"
"""Audience of customers' access tokens: the platform's APIs."""

DEFAULT_JWKS_URL = f"{DEFAULT_ISSUER}/.well-known/jwks.json"


class AuthSettings(BaseSettings):
    """How services verify customers' access tokens (environment variables ``JG_AUTH_*``).

    Accounts issues with the same ``issuer`` and ``audience``, so one set of variables
    configures the whole platform.
    """

    model_config = SettingsConfigDict(env_prefix="JG_AUTH_", extra="ignore", frozen=True)

    issuer: str = Field(DEFAULT_ISSUER, description="Expected 'iss' of access tokens")
    audience: str = Field(DEFAULT_AUDIENCE, description="Expected 'aud' of access tokens")
    jwks_url: str = Field(
        DEFAULT_JWKS_URL, description="Accounts' JWK Set URL (public keys of access tokens)"
    )
    jwks_cache_ttl: float = Field(600.0, gt=0, description="Seconds the JWK Set is cached")
    jwks_refetch_interval: float = Field(
        30.0, ge=0, description="Minimum seconds between refetches caused by an unknown kid"
    )

    def verifier(self) -> TokenVerifier:
        """A :class:`TokenVerifier` fetching the JWK Set from ``jwks_url``."""
        return TokenVerifier(
            jwks_url=self.jwks_url,
            issuer=self.issuer,
            audience=self.audience,
            cache_ttl=self.jwks_cache_ttl,
            refetch_interval=self.jwks_refetch_interval,
        )
