"""Fulfillment's settings (environment variables ``FULFILLMENT_*``; platform ones ``JG_*``)."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar, Self

from jg_messaging import ServiceSettings
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from fulfillment.domain import EstimatePolicy, PhotoLimits, ReturnPolicy

DEV_OPERATOR_TOKEN = "dev-only-fulfillment-operator-token"  # noqa: S105 - refused in production
DEV_STOREFRONT_TOKEN = "dev-only-storefront-token"  # noqa: S105 - refused in production
MIB = 1024 * 1024
CLAIM_FORM_ALLOWANCE = 64 * 1024
"""Room for a claim's form fields and multipart framing, on top of its photos."""


class FulfillmentSettings(ServiceSettings):
    """Everything fulfillment reads from its environment; defaults fit the local dev stack."""

    model_config = SettingsConfigDict(env_prefix="FULFILLMENT_", extra="ignore", frozen=True)

    development_secrets: ClassVar[frozenset[str]] = frozenset(
        {DEV_OPERATOR_TOKEN, DEV_STOREFRONT_TOKEN}
    )

    database_url: SecretStr = Field(
        SecretStr("postgresql://fulfillment:fulfillment@127.0.0.1:55432/fulfillment"),
        description="PostgreSQL DSN of fulfillment's own database",
    )
    http_port: int = Field(
        8003,
        description="Port the HTTP API listens on",
    )
    operator_token: SecretStr = Field(
        SecretStr(DEV_OPERATOR_TOKEN),
        description="Bearer token of the operator endpoints (stock, claims, rejected reports)",
    )
    storefront_token: SecretStr = Field(
        SecretStr(DEV_STOREFRONT_TOKEN),
        description="Bearer token of the storefront backend, which acts for any customer",
    )

    # --- Delivery estimates (French business days) ---
    delivery_min_days: int = Field(
        10, ge=0, le=60, description="Usual delivery window, earliest (business days)"
    )
    delivery_max_days: int = Field(
        15, ge=0, le=90, description="Usual delivery window, latest (business days)"
    )
    backorder_extra_days: int = Field(
        10, ge=0, le=120, description="Business days added to the window of a backordered order"
    )

    # --- Returns policy ---
    withdrawal_covers_sale_items: bool = Field(
        True,
        description="Sale items may be withdrawn within the legal 14 days (the law, L221-28). "
        "False applies the FAQ's exclusion to the legal withdrawal too: not lawful in France.",
    )
    goodwill_return_days: int = Field(
        0,
        ge=0,
        le=365,
        description="Days after delivery a goodwill return is accepted once the legal "
        "withdrawal period is over (0: none)",
    )
    goodwill_covers_sale_items: bool = Field(
        False,
        description="Goodwill returns accept sale items (the FAQ says they are neither "
        "refunded nor exchanged)",
    )
    standard_shipping_price: Decimal = Field(
        Decimal("9.90"),
        ge=0,
        max_digits=8,
        decimal_places=2,
        description="Price TTC of the cheapest standard delivery offered; a full withdrawal "
        "refunds delivery up to this amount (L221-24)",
    )
    return_address: str = Field(
        "JapanGoodz Retours, 2-1-1 Nihonbashi, Chuo-ku, Tokyo 103-0027, Japon",
        min_length=10,
        max_length=400,
        description="Where customers send returned items (shown in the instructions)",
    )

    # --- Claims ---
    claim_photo_max_bytes: int = Field(
        10 * 1024 * 1024, gt=0, description="Largest photo accepted with a claim, in bytes"
    )
    claim_photo_max_count: int = Field(
        5, ge=1, le=20, description="Most photos accepted with one claim"
    )

    # --- Uploads: a claim's body is capped at CLAIM_PHOTO_MAX_COUNT x CLAIM_PHOTO_MAX_BYTES
    # + 64 KiB (50 MiB by default); its photos spool to /tmp while it is read ---
    upload_concurrency: int = Field(
        2,
        ge=1,
        le=64,
        description="Claim uploads read at once; another one waits for a slot (up to "
        "UPLOAD_WAIT_SECONDS, reading nothing meanwhile), then gets 503. This times the largest "
        "claim body must fit UPLOAD_SCRATCH_BYTES",
    )
    upload_wait_seconds: float = Field(
        10.0,
        ge=0,
        le=120,
        description="Seconds a claim upload waits for a free slot before being refused with 503 "
        "(Retry-After: 5)",
    )
    upload_scratch_bytes: int = Field(
        128 * MIB,
        ge=MIB,
        description="Scratch space the uploads' spooled photos may fill, in bytes: the size of "
        "the pod's /tmp (its emptyDir sizeLimit, 128Mi in deploy/k8s). The service refuses to "
        "start when UPLOAD_CONCURRENCY claim bodies of the largest size would not fit",
    )

    @property
    def claim_upload_max_bytes(self) -> int:
        """The cap of one claim's body: every photo at its largest, and the form."""
        return self.claim_photo_max_count * self.claim_photo_max_bytes + CLAIM_FORM_ALLOWANCE

    @model_validator(mode="after")
    def _uploads_fit_the_scratch_space(self) -> Self:
        needed = self.upload_concurrency * self.claim_upload_max_bytes
        if needed > self.upload_scratch_bytes:
            raise ValueError(
                f"{self.upload_concurrency} uploads of up to {self.claim_upload_max_bytes} bytes "
                f"need {needed} bytes of scratch space, more than upload_scratch_bytes "
                f"({self.upload_scratch_bytes}): lower upload_concurrency or the photo limits, "
                "or give the pod more /tmp"
            )
        return self

    def estimate_policy(self) -> EstimatePolicy:
        return EstimatePolicy(
            delivery_min_days=self.delivery_min_days,
            delivery_max_days=self.delivery_max_days,
            backorder_extra_days=self.backorder_extra_days,
        )

    def return_policy(self) -> ReturnPolicy:
        return ReturnPolicy(
            withdrawal_covers_sale_items=self.withdrawal_covers_sale_items,
            goodwill_return_days=self.goodwill_return_days,
            goodwill_covers_sale_items=self.goodwill_covers_sale_items,
            standard_shipping_price=self.standard_shipping_price,
            return_address=self.return_address,
        )

    def photo_limits(self) -> PhotoLimits:
        return PhotoLimits(
            max_bytes=self.claim_photo_max_bytes, max_count=self.claim_photo_max_count
        )
