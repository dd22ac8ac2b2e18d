"""Settings of the notifications service (environment variables ``NOTIFICATIONS_*``)."""

from __future__ import annotations

from email.headerregistry import Address
from email.utils import parseaddr
from typing import ClassVar, Self

from jg_messaging import Environment, ServiceSettings
from jg_shop import SellerIdentity, require_real_seller
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

DEFAULT_SENDER = "JapanGoodz <contact@japangoodz.com>"
# Five days, as RFC 5321 (4.5.4.1) advises for a message a server keeps deferring.
GIVE_UP_AFTER = 5 * 24 * 3600.0


def _mailbox(value: str) -> Address:
    name, addr = parseaddr(value)
    if not addr or "@" not in addr:
        raise ValueError(f"not an email address: {value!r}")
    local, domain = addr.rsplit("@", 1)
    return Address(display_name=name, username=local, domain=domain)


class NotificationsSettings(ServiceSettings):
    """Everything the notifications service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore", frozen=True)
    development_secrets: ClassVar[frozenset[str]] = frozenset({"dev-only"})

    database_url: SecretStr = Field(
        SecretStr("postgresql://notifications:notifications@127.0.0.1:55432/notifications"),
        description="PostgreSQL DSN of the notifications database (sent-mail log, suppressions)",
    )
    http_port: int = Field(8004, description="Port of the HTTP API (health, readiness, previews)")

    # --- Who writes ------------------------------------------------------------------------
    sender: str = Field(DEFAULT_SENDER, description="From header of every email: 'Name <address>'")
    reply_to: str | None = Field(
        None, description="Reply-To header (the shop's contact address); defaults to the sender"
    )

    # --- SMTP ------------------------------------------------------------------------------
    smtp_host: str = Field("127.0.0.1", description="SMTP server (relay) host")
    smtp_port: int = Field(1025, description="SMTP server port (Mailpit locally)")
    smtp_username: str | None = Field(None, description="SMTP login, if the relay requires one")
    operator_token: SecretStr | None = Field(
        None,
        description="Static bearer token of the /operator endpoints for tools (optional; "
        "empty: only staff tokens from accounts are accepted)",
    )
    smtp_password: SecretStr | None = Field(None, description="SMTP password, with the login")
    smtp_use_tls: bool = Field(False, description="Implicit TLS (SMTPS, usually port 465)")
    smtp_start_tls: bool = Field(False, description="STARTTLS after connecting (port 587)")
    smtp_timeout: float = Field(10.0, gt=0, description="Seconds before an SMTP call times out")
    smtp_idle_seconds: float = Field(
        30.0,
        ge=0,
        description="Seconds an SMTP connection is kept open, idle, for the next email before "
        "it is closed (0: one connection per email); keep it below the relay's idle timeout",
    )
    smtp_messages_per_connection: int = Field(
        100,
        ge=1,
        le=100_000,
        description="Emails sent on one SMTP connection before it is closed (QUIT) and the "
        "next goes on a fresh one; keep it at or below the relay's own limit (many relays "
        "take 100)",
    )

    # --- Delivery queue (the intent rows) ----------------------------------------------------
    dispatch_poll_interval: float = Field(
        1.0, gt=0, description="Seconds between polls of the queue when nothing woke it"
    )
    dispatch_batch_size: int = Field(
        20,
        gt=0,
        le=1000,
        description="Most emails claimed per poll; never more than there are free send slots "
        "(DISPATCH_CONCURRENCY)",
    )
    dispatch_concurrency: int = Field(
        4, ge=1, le=64, description="Emails sent in parallel (each claimed only when it is sent)"
    )
    send_lease: float = Field(
        120.0,
        ge=1.0,
        description="Seconds a claimed email is reserved for its sender, renewed every third of "
        "it while the send lasts; after a crash it is sent again (same Message-ID) once the "
        "lease has run out",
    )
    retry_first_delay: float = Field(
        5.0, gt=0, description="Seconds before the first retry after a transient SMTP failure"
    )
    retry_max_delay: float = Field(600.0, gt=0, description="Longest wait between two retries")
    give_up_after: float = Field(
        GIVE_UP_AFTER,
        ge=24 * 3600.0,
        description="Seconds (at least one day) after which an email the relay keeps deferring "
        "(4xx to RCPT or DATA) is marked failed; an unreachable relay never makes an email fail",
    )

    # --- Invoices (PDF from payment) ---------------------------------------------------------
    payment_base_url: str = Field(
        "http://127.0.0.1:8002", description="Base URL of payment's HTTP API (invoice PDFs)"
    )
    payment_internal_token: SecretStr = Field(
        SecretStr("dev-only-notifications-payment-token"),
        description="Internal token sent as 'Authorization: Bearer' to fetch invoice PDFs",
    )
    payment_timeout: float = Field(10.0, gt=0, description="Seconds to fetch one invoice PDF")

    # --- Privacy -----------------------------------------------------------------------------
    recipient_hash_key: SecretStr = Field(
        SecretStr("dev-only-notifications-recipient-hash-key"),
        description="HMAC key of the suppression list's hashed email addresses",
    )
    link_sealing_key: SecretStr = Field(
        SecretStr("dev-only-account-link-sealing-key"),
        description="Secret that opens the sealed links of account emails (reset, email change, "
        "verification); the same value as ACCOUNTS_LINK_SEALING_KEY, held by no other service "
        "(at least 16 characters)",
    )

    # --- What the emails say -----------------------------------------------------------------
    shop_url: str = Field("https://www.japangoodz.com", description="The storefront's home page")
    customer_space_url: str = Field(
        "https://www.japangoodz.com/mon-compte",
        description="The customer space ('Mon compte', 'Mes commandes et factures')",
    )
    seller: SellerIdentity = Field(
        default_factory=SellerIdentity,
        description="The seller's legal identity written in the emails (JG_SELLER_*, shared "
        "with payment's invoices)",
    )
    return_costs_borne_by_customer: bool = Field(
        True,
        description="The confirmation says the direct cost of returning goods is the "
        "customer's (Code de la consommation L221-5); false if the shop pays it",
    )
    timezone: str = Field("Europe/Paris", description="Time zone of the dates in the emails")
    previews_enabled: bool | None = Field(
        None, description="Serve GET /previews (default: only in development)"
    )

    @field_validator("sender", "reply_to")
    @classmethod
    def _is_mailbox(cls, value: str | None) -> str | None:
        if value is not None:
            _mailbox(value)
        return value

    @field_validator("link_sealing_key")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("at least 16 characters")
        return value

    @model_validator(mode="after")
    def _real_seller_outside_development(self) -> Self:
        require_real_seller(self.seller, self.platform.environment)
        return self

    @property
    def sender_address(self) -> Address:
        return _mailbox(self.sender)

    @property
    def reply_to_address(self) -> Address:
        return _mailbox(self.reply_to or self.sender)

    @property
    def previews_on(self) -> bool:
        if self.previews_enabled is not None:
            return self.previews_enabled
        return self.platform.environment is Environment.DEVELOPMENT
