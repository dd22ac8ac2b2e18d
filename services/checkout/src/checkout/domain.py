"""Checkout's rules: pricing, order numbers, the delivery estimate and the order's life.

Pure and synchronous: no I/O. The routes and handlers load an :class:`Order`, call one function
here, then persist the new order, its timeline entries and the events it returns.

Life of an order (statuses)::

    pending_payment ──PaymentActionRequired──> payment_action_required
        │  └──────────────PaymentAuthorized──────────┐        │
        │                                            v        v
        ├──PaymentRefused──> payment_refused    confirmed <───┘ (PaymentAuthorized)
        ├──cancel──> cancelled <──cancel───────────  │  (PATCH: modified, still confirmed)
        │                                            │ release_at reached, amount authorised
        │                                            v
        │                                        released ──> backordered ──> processing
        │                                                         shipped ──> delivered

An order can be modified only while ``confirmed`` and cancelled while it is not yet released
(``pending_payment``, ``payment_action_required``, ``confirmed``). ``released`` and every later
status are past the hand-off: both are refused with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import holidays
from jg_events import (
    Address,
    CancellationReason,
    CancelledBy,
    CustomerContact,
    DeliveryEstimate,
    OrderCancelled,
    OrderConfirmed,
    OrderLine,
    OrderModified,
    OrderPlaced,
    OrderReleased,
    PaymentMethodType,
    ShippingMethod,
    Totals,
    VatShare,
    order_vat_shares,
)
from jg_events.money import ZERO

PARIS = ZoneInfo("Europe/Paris")


# --- Errors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One reason a request is refused, attached to a field (dotted path, e.g. ``lines.0.sku``)."""

    field: str
    code: str
    message: str


class OrderRejectedError(Exception):
    """The request cannot be accepted as it is (HTTP 422); nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.code}" for p in problems))
        self.problems = tuple(problems)


class ConflictError(Exception):
    """The order's state forbids the command (HTTP 409), with a machine code and a reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


# --- Catalogue, shipping and pricing ---------------------------------------------------------


class ProductCategory(StrEnum):
    """What a product is, as far as its VAT rate is concerned (stored in the catalogue)."""

    TEA = "tea"  # tea, matcha, infusions: food
    FOOD = "food"  # other food for human consumption
    OTHER = "other"  # every other good: tableware, textiles, decoration, toys, incense...


REDUCED_RATE = Decimal("5.50")
STANDARD_RATE = Decimal("20.00")

VAT_RATE_BY_CATEGORY: dict[ProductCategory, Decimal] = {
    # CGI art. 278-0 bis A, 1°: food for human consumption (tea included) at 5.5 %.
    ProductCategory.TEA: REDUCED_RATE,
    ProductCategory.FOOD: REDUCED_RATE,
    # CGI art. 278: the standard rate.
    ProductCategory.OTHER: STANDARD_RATE,
}


def vat_rate_of(category: ProductCategory) -> Decimal:
    """The VAT rate (percent) of a product of ``category`` sold in France."""
    return VAT_RATE_BY_CATEGORY[category]


class CatalogueError(ValueError):
    """A catalogue entry contradicts a rule (e.g. a VAT rate that is not its category's)."""


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: Decimal  # TTC, euros, two decimals
    category: ProductCategory
    on_sale: bool
    active: bool

    @property
    def vat_rate(self) -> Decimal:
        """Percent, e.g. ``Decimal("5.50")``: always the rate of the product's category."""
        return vat_rate_of(self.category)


@dataclass(frozen=True)
class ShippingOption:
    code: str
    label: str
    price: Decimal
    vat_rate: Decimal
    transit_days_min: int
    transit_days_max: int

    def as_method(self) -> ShippingMethod:
        return ShippingMethod(
            code=self.code, label=self.label, price=self.price, vat_rate=self.vat_rate
        )


@dataclass(frozen=True)
class Limits:
    max_lines: int = 30
    max_quantity_per_line: int = 10


@dataclass(frozen=True)
class RequestedLine:
    sku: str
    quantity: int


