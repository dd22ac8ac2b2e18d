"""Checkout's settings (environment variables ``CHECKOUT_*``; platform ones are ``JG_*``)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Self

from jg_events import Money, VatRate
from jg_messaging import ServiceSettings
from jg_web import DEFAULT_COUNTRIES, parse_countries
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_settings import NoDecode, SettingsConfigDict

from checkout.domain import Limits, ShippingOption

DEV_STOREFRONT_TOKEN = "dev-only-storefront-token-change-me"  # noqa: S105 - refused in production
_CODE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


class ShippingMethodSetting(BaseModel):
    """One shipping method offered at checkout."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Annotated[str, StringConstraints(pattern=_CODE.pattern)] = Field(
        description="Stable code the storefront sends, e.g. 'standard'."
    )
    label: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="French label shown to the customer."
    )
    price: Money = Field(description="Price TTC in euros, e.g. '9.90'.")
    vat_rate: VatRate = Field(
        Decimal("20.00"),
        description="Nominal VAT rate in percent, carried in the events for older readers; an "
        "order's shipping follows the VAT of its goods (split pro rata between their rates).",
    )
    transit_days_min: int = Field(ge=1, le=60, description="Shortest transit from Japan (days).")
    transit_days_max: int = Field(ge=1, le=60, description="Longest transit from Japan (days).")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.transit_days_min > self.transit_days_max:
            raise ValueError(f"{self.code}: transit_days_min is greater than transit_days_max")
        return self

    def option(self) -> ShippingOption:
        return ShippingOption(
            code=self.code,
            label=self.label,
            price=self.price,
            vat_rate=self.vat_rate,
            transit_days_min=self.transit_days_min,
            transit_days_max=self.transit_days_max,
        )


DEFAULT_SHIPPING_METHODS: tuple[ShippingMethodSetting, ...] = (
    ShippingMethodSetting(
        code="standard",
        label="Livraison standard depuis le Japon (Japan Post EMS)",
        price=Decimal("9.90"),
        transit_days_min=5,
        transit_days_max=8,
    ),
    ShippingMethodSetting(
        code="express",
        label="Livraison express depuis le Japon (DHL Express)",
        price=Decimal("19.90"),
        transit_days_min=3,
        transit_days_max=5,
    ),
)


class CheckoutSettings(ServiceSettings):
    """Settings of the checkout service; every default works against the local dev stack."""

    model_config = SettingsConfigDict(env_prefix="CHECKOUT_", extra="ignore", frozen=True)

    database_url: SecretStr = Field(
        SecretStr("postgresql://checkout:checkout@127.0.0.1:55432/checkout"),
        description="PostgreSQL DSN of checkout's own database",
    )
    http_port: int = Field(8001, description="Port the HTTP API listens on")
    storefront_token: SecretStr = Field(
        SecretStr(DEV_STOREFRONT_TOKEN),
        description="Bearer token the storefront presents (Authorization: Bearer ...); "
        "the development default is refused in production",
    )
    operator_token: SecretStr | None = Field(
        None,
        description="Static bearer token of the /operator endpoints for tools (optional; "
        "empty: only staff tokens from accounts are accepted)",
    )
    release_delay_seconds: float = Field(
        300.0,
        gt=0,
        le=86_400,
        description="Seconds between confirmation and release (the modification window)",
    )
    release_poll_interval: float = Field(
        1.0, gt=0, le=60, description="Seconds between two polls of the release scheduler"
    )
    release_retry_first_delay: float = Field(
        5.0,
        gt=0,
        le=3600,
        description="Seconds before retrying the release of an order whose release failed "
        "(doubling after each failure in a row)",
    )
    release_retry_max_delay: float = Field(
        300.0,
        gt=0,
        le=86_400,
        description="Longest wait between two attempts to release an order whose release "
        "keeps failing",
    )
    shipping_methods: tuple[ShippingMethodSetting, ...] = Field(
        DEFAULT_SHIPPING_METHODS,
        min_length=1,
        description="Shipping methods offered (JSON list of {code, label, price, vat_rate, "
        "transit_days_min, transit_days_max})",
    )
    max_lines: int = Field(30, ge=1, le=200, description="Most lines one order may have")
    max_quantity_per_line: int = Field(
        10, ge=1, le=1000, description="Most items of one product in one order"
    )
    countries: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_COUNTRIES,
        description="Countries the shop delivers to, ISO 3166-1 alpha-2 codes separated by "
        "commas: an order's shipping and billing addresses must be in one of them (default: "
        "the 27 EU member states and Monaco; not the overseas departments and collectivities, "
        "outside the EU VAT area)",
    )
    delivery_business_days_min: int = Field(
        10, ge=1, le=60, description="Delivery estimate: earliest, in business days"
    )
    delivery_business_days_max: int = Field(
        15, ge=1, le=60, description="Delivery estimate: latest, in business days"
    )

    @field_validator("countries", mode="before")
    @classmethod
    def _countries(cls, value: object) -> tuple[str, ...]:
        if not isinstance(value, str | list | tuple | set | frozenset):
            raise ValueError("a list of country codes is expected")
        return parse_countries(value)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        codes = [m.code for m in self.shipping_methods]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"duplicate shipping method codes: {', '.join(duplicates)}")
        if self.delivery_business_days_min > self.delivery_business_days_max:
            raise ValueError("delivery_business_days_min is greater than the max")
        if self.release_retry_first_delay > self.release_retry_max_delay:
            raise ValueError("release_retry_first_delay is greater than release_retry_max_delay")
        return self

    def shipping_options(self) -> dict[str, ShippingOption]:
        return {m.code: m.option() for m in self.shipping_methods}

    def limits(self) -> Limits:
        return Limits(max_lines=self.max_lines, max_quantity_per_line=self.max_quantity_per_line)
