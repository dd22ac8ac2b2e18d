"""Value objects shared by several events, and the abstract bases of order and customer events.

Every customer-facing event carries the customer's contact (:class:`CustomerContact`) and the
human order number, so the notifications service can write the email from the event alone, with
no join and no call to another service.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from jg_events.envelope import Event
from jg_events.money import Money, Quantity, VatRate
from jg_events.vat import VatShare, vat_shares

__all__ = [
    "Address",
    "Carrier",
    "CustomerContact",
    "CustomerEvent",
    "DeliveryEstimate",
    "Email",
    "HttpUrl",
    "ItemQuantity",
    "OrderEvent",
    "OrderLine",
    "OrderNumber",
    "PaymentMethodType",
    "RefundCause",
    "ShippingMethod",
    "Sku",
    "Totals",
    "order_vat_shares",
]


class ValueObject(BaseModel):
    """Immutable nested value; unknown fields are ignored like in events."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)


# --- Constrained strings ---------------------------------------------------------------------

Email = Annotated[
    str,
    StringConstraints(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$"),
]
"""An email address as given by the customer (checked properly by the producing service)."""

Sku = Annotated[str, StringConstraints(min_length=1, max_length=64)]
"""Catalogue reference of a product, owned by checkout's catalogue."""

OrderNumber = Annotated[str, StringConstraints(min_length=1, max_length=32)]
"""Human order number shown to the customer, e.g. ``JG-2026-000123``."""

HttpUrl = Annotated[
    str, StringConstraints(min_length=8, max_length=2048, pattern=r"^https?://[^\s]+$")
]
"""An absolute http(s) URL, kept exactly as produced (no normalisation)."""

_Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
_Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]


# --- Enums -----------------------------------------------------------------------------------


class PaymentMethodType(StrEnum):
    """How the customer pays (Stripe payment method types the shop accepts)."""

    CARD = "card"  # Visa, Mastercard, Maestro
    REVOLUT_PAY = "revolut_pay"


class RefundCause(StrEnum):
    """What a refund is for (fulfillment requests it, payment issues it)."""

    RETURN = "return"
    CLAIM = "claim"


class Carrier(StrEnum):
    """Carriers the logistics team hands parcels to (fulfillment builds each tracking link)."""

    JAPAN_POST_EMS = "japan_post_ems"
    DHL = "dhl"
    FEDEX = "fedex"
    UPS = "ups"
    COLISSIMO = "colissimo"
    CHRONOPOST = "chronopost"


# --- Value objects ---------------------------------------------------------------------------


class CustomerContact(ValueObject):
    """Who to write to about an order. Guests have no customer id."""

    customer_id: UUID | None = Field(
        default=None, description="Customer account id (accounts service); null for a guest."
    )
    email: Email = Field(description="Email address the customer's emails are sent to.")
    first_name: _Name = Field(description="First name, as the customer wrote it.")
    last_name: _Name = Field(description="Last name, as the customer wrote it.")


class Address(ValueObject):
    """A postal address (shipping or billing)."""

    first_name: _Name = Field(description="Recipient's first name.")
    last_name: _Name = Field(description="Recipient's last name.")
    company: _Text | None = Field(default=None, description="Company name, if any.")
    line1: _Text = Field(description="Street address, first line.")
    line2: _Text | None = Field(default=None, description="Street address, second line.")
    postal_code: Annotated[str, StringConstraints(min_length=1, max_length=16)] = Field(
        description="Postal code."
    )
    city: _Name = Field(description="City.")
    country_code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(
        description="Country, ISO 3166-1 alpha-2 code in capitals (e.g. 'FR')."
    )
    phone: Annotated[str, StringConstraints(min_length=3, max_length=32)] | None = Field(
        default=None, description="Phone number for the carrier, E.164 preferred."
    )


class ShippingMethod(ValueObject):
    """The shipping method chosen at checkout."""

    code: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="Stable code of the method in checkout's configuration, e.g. 'standard'."
    )
    label: _Text = Field(description="French label shown to the customer.")
    price: Money = Field(description="Shipping price paid, TTC.")
    vat_rate: VatRate = Field(
        description="The shipping method's nominal VAT rate, in percent. The shipping of an "
        "order follows the VAT of its goods: its VAT is split between the goods' rates (see "
        "Totals.vat_breakdown); this rate is kept for older readers."
    )