def price_lines(
    requested: Sequence[RequestedLine], catalogue: Mapping[str, Product], limits: Limits
) -> tuple[OrderLine, ...]:
    """Price the requested lines from the catalogue only; every problem is reported at once.

    The same sku on two lines is merged into one line (quantities added), so an order has one
    line per product, and the quantity limit applies to the merged line.
    """
    problems: list[Problem] = []
    if not requested:
        problems.append(
            Problem("lines", "no_lines", "La commande doit contenir au moins un article.")
        )
    if len(requested) > limits.max_lines:
        problems.append(
            Problem(
                "lines",
                "too_many_lines",
                f"Une commande ne peut pas dépasser {limits.max_lines} lignes "
                f"({len(requested)} reçues).",
            )
        )
    merged: dict[str, int] = {}
    first_index: dict[str, int] = {}
    for index, line in enumerate(requested):
        product = catalogue.get(line.sku)
        if product is None:
            problems.append(
                Problem(
                    f"lines.{index}.sku",
                    "unknown_sku",
                    f"L'article « {line.sku} » n'existe pas dans notre catalogue.",
                )
            )
        elif not product.active:
            problems.append(
                Problem(
                    f"lines.{index}.sku",
                    "inactive_sku",
                    f"L'article « {product.name} » n'est plus disponible à la vente.",
                )
            )
        if not 1 <= line.quantity <= limits.max_quantity_per_line:
            problems.append(_quantity_problem(index, line.quantity, limits))
            continue
        merged[line.sku] = merged.get(line.sku, 0) + line.quantity
        first_index.setdefault(line.sku, index)
    for sku, quantity in merged.items():
        if quantity > limits.max_quantity_per_line and sku in catalogue:
            problems.append(_quantity_problem(first_index[sku], quantity, limits))
    if problems:
        raise OrderRejectedError(problems)
    return tuple(_line(catalogue[sku], quantity) for sku, quantity in merged.items())


def _quantity_problem(index: int, quantity: int, limits: Limits) -> Problem:
    return Problem(
        f"lines.{index}.quantity",
        "quantity_out_of_range",
        f"La quantité doit être comprise entre 1 et {limits.max_quantity_per_line} "
        f"par article ({quantity} demandée).",
    )


def _line(product: Product, quantity: int) -> OrderLine:
    return OrderLine(
        sku=product.sku,
        name=product.name,
        quantity=quantity,
        unit_price=product.price,
        vat_rate=product.vat_rate,
        line_total=product.price * quantity,
        on_sale=product.on_sale,
    )


def vat_breakdown(lines: Iterable[OrderLine], shipping: ShippingMethod) -> tuple[VatShare, ...]:
    """VAT per rate; the shipping follows the goods, split pro rata of their amounts excl. VAT.

    The shipping method's own ``vat_rate`` plays no part: shipping is an accessory of the goods
    it carries (CGI art. 267), see :mod:`jg_events.vat`.
    """
    return order_vat_shares(lines, shipping.price)


def compute_totals(lines: Sequence[OrderLine], shipping: ShippingMethod) -> Totals:
    """Exact totals TTC: lines, shipping, and the VAT they include, with its breakdown per rate."""
    subtotal = sum((line.line_total for line in lines), ZERO)
    breakdown = vat_breakdown(lines, shipping)
    return Totals(
        subtotal=subtotal,
        shipping=shipping.price,
        total=subtotal + shipping.price,
        vat=sum((v.vat for v in breakdown), ZERO),
        vat_breakdown=breakdown,
    )


def stored_totals(
    lines: Sequence[OrderLine],
    *,
    subtotal: Decimal,
    shipping: Decimal,
    total: Decimal,
    vat: Decimal,
) -> Totals:
    """The totals of a stored order, with their breakdown per rate worked out again.

    An order priced before the shipping followed the goods' rates keeps the VAT it was priced
    with: when the breakdown computed now does not add up to it, none is attached.
    """
    breakdown = order_vat_shares(lines, shipping)
    if sum((v.vat for v in breakdown), ZERO) != vat:
        breakdown = ()
    return Totals(
        subtotal=subtotal, shipping=shipping, total=total, vat=vat, vat_breakdown=breakdown
    )


def select_shipping(code: str, options: Mapping[str, ShippingOption], field: str) -> ShippingOption:
    option = options.get(code)
    if option is None:
        known = ", ".join(sorted(options))
        raise OrderRejectedError(
            [
                Problem(
                    field,
                    "unknown_shipping_method",
                    f"Le mode de livraison « {code} » n'existe pas (modes proposés : {known}).",
                )
            ]
        )
    return option


def check_address(address: Address, field: str) -> list[Problem]:
    """Rules beyond the shape: a French postal code has five digits."""
    problems = []
    if address.country_code == "FR" and not (
        len(address.postal_code) == 5 and address.postal_code.isdigit()
    ):
        problems.append(
            Problem(
                f"{field}.postal_code",
                "invalid_postal_code",
                "Un code postal français comporte cinq chiffres.",
            )
        )
    return problems


