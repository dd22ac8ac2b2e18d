"""Settings of the payment service (environment variables ``PAYMENT_*``)."""

from __future__ import annotations

from typing import ClassVar, Self

from jg_messaging import ServiceSettings, require_https
from jg_shop import SellerIdentity, require_real_seller
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

LOCALSTRIPE_URL = "http://127.0.0.1:8420"


class PaymentSettings(ServiceSettings):
    """Everything the payment service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="PAYMENT_", extra="ignore", frozen=True)
    development_secrets: ClassVar[frozenset[str]] = frozenset({"dev-only", "sk_test_jgdevstack"})

    database_url: SecretStr = Field(
        SecretStr("postgresql://payment:payment@127.0.0.1:55432/payment"),
        description="PostgreSQL DSN of the payment database (intents, refunds, invoices)",
    )
    http_port: int = Field(8002, description="Port of the HTTP API (webhooks, invoice PDFs)")

    # --- Stripe ------------------------------------------------------------------------------
    stripe_api_base: str = Field(
        LOCALSTRIPE_URL,
        description="Base address of Stripe's API: https://api.stripe.com in production, "
        "localstripe (http://127.0.0.1:8420) or stripe-mock (http://127.0.0.1:12111) locally",
    )
    stripe_api_key: SecretStr = Field(
        SecretStr("sk_test_jgdevstack"), description="Stripe secret API key (sk_...)"
    )
    stripe_webhook_secret: SecretStr = Field(
        SecretStr("whsec_dev-only-payment-webhook-secret"),
        description="Signing secret of the Stripe webhook endpoint (whsec_...)",
    )
    stripe_webhook_tolerance: int = Field(
        300,
        ge=1,
        le=3600,
        description="Seconds a webhook signature stays valid; older ones are refused as stale",
    )
    max_webhook_body_bytes: int = Field(
        1024 * 1024,
        ge=64 * 1024,
        le=16 * 1024 * 1024,
        description="Largest Stripe webhook body accepted, in bytes, counted as it is read "
        "(413 past it); other routes take MAX_BODY_BYTES",
    )
    stripe_timeout: float = Field(20.0, gt=0, description="Seconds before a Stripe call times out")
    stripe_max_network_retries: int = Field(
        2,
        ge=0,
        le=10,
        description="Retries of a Stripe call on a network error (same idempotency key)",
    )
    stripe_return_url: str = Field(
        "https://www.japangoodz.com/commande/paiement/retour",
        pattern=r"^https?://\S+$",
        description="Where Stripe sends the customer back after a redirect (Revolut Pay, and "
        "3-D Secure when stripe_card_redirects is on)",
    )
    stripe_card_redirects: bool = Field(
        False,
        description="Send return_url with card payments too, so 3-D Secure comes back as a "
        "redirect_to_url next action (on with Stripe; off against localstripe, which refuses "
        "the parameter)",
    )
    authentication_url_template: str = Field(
        "https://www.japangoodz.com/commande/{order_id}/paiement/authentification"
        "?payment_intent={payment_intent_id}",
        description="Next-action URL given when Stripe names none (use_stripe_sdk): the "
        "storefront page that resumes the authentication; placeholders {order_id} and "
        "{payment_intent_id}",
    )
    accepted_card_brands: frozenset[str] = Field(
        frozenset({"visa", "mastercard", "maestro"}),
        description="Card brands accepted, as Stripe names them (Stripe reports Maestro cards "
        "as 'mastercard')",
    )

    # --- Background synchronisation with Stripe --------------------------------------------
    stripe_sync_interval: float = Field(
        15.0,
        ge=0,
        description="Seconds between two passes that resume unfinished Stripe calls and read "
        "back intents waiting for an outcome (0 disables it, e.g. against the stateless "
        "stripe-mock)",
    )
    reauthorisation_timeout: float = Field(
        1800.0,
        gt=0,
        description="Seconds a re-authorisation (a modification raised the total) may wait for "
        "the customer's 3-D Secure while the previous hold stands; past it the new intent is "
        "cancelled and checkout puts the order back on what the previous hold covers "
        "(checked by the synchronisation pass)",
    )
    stripe_lease: float = Field(
        120.0,
        gt=0,
        description="Seconds a Stripe call is reserved for the worker that started it; after a "
        "crash the next pass resumes it with the same idempotency key. Must outlast a call "
        "with its retries (stripe_timeout x (stripe_max_network_retries + 1))",
    )

    # --- Access ------------------------------------------------------------------------------
    internal_token: SecretStr = Field(
        SecretStr("dev-only-notifications-payment-token"),
        description="Bearer token of internal callers (notifications, customer service) for "
        "GET /invoices/{number}.pdf",
    )
    operator_token: SecretStr | None = Field(
        None,
        description="Static bearer token of the /operator endpoints for tools (optional; "
        "empty: only staff tokens from accounts are accepted)",
    )

    # --- Invoices ----------------------------------------------------------------------------
    seller: SellerIdentity = Field(
        default_factory=SellerIdentity,
        description="The seller's legal identity printed on invoices and credit notes "
        "(JG_SELLER_*, shared with notifications)",
    )
    invoice_prefix: str = Field(
        "F", pattern=r"^[A-Z]{1,4}$", description="Prefix of invoice numbers ('F-2026-000042')"
    )
    timezone: str = Field("Europe/Paris", description="Time zone of the dates on invoices")

    # --- Reconciliation ----------------------------------------------------------------------
    stuck_after: float = Field(
        1800.0,
        gt=0,
        description="Seconds after which an order still without a payment outcome (or a "
        "capture, cancellation or refund still unfinished) is reported as stuck",
    )

    @field_validator("stripe_api_base")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _lease_outlasts_a_call(self) -> Self:
        longest_call = self.stripe_timeout * (self.stripe_max_network_retries + 1)
        if self.stripe_lease <= longest_call:
            raise ValueError(
                f"PAYMENT_STRIPE_LEASE ({self.stripe_lease}s) must outlast a Stripe call with its "
                f"retries ({longest_call}s), or two workers could make the same call at once"
            )
        return self

    @model_validator(mode="after")
    def _stripe_over_https_in_production(self) -> Self:
        require_https(self.stripe_api_base, "PAYMENT_STRIPE_API_BASE", self.platform.environment)
        return self

    @model_validator(mode="after")
    def _real_seller_in_production(self) -> Self:
        require_real_seller(self.seller, self.platform.environment)
        return self