class OrderLine(ValueObject):
    """One product line of an order, priced by checkout's catalogue."""

    sku: Sku = Field(description="Product reference.")
    name: _Text = Field(description="Product name in French, as sold.")
    quantity: Quantity = Field(description="Number of items.")
    unit_price: Money = Field(description="Price of one item, TTC.")
    vat_rate: VatRate = Field(description="VAT rate of the product, in percent.")
    line_total: Money = Field(description="unit_price x quantity, TTC.")
    on_sale: bool = Field(
        description="Bought on sale ('produit soldé'); the returns policy may exclude it."
    )

    @model_validator(mode="after")
    def _total_is_exact(self) -> OrderLine:
        if self.line_total != self.unit_price * self.quantity:
            raise ValueError(
                f"line_total {self.line_total} != unit_price {self.unit_price} x {self.quantity}"
            )
        return self


class Totals(ValueObject):
    """Amounts of an order, TTC, with the VAT they include."""

    subtotal: Money = Field(description="Sum of the line totals, TTC.")
    shipping: Money = Field(description="Shipping price, TTC.")
    total: Money = Field(description="Amount to pay: subtotal + shipping, TTC.")
    vat: Money = Field(description="VAT included in the total.")
    vat_breakdown: tuple[VatShare, ...] = Field(
        default=(),
        description="VAT per rate, sorted by rate: the goods at that rate, the share of the "
        "shipping taxed at it (split pro rata of the goods excluding VAT, to the cent) and the "
        "VAT included. Empty from older producers: compute it with order_vat_shares().",
    )

    @model_validator(mode="after")
    def _total_is_sum(self) -> Totals:
        if self.total != self.subtotal + self.shipping:
            raise ValueError(
                f"total {self.total} != subtotal {self.subtotal} + shipping {self.shipping}"
            )
        if self.vat > self.total:
            raise ValueError("VAT cannot exceed the total")
        if self.vat_breakdown:
            shares = self.vat_breakdown
            if [s.rate for s in shares] != sorted({s.rate for s in shares}):
                raise ValueError("vat_breakdown has one entry per rate, sorted by rate")
            if sum((s.goods for s in shares), Decimal("0.00")) != self.subtotal:
                raise ValueError("vat_breakdown's goods do not add up to the subtotal")
            if sum((s.shipping for s in shares), Decimal("0.00")) != self.shipping:
                raise ValueError("vat_breakdown's shipping shares do not add up to the shipping")
            if sum((s.vat for s in shares), Decimal("0.00")) != self.vat:
                raise ValueError("vat_breakdown's VAT does not add up to the VAT")
        return self


class DeliveryEstimate(ValueObject):
    """Expected delivery window (business days, French public holidays excluded)."""

    earliest: date = Field(description="Earliest expected delivery date.")
    latest: date = Field(description="Latest expected delivery date.")

    @model_validator(mode="after")
    def _ordered(self) -> DeliveryEstimate:
        if self.earliest > self.latest:
            raise ValueError("earliest delivery date is after the latest")
        return self


class ItemQuantity(ValueObject):
    """A product and a number of items (shipped, claimed, ...)."""

    sku: Sku = Field(description="Product reference.")
    name: _Text = Field(description="Product name in French.")
    quantity: Quantity = Field(description="Number of items.")


# --- Abstract event bases --------------------------------------------------------------------


class OrderEvent(Event):
    """Base of every customer-facing event about one order (Kafka key: ``order_id``)."""

    key_field: ClassVar[str] = "order_id"

    order_id: UUID = Field(description="Order id (checkout); the Kafka key.")
    order_number: OrderNumber = Field(
        description="Human order number shown to the customer, e.g. 'JG-2026-000123'."
    )
    customer: CustomerContact = Field(description="Who to write to about this order.")


class CustomerEvent(Event):
    """Base of every account event (Kafka key: ``customer_id``)."""

    key_field: ClassVar[str] = "customer_id"

    customer_id: UUID = Field(description="Customer account id; the Kafka key.")


def lines_total(lines: tuple[OrderLine, ...]) -> Decimal:
    """Sum of line totals (exact)."""
    return sum((line.line_total for line in lines), Decimal("0.00"))


def order_vat_shares(lines: Iterable[OrderLine], shipping: Decimal) -> tuple[VatShare, ...]:
    """VAT per rate of an order's lines and shipping price TTC (shipping split pro rata)."""
    return vat_shares(((line.vat_rate, line.line_total) for line in lines), shipping)