# --- Order numbers and the delivery estimate -------------------------------------------------


def order_number(placed_at: datetime, sequence_value: int) -> str:
    """Human order number: the year of placement (Paris time) and a unique sequence number."""
    return f"JG-{placed_at.astimezone(PARIS).year}-{sequence_value:06d}"


@lru_cache(maxsize=16)
def _french_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("FR", years=year))


def is_business_day(day: date) -> bool:
    """Monday to Friday, except French public holidays."""
    return day.weekday() < 5 and day not in _french_holidays(day.year)


def add_business_days(start: date, days: int) -> date:
    """The ``days``-th business day after ``start`` (``start`` itself is not counted)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current


def delivery_estimate(
    validated_at: datetime, min_days: int = 10, max_days: int = 15
) -> DeliveryEstimate:
    """10 to 15 business days from validation (Paris date), French public holidays excluded."""
    day = validated_at.astimezone(PARIS).date()
    return DeliveryEstimate(
        earliest=add_business_days(day, min_days), latest=add_business_days(day, max_days)
    )


# --- The order -------------------------------------------------------------------------------


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


# --- Payment outcomes ------------------------------------------------------------------------


def payment_authorized(
    order: Order,
    *,
    order_revision: int,
    now: datetime,
    release_delay: timedelta,
    delivery_days: tuple[int, int] = (10, 15),
) -> Outcome:
    """Confirm the order on the first authorisation of its current amount.

    A later authorisation (after a modification that changed the amount) only records that the
    new amount is held; a stale one (for an amount since changed) and one for an ended or
    released order change nothing.
    """
    if order_revision < order.amount_revision or (
        order.authorized_revision is not None and (order_revision <= order.authorized_revision)
    ):
        return NOTHING
    if order.status in BEFORE_PAYMENT:
        estimate = delivery_estimate(now, *delivery_days)
        release_at = now + release_delay
        confirmed = replace(
            order,
            status=Status.CONFIRMED,
            authorized_revision=order_revision,
            authorized_content=_covered(order, order_revision),
            confirmed_at=now,
            release_at=release_at,
            delivery=estimate,
            next_action=None,
        )
        event = OrderConfirmed(
            **confirmed.snapshot_fields(), delivery_estimate=estimate, modifiable_until=release_at
        )
        entry = TimelineEntry(
            now,
            "confirmed",
            "Paiement autorisé, commande validée",
            {"modifiable_until": release_at.isoformat()},
        )
        return Outcome(confirmed, (entry,), (event,))
    if order.status is Status.CONFIRMED:
        updated = replace(
            order,
            authorized_revision=order_revision,
            authorized_content=_covered(order, order_revision),
            next_action=None,
        )
        entry = TimelineEntry(now, "payment_reauthorized", "Nouveau montant autorisé")
        return Outcome(updated, (entry,))
    return NOTHING


def _covered(order: Order, revision: int) -> AuthorizedContent:
    return AuthorizedContent(
        revision=revision, lines=order.lines, shipping_method=order.shipping_method
    )


def authentication_expired(
    order: Order, *, order_revision: int, held_revision: int, now: datetime
) -> Outcome:
    """A modification's new total stayed unauthenticated past payment's timeout.

    The hold of an earlier revision still stands: the order goes back to the lines and
    shipping method it covers (a new revision, OrderModified with
    ``restores_authorized_revision``, so payment authorises nothing and the customer is told
    by email), and is released on that amount when its window ends. An order modified again
    since, authorised since, or no longer before release changes nothing. Without a record of
    what the hold covers (an order authorised before that record existed), the order is
    cancelled by the system rather than left waiting: every hold is released.
    """
    if (
        order.status is not Status.CONFIRMED
        or order_revision < order.amount_revision
        or order.amount_authorized
    ):
        return NOTHING
    content = order.authorized_content
    if content is None or content.revision != held_revision:
        return cancel(
            order,
            reason=CancellationReason.PAYMENT_NOT_COMPLETED,
            cancelled_by=CancelledBy.SYSTEM,
            note=None,
            now=now,
        )
    revision = order.revision + 1
    restored = replace(
        order,
        revision=revision,
        amount_revision=content.revision,
        lines=content.lines,
        shipping_method=content.shipping_method,
        totals=compute_totals(content.lines, content.shipping_method),
        next_action=None,
    )
    event = OrderModified(
        **restored.snapshot_fields(),
        previous_total=order.totals.total,
        new_total=restored.totals.total,
        amount_changed=restored.totals.total != order.totals.total,
        restores_authorized_revision=content.revision,
    )
    entry = TimelineEntry(
        now,
        "modification_not_authenticated",
        "Authentification bancaire non effectuée à temps : modification non appliquée, "
        "commande rétablie",
        {
            "revision": revision,
            "abandoned_revision": order_revision,
            "restored_revision": content.revision,
            "previous_total": str(order.totals.total),
            "new_total": str(restored.totals.total),
        },
    )
    return Outcome(restored, (entry,), (event,))


def payment_action_required(
    order: Order, *, order_revision: int, action: NextAction, now: datetime
) -> Outcome:
    """3-D Secure: expose the next step (not a failure)."""
    if order_revision < order.amount_revision or order.status not in CANCELLABLE:
        return NOTHING
    if order.authorized_revision is not None and order_revision <= order.authorized_revision:
        return NOTHING
    status = Status.PAYMENT_ACTION_REQUIRED if order.status in BEFORE_PAYMENT else order.status
    updated = replace(order, status=status, next_action=action)
    entry = TimelineEntry(
        now,
        "payment_action_required",
        "Authentification 3-D Secure demandée par votre banque",
        {"next_action_type": action.type},
    )
    return Outcome(updated, (entry,))


REFUSAL_LABELS: dict[str, str] = {
    "incorrect_card_details": "coordonnées bancaires incorrectes",
    "limit_reached": "plafond de paiement atteint",
    "insufficient_funds": "fonds insuffisants",
    "authentication_failed": "échec de l'authentification",
    "unsupported_method": "moyen de paiement non accepté",
    "other": "refus de la banque",
}


def payment_refused(order: Order, *, order_revision: int, reason: str, now: datetime) -> Outcome:
    """A refusal of the current amount ends the order (before release); stale ones are ignored."""
    if order_revision < order.amount_revision or order.status not in CANCELLABLE:
        return NOTHING
    ended = replace(
        order,
        status=Status.PAYMENT_REFUSED,
        refusal=Refusal(reason=reason, at=now),
        next_action=None,
        release_at=None,
    )
    label = REFUSAL_LABELS.get(reason, REFUSAL_LABELS["other"])
    entry = TimelineEntry(now, "payment_refused", f"Paiement refusé : {label}", {"reason": reason})
    return Outcome(ended, (entry,))


def payment_captured(order: Order, *, now: datetime) -> Outcome:
    return Outcome(order, (TimelineEntry(now, "payment_captured", "Paiement encaissé"),))


def payment_cancelled(
    order: Order, *, reason: str, now: datetime, order_revision: int | None = None
) -> Outcome:
    """A released hold. An expired authorisation before release cancels the order (system).

    The hold of an amount the order has since changed (``order_revision`` older than the
    current amount) is only recorded: the newest amount's authorisation decides the order.
    """
    stale = order_revision is not None and order_revision < order.amount_revision
    if reason == "superseded" or stale:
        return Outcome(
            order,
            (TimelineEntry(now, "payment_superseded", "Ancienne autorisation de paiement levée"),),
        )
    entry = TimelineEntry(now, "payment_cancelled", "Autorisation de paiement levée")
    if reason == "order_cancelled" or not order.cancellable:
        return Outcome(order, (entry,))
    cancelled = cancel(
        order,
        reason=CancellationReason.PAYMENT_NOT_COMPLETED,
        cancelled_by=CancelledBy.SYSTEM,
        note=None,
        now=now,
    )
    return Outcome(cancelled.order, (entry, *cancelled.timeline), cancelled.events)


# --- Customer commands during the window -----------------------------------------------------


def refuse_if_past_window(order: Order, *, modification: bool) -> None:
    """Raise :class:`ConflictError` with the reason when the order can no longer change."""
    if order.status in HANDED_OFF_RANK:
        raise ConflictError(
            "order_released",
            "Votre commande a déjà été transmise à nos équipes logistiques : elle ne peut plus "
            "être modifiée ni annulée. Après réception, vous pourrez exercer votre droit de "
            "rétractation.",
        )
    if order.status is Status.CANCELLED:
        raise ConflictError("order_cancelled", "Cette commande a déjà été annulée.")
    if order.status is Status.PAYMENT_REFUSED:
        raise ConflictError(
            "payment_refused",
            "Le paiement de cette commande a été refusé : elle ne peut pas être modifiée.",
        )
    if modification and order.status in BEFORE_PAYMENT:
        raise ConflictError(
            "payment_pending",
            "Le paiement de cette commande est en cours d'autorisation : elle pourra être "
            "modifiée une fois validée.",
        )


def cancel(
    order: Order,
    *,
    reason: CancellationReason,
    cancelled_by: CancelledBy,
    note: str | None,
    now: datetime,
) -> Outcome:
    """Cancel before release; cancelling a cancelled order again changes nothing."""
    if order.status is Status.CANCELLED:
        return NOTHING
    refuse_if_past_window(order, modification=False)
    cancelled = replace(
        order,
        status=Status.CANCELLED,
        cancellation=Cancellation(reason=reason, cancelled_by=cancelled_by, note=note, at=now),
        release_at=None,
        next_action=None,
    )
    event = OrderCancelled(
        order_id=order.id,
        order_number=order.number,
        customer=order.customer,
        reason=reason,
        cancelled_by=cancelled_by,
        note=note,
        total=order.totals.total,
    )
    entry = TimelineEntry(now, "cancelled", "Commande annulée", {"reason": reason.value})
    return Outcome(cancelled, (entry,), (event,))


@dataclass(frozen=True)
class Modification:
    """What the customer wants to change; None leaves a part as it is.

    ``quantities`` maps a sku already in the order to its new quantity (0 removes the line).
    """

    shipping_address: Address | None = None
    billing_address: Address | None = None
    shipping: ShippingOption | None = None
    quantities: Mapping[str, int] | None = None


def modify(order: Order, change: Modification, *, limits: Limits, now: datetime) -> Outcome:
    """Apply a modification before release.

    Line prices stay those of the order (the price agreed at placement). A modification that
    changes nothing publishes nothing. Every effective one increments the revision and
    publishes OrderModified with the whole new snapshot; when the total changed, payment must
    authorise the new amount before the order can be released.
    """
    refuse_if_past_window(order, modification=True)
    lines = order.lines
    if change.quantities is not None:
        lines = _requantify(order.lines, change.quantities, limits)
    method = change.shipping.as_method() if change.shipping else order.shipping_method
    updated = replace(
        order,
        lines=lines,
        shipping_method=method,
        shipping_address=change.shipping_address or order.shipping_address,
        billing_address=change.billing_address or order.billing_address,
    )
    updated = replace(updated, totals=compute_totals(updated.lines, updated.shipping_method))
    if updated == order:
        return NOTHING
    revision = order.revision + 1
    amount_changed = updated.totals.total != order.totals.total
    updated = replace(
        updated,
        revision=revision,
        amount_revision=revision if amount_changed else order.amount_revision,
    )
    event = OrderModified(
        **updated.snapshot_fields(),
        previous_total=order.totals.total,
        new_total=updated.totals.total,
        amount_changed=amount_changed,
    )
    entry = TimelineEntry(
        now,
        "modified",
        "Commande modifiée" + (" : nouveau montant à autoriser" if amount_changed else ""),
        {
            "revision": revision,
            "previous_total": str(order.totals.total),
            "new_total": str(updated.totals.total),
        },
    )
    return Outcome(updated, (entry,), (event,))


def _requantify(
    lines: tuple[OrderLine, ...], quantities: Mapping[str, int], limits: Limits
) -> tuple[OrderLine, ...]:
    problems: list[Problem] = []
    known = {line.sku for line in lines}
    for sku, quantity in quantities.items():
        if sku not in known:
            problems.append(
                Problem(
                    f"lines.{sku}",
                    "sku_not_in_order",
                    f"L'article « {sku} » ne fait pas partie de cette commande.",
                )
            )
        elif not 0 <= quantity <= limits.max_quantity_per_line:
            problems.append(
                Problem(
                    f"lines.{sku}.quantity",
                    "quantity_out_of_range",
                    f"La quantité doit être comprise entre 0 (retirer l'article) et "
                    f"{limits.max_quantity_per_line} ({quantity} demandée).",
                )
            )
    if problems:
        raise OrderRejectedError(problems)
    new_lines = []
    for line in lines:
        quantity = quantities.get(line.sku, line.quantity)
        if quantity == 0:
            continue
        new_lines.append(
            line.model_copy(update={"quantity": quantity, "line_total": line.unit_price * quantity})
        )
    if not new_lines:
        raise OrderRejectedError(
            [
                Problem(
                    "lines",
                    "order_would_be_empty",
                    "Une commande doit garder au moins un article ; pour tout retirer, "
                    "annulez la commande.",
                )
            ]
        )
    return tuple(new_lines)


# --- Release (end of the window) -------------------------------------------------------------


def release_due(order: Order, now: datetime) -> bool:
    """The scheduler may release: confirmed, the window over, the current amount authorised."""
    return (
        order.status is Status.CONFIRMED
        and order.release_at is not None
        and order.release_at <= now
        and order.amount_authorized
    )


def release(order: Order, *, now: datetime) -> Outcome:
    if not release_due(order, now):
        return NOTHING
    assert order.delivery is not None
    released = replace(order, status=Status.RELEASED, released_at=now, next_action=None)
    event = OrderReleased(**released.snapshot_fields(), delivery_estimate=order.delivery)
    entry = TimelineEntry(now, "released", "Commande transmise à nos équipes logistiques")
    return Outcome(released, (entry,), (event,))


@dataclass(frozen=True)
class ReleaseFailure:
    """What the scheduler records on an order whose release failed (the order's own failure)."""

    attempts: int  # failed releases in a row, this one included
    failed_at: datetime
    retry_at: datetime  # the order is not attempted again before


def release_retry_delay(failures: int, *, first: float, maximum: float) -> float:
    """Seconds before the next attempt after ``failures`` failed releases in a row.

    Exponential (``first``, then doubling) and capped at ``maximum``: a release that fails for
    a moment is retried soon, one that keeps failing costs one attempt every ``maximum``.
    """
    if failures < 1:
        raise ValueError("a retry delay follows at least one failure")
    return min(maximum, first * 2 ** min(failures - 1, 62))


def release_failed(
    previous_failures: int, *, now: datetime, first_delay: float, max_delay: float
) -> ReleaseFailure:
    """The record of one more failed release of an order that had ``previous_failures``."""
    attempts = previous_failures + 1
    delay = release_retry_delay(attempts, first=first_delay, maximum=max_delay)
    return ReleaseFailure(attempts=attempts, failed_at=now, retry_at=now + timedelta(seconds=delay))


# --- Fulfillment progress --------------------------------------------------------------------


def progress(
    order: Order,
    status: Status,
    *,
    label: str,
    now: datetime,
    tracking: Tracking | None = None,
    delivery: DeliveryEstimate | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Outcome:
    """Record a fulfillment step; the status only moves forward (late events go to the timeline)."""
    entry = TimelineEntry(now, status.value, label, dict(detail or {}))
    if order.status not in HANDED_OFF_RANK:
        return Outcome(order, (entry,))  # not expected before release: keep a trace only
    updated = order
    if HANDED_OFF_RANK[status] > HANDED_OFF_RANK[order.status]:
        updated = replace(updated, status=status)
    if tracking is not None:
        updated = replace(updated, tracking=tracking)
    if delivery is not None and status is Status.BACKORDERED:
        updated = replace(updated, delivery=delivery)
    return Outcome(updated, (entry,))


# --- GDPR ------------------------------------------------------------------------------------

ERASED_NAME = "Client"
ERASED_LAST_NAME = "Anonyme"


def pseudonymous_email(order_id: UUID) -> str:
    return f"erased-{order_id.hex[:16]}@erased.invalid"


def pseudonymise(order: Order) -> Order:
    """Replace the customer's personal data in an order; amounts and products stay (accounting).

    Free text goes too: the note the customer wrote when cancelling.
    """

    def _address(address: Address) -> Address:
        return Address(
            first_name=ERASED_NAME,
            last_name=ERASED_LAST_NAME,
            line1="Adresse supprimée",
            postal_code="00000",
            city="Supprimé",
            country_code=address.country_code,
        )

    return replace(
        order,
        customer=CustomerContact(
            customer_id=None,
            email=pseudonymous_email(order.id),
            first_name=ERASED_NAME,
            last_name=ERASED_LAST_NAME,
        ),
        shipping_address=_address(order.shipping_address),
        billing_address=_address(order.billing_address),
        stripe_payment_method_id="erased",
        cancellation=(
            replace(order.cancellation, note=None) if order.cancellation is not None else None
        ),
    )


def utcnow() -> datetime:
    return datetime.now(UTC)
