"""Fulfillment's events: hand-off, backorders, shipments, returns and claims.

OrderProcessing goes to the logistics team on ``jg.logistics.requests``; everything else is on
``jg.fulfillment.orders``. All keyed by order id. Consumers reading both topics must not assume
an order between them (a Shipped may be read before the OrderProcessing it follows).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field, StringConstraints, model_validator

from jg_events.common import (
    Address,
    Carrier,
    DeliveryEstimate,
    HttpUrl,
    ItemQuantity,
    OrderEvent,
    RefundCause,
    ShippingMethod,
    Sku,
    ValueObject,
)
from jg_events.envelope import UtcDatetime
from jg_events.money import Money, Quantity, VatRate
from jg_events.topics import Topic

__all__ = [
    "Backordered",
    "BackorderedLine",
    "ClaimKind",
    "ClaimOpened",
    "ClaimResolution",
    "ClaimResolved",
    "Delivered",
    "OrderProcessing",
    "PickLine",
    "RefundLine",
    "RefundRequested",
    "ReturnAccepted",
    "ReturnItem",
    "ReturnRejected",
    "ReturnRejectionReason",
    "Shipped",
]

_Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
_LongText = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
TrackingNumber = Annotated[str, StringConstraints(min_length=1, max_length=64)]


# --- Value objects ---------------------------------------------------------------------------


class PickLine(ValueObject):
    """A line the logistics team picks and packs."""

    sku: Sku = Field(description="Product reference.")
    name: _Text = Field(description="Product name in French.")
    name_ja: _Text | None = Field(
        default=None, description="Japanese product name for the warehouse, when known."
    )
    name_romaji: _Text | None = Field(
        default=None,
        description="The Japanese name in romaji (Latin letters), for staff who do not read "
        "kana or kanji, when known.",
    )
    quantity: Quantity = Field(description="Number of items to pack.")
    unit_price: Money = Field(
        description="Unit price paid, TTC, for the customs declaration of the parcel."
    )


class BackorderedLine(ValueObject):
    """A line that could not be reserved in full."""

    sku: Sku = Field(description="Product reference.")
    name: _Text = Field(description="Product name in French.")
    quantity_ordered: Quantity = Field(description="Items ordered on this line.")
    quantity_missing: Quantity = Field(description="Items waiting for replenishment.")

    @model_validator(mode="after")
    def _missing_le_ordered(self) -> BackorderedLine:
        if self.quantity_missing > self.quantity_ordered:
            raise ValueError("quantity_missing cannot exceed quantity_ordered")
        return self


class ReturnItem(ValueObject):
    """Items the customer sends back."""

    sku: Sku = Field(description="Product reference.")
    name: _Text = Field(description="Product name in French.")
    quantity: Quantity = Field(description="Number of items returned.")
    unit_price: Money = Field(description="Unit price paid, TTC.")


class RefundLine(ValueObject):
    """What is refunded for one product (for the credit note)."""

    sku: Sku = Field(description="Product reference.")
    name: _Text = Field(description="Product name in French.")
    quantity: Quantity = Field(description="Number of items refunded.")
    unit_price: Money = Field(description="Unit price paid, TTC.")
    vat_rate: VatRate = Field(description="VAT rate of the product, in percent.")
    amount: Money = Field(description="Amount refunded for this line, TTC (at most the price).")

    @model_validator(mode="after")
    def _amount_le_paid(self) -> RefundLine:
        if self.amount > self.unit_price * self.quantity:
            raise ValueError("a line cannot refund more than was paid for it")
        return self


# --- Hand-off and shipment -------------------------------------------------------------------


class OrderProcessing(OrderEvent):
    """The order's stock is reserved: the logistics team may pick, pack and ship it.

    Producer: fulfillment, on OrderReleased when every line is in stock, or when a backorder
    is replenished (oldest first).
    Consumers: the logistics team (pick list and shipping label), notifications (the
    "en cours de traitement" email), checkout and accounts (status).
    """

    event_type: ClassVar[str] = "OrderProcessing"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[Topic] = Topic.LOGISTICS_REQUESTS

    lines: tuple[PickLine, ...] = Field(min_length=1, description="What to pick and pack.")
    shipping_address: Address = Field(description="Where the parcel goes (with phone if given).")
    shipping_method: ShippingMethod = Field(description="The shipping method the customer chose.")
    delivery_estimate: DeliveryEstimate = Field(description="Delivery window promised.")


class Backordered(OrderEvent):
    """Some stock ran out after validation: the order waits for replenishment.

    Producer: fulfillment, on OrderReleased when a line cannot be reserved in full.
    Consumers: notifications ("en cours de réapprovisionnement" email with the items and the
    new estimate), checkout and accounts (status). The order proceeds to OrderProcessing when
    stock is replenished.
    """

    event_type: ClassVar[str] = "Backordered"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[Topic] = Topic.FULFILLMENT_ORDERS

    missing_lines: tuple[BackorderedLine, ...] = Field(
        min_length=1, description="Lines waiting for stock."
    )
    delivery_estimate: DeliveryEstimate = Field(description="New expected delivery window.")


class Shipped(OrderEvent):
    """The carrier picked the parcel up.

    Producer: fulfillment, on the logistics team's ParcelPickedUp report.
    Consumers: notifications (tracking email), payment (issues the invoice), checkout and
    accounts (status and "suivre mon colis" link).
    """

    event_type: ClassVar[str] = "Shipped"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[Topic] = Topic.FULFILLMENT_ORDERS

    carrier: Carrier = Field(description="Carrier carrying the parcel.")
    tracking_number: TrackingNumber = Field(description="Carrier's tracking number.")
    tracking_url: HttpUrl = Field(description="Public tracking page of the parcel.")
    items: tuple[ItemQuantity, ...] = Field(min_length=1, description="Items in the parcel.")
    shipped_at: UtcDatetime = Field(description="When the carrier picked the parcel up (UTC).")
    delivery_estimate: DeliveryEstimate = Field(description="Expected delivery window.")


class Delivered(OrderEvent):
    """The parcel was delivered; the 14-day withdrawal period starts.

    Producer: fulfillment, on the logistics team's ParcelDelivered report.
    Consumers: checkout and accounts (status), notifications (optional delivery email).
    """

    event_type: ClassVar[str] = "Delivered"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[Topic] = Topic.FULFILLMENT_ORDERS

    tracking_number: TrackingNumber = Field(description="Tracking number of the parcel.")
    delivered_at: UtcDatetime = Field(description="When the parcel was delivered (UTC).")
    withdrawal_deadline: date = Field(
        description="Last day to notify a withdrawal (14 days from delivery of the last item)."
    )


# --- Returns (withdrawal) --------------------------------------------------------------------


class ReturnAccepted(OrderEvent):
    """A return (withdrawal) request was accepted; the customer may send the items back.

    Producer: fulfillment, on ``POST /orders/{id}/returns`` within the withdrawal period.
    Consumers: notifications (email with the instructions), accounts. The logistics team
    reports the parcel's arrival with ReturnReceived (same ``return_id``).
    """

    event_type: ClassVar[str] = "ReturnAccepted"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[Topic] = Topic.FULFILLMENT_ORDERS

    return_id: UUID = Field(description="Return id; to be written on the parcel.")
    items: tuple[ReturnItem, ...] = Field(min_length=1, description="Items to send back.")
    instructions: _LongText = Field(
        description="How to send the items back (French, shown to the customer)."
    )
    send_before: date = Field(description="Last day to send the items back.")
    expected_refund: Money = Field(
        description="Amount refunded once the items are received in the stated condition."
    )


class ReturnRejectionReason(StrEnum):
    """Why a return was refused."""

    WITHDRAWAL_PERIOD_EXPIRED = "withdrawal_period_expired"
    NOT_DELIVERED = "not_delivered"
    SALE_ITEM_EXCLUDED = "sale_item_excluded"
    ITEMS_NOT_IN_ORDER = "items_not_in_order"
    ALREADY_RETURNED = "already_returned"
    ITEM_USED_OR_DAMAGED = "item_used_or_damaged"
    OTHER = "other"


class ReturnRejected(OrderEvent):
    """A return was refused, at request time or when the items arrived.

    Producer: fulfillment (``POST /orders/{id}/returns`` outside the rules, or a ReturnReceived
    showing used items).
    Consumers: notifications (email with the reason), accounts.
    """

    event_type: ClassVar[str] = "ReturnRejected"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[Topic] = Topic.FULFILLMENT_ORDERS

    return_id: UUID = Field(description="Return id.")
    reason: ReturnRejectionReason = Field(description="Machine reason.")
    message: _LongText = Field(description="Explanation in French, shown to the customer.")
    items: tuple[ItemQuantity, ...] = Field(default=(), description="Items concerned, when known.")


class RefundRequested(OrderEvent):
    """Fulfillment asks payment to refund the customer.

    Producer: fulfillment, when a returned parcel is received in order (ReturnReceived), or
    when customer service resolves a claim by refund.
    Consumers: payment (Stripe refund of ``amount``, then RefundIssued and a credit note built
    from ``lines`` and ``shipping_refund``).
    """

    event_type: ClassVar[str] = "RefundRequested"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[Topic] = Topic.FULFILLMENT_ORDERS

    refund_request_id: UUID = Field(
        description="Id of this request; payment's idempotency key for the refund."
    )
    cause: RefundCause = Field(description="'return' or 'claim'.")
    reference_id: UUID = Field(description="The return id or claim id.")
    lines: tuple[RefundLine, ...] = Field(description="Products refunded.")
    shipping_refund: Money = Field(
        description="Part of the shipping refunded (standard delivery, on a full withdrawal)."
    )
    amount: Money = Field(description="Total to refund: lines + shipping_refund, TTC.")

    @model_validator(mode="after")
    def _amount_is_sum(self) -> RefundRequested:
        lines = sum((line.amount for line in self.lines), Decimal("0.00"))
        if self.amount != lines + self.shipping_refund:
            raise ValueError("amount must equal the sum of line amounts plus shipping_refund")
        if self.amount <= 0:
            raise ValueError("a refund request is for a positive amount")
        return self


# --- Claims (after-sales) --------------------------------------------------------------------


class ClaimKind(StrEnum):
    """What the customer reports."""

    MISSING_ITEM = "missing_item"
    DAMAGED_ITEM = "damaged_item"


class ClaimResolution(StrEnum):
    """How customer service resolved a claim."""

    RESHIP = "reship"
    REFUND = "refund"
    REJECTED = "rejected"


class ClaimOpened(OrderEvent):
    """The customer opened an after-sales claim (missing or damaged item).

    Producer: fulfillment, on ``POST /orders/{id}/claims`` with its photos stored.
    Consumers: notifications (acknowledgement email), accounts.
    """

    event_type: ClassVar[str] = "ClaimOpened"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[Topic] = Topic.FULFILLMENT_ORDERS

    claim_id: UUID = Field(description="Claim id.")
    kind: ClaimKind = Field(description="'missing_item' or 'damaged_item'.")
    items: tuple[ItemQuantity, ...] = Field(min_length=1, description="Items concerned.")
    message: Annotated[str, StringConstraints(max_length=4000)] | None = Field(
        default=None, description="The customer's description, if any."
    )
    tracking_number: TrackingNumber | None = Field(
        default=None, description="Tracking number given by the customer (missing item)."
    )
    photo_count: int = Field(ge=0, strict=True, description="Number of photos attached.")


class ClaimResolved(OrderEvent):
    """Customer service resolved a claim.

    Producer: fulfillment, when customer service records the decision (a refund also produces
    a RefundRequested; a reship goes through the logistics team).
    Consumers: notifications (resolution email), accounts.
    """

    event_type: ClassVar[str] = "ClaimResolved"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[Topic] = Topic.FULFILLMENT_ORDERS

    claim_id: UUID = Field(description="Claim id.")
    kind: ClaimKind = Field(description="'missing_item' or 'damaged_item'.")
    resolution: ClaimResolution = Field(description="'reship', 'refund' or 'rejected'.")
    items: tuple[ItemQuantity, ...] = Field(
        min_length=1, description="Items the resolution covers."
    )
    amount: Money | None = Field(
        default=None, description="Amount refunded, TTC; set only for a 'refund' resolution."
    )
    message: _LongText | None = Field(
        default=None, description="Customer service's note to the customer (French)."
    )

    @model_validator(mode="after")
    def _amount_iff_refund(self) -> ClaimResolved:
        if (self.resolution is ClaimResolution.REFUND) != (self.amount is not None):
            raise ValueError("amount is set for a refund resolution, and only then")
        return self


FULFILLMENT_EVENTS = (
    OrderProcessing,
    Backordered,
    Shipped,
    Delivered,
    ReturnAccepted,
    ReturnRejected,
    RefundRequested,
    ClaimOpened,
    ClaimResolved,
)
