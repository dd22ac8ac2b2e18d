"""Where a service finds accounts' keys: platform-wide settings ``JG_AUTH_*``."""

from __future__ import annotations

from typing import Self

from pydantic import AliasChoices, Field, model_validator
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
    environment: str = Field(
        "production",
        validation_alias=AliasChoices("JG_ENVIRONMENT", "environment"),
        description="The platform's JG_ENVIRONMENT (production unless said otherwise)",
    )

    @model_validator(mode="after")
    def _keys_over_https_in_production(self) -> Self:
        """Public keys fetched in clear could be swapped for an attacker's, who could then
        sign any customer's access token: in production the JWK Set comes over https."""
        if self.environment == "production" and not self.jwks_url.lower().startswith("https://"):
            raise ValueError(
                f"JG_AUTH_JWKS_URL must be an https:// URL in production (got {self.jwks_url!r})"
            )
        return self

    def verifier(self) -> TokenVerifier:
        """A :class:`TokenVerifier` fetching the JWK Set from ``jwks_url``."""
        return TokenVerifier(
            jwks_url=self.jwks_url,
            issuer=self.issuer,
            audience=self.audience,
            cache_ttl=self.jwks_cache_ttl,
            refetch_interval=self.jwks_refetch_interval,
        )
