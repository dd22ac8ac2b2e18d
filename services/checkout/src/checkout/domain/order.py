"""The order: its statuses, what it holds, the outcome of a decision, and its placement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from jg_events import (
    Address,
    CancellationReason,
    CancelledBy,
    CustomerContact,
    DeliveryEstimate,
    OrderLine,
    OrderPlaced,
    PaymentMethodType,
    ShippingMethod,
    Totals,
)

from checkout.domain.delivery import PARIS
from checkout.domain.pricing import (
    ShippingOption,
    compute_totals,
)


def order_number(placed_at: datetime, sequence_value: int) -> str:
    """Human order number: the year of placement (Paris time) and a unique sequence number."""
    return f"JG-{placed_at.astimezone(PARIS).year}-{sequence_value:06d}"


class Status(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAYMENT_ACTION_REQUIRED = "payment_action_required"
    PAYMENT_REFUSED = "payment_refused"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    RELEASED = "released"
    BACKORDERED = "backordered"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"


STATUS_LABELS: dict[Status, str] = {
    Status.PENDING_PAYMENT: "En attente de l'autorisation du paiement",
    Status.PAYMENT_ACTION_REQUIRED: "Authentification du paiement requise (3-D Secure)",
    Status.PAYMENT_REFUSED: "Paiement refusé",
    Status.CONFIRMED: "Commande validée (modifiable)",
    Status.CANCELLED: "Commande annulée",
    Status.RELEASED: "Transmise à nos équipes logistiques",
    Status.BACKORDERED: "En cours de réapprovisionnement",
    Status.PROCESSING: "En cours de traitement",
    Status.SHIPPED: "Expédiée",
    Status.DELIVERED: "Livrée",
}

BEFORE_PAYMENT = frozenset({Status.PENDING_PAYMENT, Status.PAYMENT_ACTION_REQUIRED})
CANCELLABLE = BEFORE_PAYMENT | {Status.CONFIRMED}
ENDED = frozenset({Status.PAYMENT_REFUSED, Status.CANCELLED})
# After the hand-off; a later event never moves the status back (topics are not ordered
# between each other: a Shipped may be read before the OrderProcessing it follows).
HANDED_OFF_RANK: dict[Status, int] = {
    Status.RELEASED: 0,
    Status.BACKORDERED: 1,
    Status.PROCESSING: 2,
    Status.SHIPPED: 3,
    Status.DELIVERED: 4,
}


@dataclass(frozen=True)
class NextAction:
    """The authentication the customer must complete (3-D Secure), while it is pending.

    ``client_secret`` is the PaymentIntent's, for Stripe.js (``handleNextAction``): shown only
    to the order's owner and never logged (out of the repr); it goes with the action.
    """

    type: str
    url: str
    payment_intent_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class AuthorizedContent:
    """What the latest authorised hold covers: the lines and shipping method of that revision
    (the addresses do not change the amount). A modification whose new total is never
    authenticated goes back to it."""

    revision: int
    lines: tuple[OrderLine, ...]
    shipping_method: ShippingMethod


@dataclass(frozen=True)
class Tracking:
    carrier: str
    number: str
    url: str


@dataclass(frozen=True)
class Cancellation:
    reason: CancellationReason
    cancelled_by: CancelledBy
    note: str | None
    at: datetime


@dataclass(frozen=True)
class Refusal:
    reason: str
    at: datetime


@dataclass(frozen=True)
class TimelineEntry:
    """Something that happened to the order, shown to the customer (label in French)."""

    at: datetime
    kind: str
    label: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Order:
    id: UUID
    number: str
    status: Status
    revision: int
    amount_revision: int  # the revision at which the total last changed
    authorized_revision: int | None  # the latest revision payment authorised
    customer: CustomerContact
    lines: tuple[OrderLine, ...]
    totals: Totals
    shipping_address: Address
    billing_address: Address
    shipping_method: ShippingMethod
    payment_method_type: PaymentMethodType
    stripe_payment_method_id: str
    placed_at: datetime
    correlation_id: str
    confirmed_at: datetime | None = None
    release_at: datetime | None = None
    released_at: datetime | None = None
    delivery: DeliveryEstimate | None = None
    next_action: NextAction | None = None
    refusal: Refusal | None = None
    cancellation: Cancellation | None = None
    tracking: Tracking | None = None
    authorized_content: AuthorizedContent | None = None

    @property
    def modifiable(self) -> bool:
        return self.status is Status.CONFIRMED

    @property
    def cancellable(self) -> bool:
        return self.status in CANCELLABLE

    @property
    def amount_authorized(self) -> bool:
        return self.authorized_revision is not None and (
            self.authorized_revision >= self.amount_revision
        )

    def snapshot_fields(self) -> dict[str, Any]:
        return {
            "order_id": self.id,
            "order_number": self.number,
            "customer": self.customer,
            "revision": self.revision,
            "placed_at": self.placed_at,
            "lines": self.lines,
            "totals": self.totals,
            "shipping_address": self.shipping_address,
            "billing_address": self.billing_address,
            "shipping_method": self.shipping_method,
            "payment_method_type": self.payment_method_type,
        }


@dataclass(frozen=True)
class Outcome:
    """What a command or an event did: the new order, what to add to its timeline, what to publish.

    ``order`` is None when nothing changed (a stale or irrelevant event).
    """

    order: Order | None
    timeline: tuple[TimelineEntry, ...] = ()
    events: tuple[Any, ...] = ()


NOTHING = Outcome(order=None)


def place(
    *,
    order_id: UUID,
    sequence_value: int,
    customer: CustomerContact,
    lines: tuple[OrderLine, ...],
    shipping: ShippingOption,
    shipping_address: Address,
    billing_address: Address,
    payment_method_type: PaymentMethodType,
    stripe_payment_method_id: str,
    now: datetime,
    correlation_id: str,
) -> Outcome:
    method = shipping.as_method()
    order = Order(
        id=order_id,
        number=order_number(now, sequence_value),
        status=Status.PENDING_PAYMENT,
        revision=0,
        amount_revision=0,
        authorized_revision=None,
        customer=customer,
        lines=lines,
        totals=compute_totals(lines, method),
        shipping_address=shipping_address,
        billing_address=billing_address,
        shipping_method=method,
        payment_method_type=payment_method_type,
        stripe_payment_method_id=stripe_payment_method_id,
        placed_at=now,
        correlation_id=correlation_id,
    )
    placed = OrderPlaced(
        **order.snapshot_fields(), stripe_payment_method_id=stripe_payment_method_id
    )
    entry = TimelineEntry(now, "placed", "Commande enregistrée, paiement en cours d'autorisation")
    return Outcome(order, (entry,), (placed,))
