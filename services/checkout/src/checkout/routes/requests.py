"""HTTP request bodies (every field described in the OpenAPI document), and the command each
becomes for its use case."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated
from uuid import UUID

from jg_events import Address, CustomerContact, PaymentMethodType
from jg_web import CountryCode, MultiLine, SingleLine
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictInt, StringConstraints

from checkout.domain import ModifyOrder, PlaceOrder, RequestedLine

# Every text field follows jg_web's rule (no NUL, lone surrogate or control character; line
# breaks only in the cancellation note), checked on the value kept (after stripping).
_Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), SingleLine
]
_Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SingleLine
]
_Sku = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), SingleLine
]
_Code = Annotated[str, StringConstraints(min_length=1, max_length=64), SingleLine]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- Requests --------------------------------------------------------------------------------


class ContactIn(_In):
    email: EmailStr = Field(description="Email the order's emails are sent to.")
    first_name: _Name = Field(description="Customer's first name.")
    last_name: _Name = Field(description="Customer's last name.")
    customer_id: UUID | None = Field(
        default=None,
        description="Account id of the signed-in customer (storefront token only; a customer "
        "token sets it from the token). Null or absent for a guest order.",
    )


class AddressIn(_In):
    first_name: _Name = Field(description="Recipient's first name.")
    last_name: _Name = Field(description="Recipient's last name.")
    company: _Text | None = Field(default=None, description="Company name, if any.")
    line1: _Text = Field(description="Street address, first line.")
    line2: _Text | None = Field(default=None, description="Street address, second line.")
    postal_code: Annotated[
        str,
        StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]{1,15}$"),
    ] = Field(description="Postal code (five digits in France).")
    city: _Name = Field(description="City.")
    country_code: CountryCode = Field(
        description="Country, ISO 3166-1 alpha-2 in capitals, e.g. 'FR'; one the shop delivers "
        "to (CHECKOUT_COUNTRIES: by default the EU member states and Monaco)."
    )
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 .()-]{2,30}$")] | None = Field(
        default=None, description="Phone number for the carrier, E.164 preferred."
    )

    def to_address(self) -> Address:
        return Address.model_validate(self.model_dump())


class LineIn(_In):
    sku: _Sku = Field(description="Catalogue reference of the product.")
    quantity: StrictInt = Field(
        description="Number of items, 1 to the configured maximum (10 by default)."
    )


class PaymentIn(_In):
    type: PaymentMethodType = Field(
        description="'card' (Visa, Mastercard, Maestro) or 'revolut_pay'."
    )
    stripe_payment_method_id: Annotated[
        str, StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,250}$")
    ] = Field(description="Stripe PaymentMethod id created by the storefront ('pm_...').")


class PlaceOrderRequest(_In):
    """The storefront's cart at payment time. Prices are never taken from the request."""

    contact: ContactIn = Field(description="Who placed the order (a guest gives an email).")
    lines: list[LineIn] = Field(max_length=1000, description="Products and quantities.")
    shipping_address: AddressIn = Field(description="Where the parcel goes.")
    billing_address: AddressIn = Field(description="Address printed on the invoice.")
    shipping_method: _Code = Field(
        description="Code of a shipping method from GET /shipping-methods."
    )
    payment: PaymentIn = Field(description="How the customer pays.")

    def fingerprint(self) -> str:
        """A digest of the request as received: the same key with another body is refused."""
        canonical = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def to_command(self) -> PlaceOrder:
        return PlaceOrder(
            contact=CustomerContact(
                customer_id=self.contact.customer_id,
                email=self.contact.email,
                first_name=self.contact.first_name,
                last_name=self.contact.last_name,
            ),
            lines=tuple(RequestedLine(line.sku, line.quantity) for line in self.lines),
            shipping_method=self.shipping_method,
            shipping_address=self.shipping_address.to_address(),
            billing_address=self.billing_address.to_address(),
            payment_method_type=self.payment.type,
            stripe_payment_method_id=self.payment.stripe_payment_method_id,
            fingerprint=self.fingerprint(),
        )


class LineChange(_In):
    sku: _Sku = Field(description="A product already in the order.")
    quantity: StrictInt = Field(description="New quantity; 0 removes the line.")


class ModifyOrderRequest(_In):
    """What to change; an absent field is left as it is."""

    shipping_address: AddressIn | None = Field(default=None, description="New shipping address.")
    billing_address: AddressIn | None = Field(default=None, description="New billing address.")
    shipping_method: _Code | None = Field(
        default=None, description="Code of another shipping method."
    )
    lines: list[LineChange] | None = Field(
        default=None,
        max_length=1000,
        description="New quantities of products already in the order (0 removes one); "
        "products cannot be added.",
    )
    expected_revision: StrictInt | None = Field(
        default=None,
        description="If given, the change applies only if the order is still at this revision "
        "(otherwise 409 revision_mismatch).",
    )

    def to_command(self) -> ModifyOrder:
        return ModifyOrder(
            shipping_address=self.shipping_address.to_address() if self.shipping_address else None,
            billing_address=self.billing_address.to_address() if self.billing_address else None,
            shipping_method=self.shipping_method,
            lines=tuple(RequestedLine(line.sku, line.quantity) for line in self.lines)
            if self.lines is not None
            else None,
            expected_revision=self.expected_revision,
        )


class CancelOrderRequest(_In):
    note: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), MultiLine] | None
    ) = Field(default=None, description="Optional message from the customer (several lines).")
