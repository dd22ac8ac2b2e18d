"""Accounts settings (environment variables ``ACCOUNTS_*``; issuer/audience from ``JG_AUTH_*``)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, ClassVar, Self

from jg_auth import AuthSettings
from jg_messaging import Environment, ServiceSettings
from jg_web import DEFAULT_COUNTRIES, parse_countries
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict


class AccountsSettings(ServiceSettings):
    """Everything accounts reads from its environment. Defaults work against the dev stack."""

    model_config = SettingsConfigDict(env_prefix="ACCOUNTS_", extra="ignore", frozen=True)

    development_secrets: ClassVar[frozenset[str]] = frozenset({"dev-only"})

    database_url: SecretStr = Field(
        SecretStr("postgresql://accounts:accounts@127.0.0.1:55432/accounts"),
        description="PostgreSQL DSN of the accounts database",
    )
    http_port: int = Field(8005, description="Port the HTTP API listens on")
    auth: AuthSettings = Field(
        default_factory=AuthSettings,
        description="Issuer and audience of access tokens (JG_AUTH_ISSUER, JG_AUTH_AUDIENCE), "
        "shared with every service that verifies them",
    )

    # --- tokens and sessions --------------------------------------------------------------
    jwt_private_key: SecretStr | None = Field(
        None,
        description="PEM private key (EC P-256 -> ES256, or RSA >= 2048 bits -> RS256) signing "
        "access tokens. Required in production; in development and test a key is generated at "
        "first start and kept in the accounts database",
    )
    access_token_ttl_seconds: int = Field(
        900, ge=60, le=3600, description="Lifetime of an access token (stateless elsewhere)"
    )
    staff_token_ttl_seconds: int = Field(
        900, ge=60, le=3600, description="Lifetime of a staff member's access token (console)"
    )
    session_ttl_days: int = Field(
        30, ge=1, le=365, description="Absolute lifetime of a session (its refresh token)"
    )

    # --- passwords ------------------------------------------------------------------------
    argon2_time_cost: int = Field(3, ge=1, description="argon2id iterations")
    argon2_memory_kib: int = Field(65536, ge=8, description="argon2id memory in KiB")
    argon2_parallelism: int = Field(4, ge=1, description="argon2id lanes")
    password_verify_slots: int = Field(
        2,
        ge=1,
        le=64,
        description="argon2id verifications at once per instance (login, current-password "
        "checks); hashing a new password never takes one of these",
    )
    password_hash_slots: int = Field(
        1,
        ge=1,
        le=64,
        description="argon2id hashes of new passwords at once per instance (sign-up, reset, "
        "password change), apart from the verification slots so a sign-up flood cannot queue "
        "logins",
    )
    password_hash_queue: int = Field(
        16,
        ge=0,
        le=10_000,
        description="Requests that may wait for a hash slot per instance; beyond, the request "
        "answers 503 with Retry-After at once",
    )

    # --- sign-up ----------------------------------------------------------------------------
    signup_limit_per_address: int = Field(
        20,
        ge=1,
        description="Sign-up attempts from one client address per window (then 429); see "
        "TRUSTED_PROXIES for how the address is known behind a proxy",
    )
    signup_limit_per_email: int = Field(
        5, ge=1, description="Sign-up attempts for one email address per window (then 429)"
    )
    signup_window_seconds: int = Field(3600, ge=1, description="Window of the sign-up limits")

    # --- email verification ------------------------------------------------------------------
    storefront_email_verification_url: str = Field(
        "https://www.japangoodz.com/mon-compte/verification-email",
        description="Storefront page that verifies an account's email; '?token=...' is appended",
    )
    email_verification_ttl_seconds: int = Field(
        172800, ge=60, description="Lifetime of an email verification link"
    )
    email_verification_resend_limit: int = Field(
        3, ge=1, description="Verification links one account may ask for again per window"
    )
    email_verification_resend_window_seconds: int = Field(
        3600, ge=1, description="Window of the resend limit"
    )
    link_sealing_key: SecretStr = Field(
        SecretStr("dev-only-account-link-sealing-key"),
        description="Secret that seals the links of account emails (reset, email change, "
        "verification) for notifications alone; the same value as "
        "NOTIFICATIONS_LINK_SEALING_KEY, held by no other service (at least 16 characters)",
    )

    # --- slowing down failed logins -------------------------------------------------------
    login_window_seconds: int = Field(
        900, ge=1, description="Window in which failed logins are counted"
    )
    login_free_failures_per_email: int = Field(
        5, ge=1, description="Failed logins for one email before each new try must wait"
    )
    login_free_failures_per_address: int = Field(
        20, ge=1, description="Failed logins from one client address before tries must wait"
    )
    login_base_delay_seconds: float = Field(
        2.0, gt=0, description="Wait after the first failure past the free ones (then doubles)"
    )
    login_max_delay_seconds: float = Field(900.0, gt=0, description="Longest wait imposed")

    # --- password reset -------------------------------------------------------------------
    storefront_reset_url: str = Field(
        "https://www.japangoodz.com/mon-compte/reinitialisation",
        description="Storefront page that sets a new password; '?token=...' is appended",
    )
    reset_token_ttl_seconds: int = Field(3600, ge=60, description="Lifetime of a reset link")
    reset_limit_per_email: int = Field(
        3, ge=1, description="Reset emails per address and window (further requests: no email)"
    )
    reset_limit_per_address: int = Field(
        10, ge=1, description="Reset requests per client address and window (then 429)"
    )
    reset_window_seconds: int = Field(3600, ge=1, description="Window of the reset limits")
    reset_response_seconds: float = Field(
        0.35,
        ge=0,
        description="Every POST /password-reset answers after at least this long, so the "
        "answer takes the same time whether or not the account exists",
    )

    # --- email change ---------------------------------------------------------------------
    storefront_email_confirm_url: str = Field(
        "https://www.japangoodz.com/mon-compte/confirmation-email",
        description="Storefront page that confirms a new email; '?token=...' is appended",
    )
    email_change_ttl_seconds: int = Field(
        86400, ge=60, description="Lifetime of an email-change confirmation link"
    )

    # --- customer service, order history, client addresses --------------------------------
    operator_token: SecretStr = Field(
        SecretStr("dev-only-operator-token"),
        description="Bearer token of customer service (erasure on request by email + number)",
    )
    payment_public_url: str = Field(
        "http://127.0.0.1:8002",
        description="Public base URL of payment's HTTP API (invoice download links)",
    )
    countries: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_COUNTRIES,
        description="Countries a billing address may be in, ISO 3166-1 alpha-2 codes separated "
        "by commas: those checkout delivers to (CHECKOUT_COUNTRIES; default: the 27 EU member "
        "states and Monaco)",
    )
    trusted_proxies: tuple[str, ...] = Field(
        (),
        description="Addresses/networks (CIDR) of proxies, e.g. the ingress controller and the "
        "storefront backend, whose X-Forwarded-For names the real client address (used by the "
        "rate limits); X-Forwarded-For from any other peer is ignored",
    )

    @field_validator("countries", mode="before")
    @classmethod
    def _countries(cls, value: object) -> tuple[str, ...]:
        if not isinstance(value, str | list | tuple | set | frozenset):
            raise ValueError("a list of country codes is expected")
        return parse_countries(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for network in value:
            ipaddress.ip_network(network, strict=False)
        return value

    @field_validator("link_sealing_key")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("at least 16 characters")
        return value

    @field_validator(
        "storefront_reset_url",
        "storefront_email_confirm_url",
        "storefront_email_verification_url",
        "payment_public_url",
    )
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an absolute http(s) URL")
        return value

    @model_validator(mode="after")
    def _production_needs_a_signing_key(self) -> Self:
        if self.platform.environment is Environment.PRODUCTION and self.jwt_private_key is None:
            raise ValueError("ACCOUNTS_JWT_PRIVATE_KEY is required in production")
        return self
