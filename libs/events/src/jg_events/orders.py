"""Checkout's events: the order lifecycle up to the hand-off (topic ``jg.checkout.orders``).

Lifecycle: OrderPlaced -> (payment authorised) OrderConfirmed -> zero or more OrderModified, or
OrderCancelled -> OrderReleased a few minutes after confirmation (the end of the modification
window). All are keyed by order id, so a modification or cancellation is always seen before the
release by every consumer.

Order revisions: an order is placed at revision 0; each OrderModified increments it. Payment
echoes the revision it authorised (``PaymentAuthorized.order_revision``), and derives its Stripe
idempotency keys from (order id, revision, step).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints, model_validator

from jg_events.common import (
    Address,
    DeliveryEstimate,
    OrderEvent,
    OrderLine,
    PaymentMethodType,
    ShippingMethod,
    Totals,
    lines_total,
    order_vat_shares,
)
from jg_events.envelope import UtcDatetime
from jg_events.money import Money
from jg_events.topics import Topic
from jg_events.vat import VatShare, goods_by_rate

__all__ = [
    "CancellationReason",
    "CancelledBy",
    "OrderCancelled",
    "OrderConfirmed",
    "OrderModified",
    "OrderPlaced",
    "OrderReleased",
    "OrderSnapshot",
]


class OrderSnapshot(OrderEvent):
    """The full content of an order at one revision (abstract base of the snapshot events)."""

    topic: ClassVar[Topic] = Topic.CHECKOUT_ORDERS

    revision: int = Field(
        ge=0, strict=True, description="0 when placed, incremented by every modification."
    )
    placed_at: UtcDatetime = Field(description="When the customer placed the order (UTC).")
    lines: tuple[OrderLine, ...] = Field(min_length=1, description="Products ordered.")
    totals: Totals = Field(description="Amounts, TTC, with the VAT included.")
    shipping_address: Address = Field(description="Where the parcel goes.")
    billing_address: Address = Field(description="Address printed on the invoice.")
    shipping_method: ShippingMethod = Field(description="Chosen shipping method and its price.")
    payment_method_type: PaymentMethodType = Field(
        description="How the customer pays: 'card' (Visa, Mastercard, Maestro) or 'revolut_pay'."
    )

    @model_validator(mode="after")
    def _totals_match_lines(self) -> OrderSnapshot:
        if self.totals.subtotal != lines_total(self.lines):
            raise ValueError("totals.subtotal is not the sum of the line totals")
        if self.totals.shipping != self.shipping_method.price:
            raise ValueError("totals.shipping is not the shipping method's price")
        if self.totals.vat_breakdown:
            goods = goods_by_rate((line.vat_rate, line.line_total) for line in self.lines)
            if {s.rate: s.goods for s in self.totals.vat_breakdown} != goods:
                raise ValueError("totals.vat_breakdown's goods are not the lines' per rate")
        return self

    def vat_shares(self) -> tuple[VatShare, ...]:
        """VAT per rate: as checkout computed it, or computed the same way for older events."""
        return self.totals.vat_breakdown or order_vat_shares(self.lines, self.totals.shipping)


class OrderPlaced(OrderSnapshot):
    """The storefront placed an order; checkout priced it and stored it.

    Producer: checkout, in the same transaction as the order (outbox), on ``POST /orders``.
    Consumers: payment (authorises a PaymentIntent for ``totals.total`` with the payment
    method), accounts (order history). No email is sent yet: the confirmation waits for payment.
    """

    event_type: ClassVar[str] = "OrderPlaced"
    schema_version: ClassVar[int] = 1

    stripe_payment_method_id: Annotated[str, StringConstraints(min_length=1, max_length=255)] = (
        Field(
            description="Stripe PaymentMethod id created client-side by the storefront "
            "(e.g. 'pm_...'); card data never reaches the platform."
        )
    )


class OrderConfirmed(OrderSnapshot):
    """The payment was authorised: the order is validated (the contract is formed).

    Producer: checkout, on PaymentAuthorized for the order's current revision.
    Consumers: notifications (the confirmation email: products, price paid, addresses, shipping
    method, order number, delivery estimate, how to modify or cancel until ``modifiable_until``,
    the right of withdrawal and its form), accounts (order history).
    """

    event_type: ClassVar[str] = "OrderConfirmed"
    schema_version: ClassVar[int] = 1

    delivery_estimate: DeliveryEstimate = Field(
        description="10 to 15 business days from validation, French public holidays excluded."
    )
    modifiable_until: UtcDatetime = Field(
        description="End of the modification window: until then the customer may modify or "
        "cancel; the order is released to fulfillment at that time."
    )


class OrderModified(OrderSnapshot):
    """The customer modified the order during the modification window.

    Producer: checkout, on ``PATCH /orders/{id}`` before release.
    Consumers: payment (when ``amount_changed``: authorises the new total and cancels the old
    hold, idempotency keyed by ``revision``), notifications (modification email), accounts.
    Carries the whole new snapshot, so a consumer never merges partial changes.
    """

    event_type: ClassVar[str] = "OrderModified"
    schema_version: ClassVar[int] = 1

    previous_total: Money = Field(description="Total TTC before this modification.")
    new_total: Money = Field(description="Total TTC after it (equals totals.total).")
    amount_changed: bool = Field(
        description="True when the total changed: payment must authorise the new amount."
    )
    restores_authorized_revision: int | None = Field(
        default=None,
        ge=0,
        strict=True,
        description="Set when checkout undid a modification whose new total was never "
        "authenticated in time (PaymentAuthenticationExpired): the lines and shipping method "
        "are back to those of this revision, whose hold still stands, so payment authorises "
        "nothing new; the customer is told the modification was not applied.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> OrderModified:
        if self.revision < 1:
            raise ValueError("a modified order has revision >= 1")
        if self.new_total != self.totals.total:
            raise ValueError("new_total must equal totals.total")
        if self.amount_changed != (self.previous_total != self.new_total):
            raise ValueError("amount_changed must say whether previous_total != new_total")
        return self


class OrderReleased(OrderSnapshot):
    """The modification window ended: the order is handed off and can no longer change.

    Producer: checkout's durable scheduler, ``modifiable_until`` after confirmation, on the
    order's partition (after any OrderModified/OrderCancelled).
    Consumers: payment (captures ``totals.total``), fulfillment (reserves stock, then
    OrderProcessing or Backordered), accounts (status).
    """

    event_type: ClassVar[str] = "OrderReleased"
    schema_version: ClassVar[int] = 1

    delivery_estimate: DeliveryEstimate = Field(
        description="Delivery window promised at confirmation."
    )


class CancellationReason(StrEnum):
    """Why an order was cancelled before release."""

    CUSTOMER_REQUEST = "customer_request"
    CUSTOMER_SERVICE = "customer_service"
    PAYMENT_NOT_COMPLETED = "payment_not_completed"  # e.g. 3-D Secure never completed
    OTHER = "other"


class CancelledBy(StrEnum):
    """Who cancelled."""

    CUSTOMER = "customer"
    CUSTOMER_SERVICE = "customer_service"
    SYSTEM = "system"


class OrderCancelled(OrderEvent):
    """The order was cancelled before release.

    Producer: checkout, on ``POST /orders/{id}/cancel`` (or an operator/system cancellation)
    during the modification window. A payment refusal is not a cancellation (PaymentRefused
    ends the order and has its own email).
    Consumers: payment (cancels the PaymentIntent: the hold is released, nothing is captured),
    notifications (cancellation email), accounts, fulfillment (forgets the order).
    """

    event_type: ClassVar[str] = "OrderCancelled"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[Topic] = Topic.CHECKOUT_ORDERS

    reason: CancellationReason = Field(description="Why the order was cancelled.")
    cancelled_by: CancelledBy = Field(description="Who cancelled it.")
    note: Annotated[str, StringConstraints(max_length=1000)] | None = Field(
        default=None, description="Free text from the customer or customer service, if any."
    )
    total: Money = Field(description="Total TTC of the order that was held and is released.")


ORDER_EVENTS = (OrderPlaced, OrderConfirmed, OrderModified, OrderCancelled, OrderReleased)
