"""Logistics reports: whether a pick-up or delivery report may be applied, or why it is
refused; what an applied pick-up ships."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from jg_events import Carrier, DeliveryEstimate

from fulfillment.domain.calendar import transit_estimate, withdrawal_deadline
from fulfillment.domain.stock import OrderStatus, aggregate_demand
from fulfillment.domain.tracking import normalise_tracking_number, tracking_url


class ReportRefusal(StrEnum):
    """Why a logistics report is refused (recorded, never applied)."""

    UNKNOWN_ORDER = "unknown_order"
    UNKNOWN_SKU = "unknown_sku"
    UNKNOWN_PARCEL = "unknown_parcel"
    UNKNOWN_RETURN = "unknown_return"
    ORDER_NOT_HANDED_OFF = "order_not_handed_off"
    ITEMS_NOT_IN_ORDER = "items_not_in_order"
    ITEMS_NOT_OUTSTANDING = "items_not_outstanding"
    DUPLICATE_PARCEL = "duplicate_parcel"
    ALREADY_DELIVERED = "already_delivered"
    DELIVERED_BEFORE_PICK_UP = "delivered_before_pick_up"
    REPORTED_IN_THE_FUTURE = "reported_in_the_future"
    INVALID_TRACKING_NUMBER = "invalid_tracking_number"
    RETURN_NOT_EXPECTED = "return_not_expected"
    ITEMS_NOT_IN_RETURN = "items_not_in_return"


@dataclass(frozen=True)
class Refusal:
    reason: ReportRefusal
    detail: str


def unknown_order(order_id: UUID) -> Refusal:
    """A report about an order fulfillment never received."""
    return Refusal(ReportRefusal.UNKNOWN_ORDER, f"no order {order_id} was handed off")


def unknown_sku(sku: str) -> Refusal:
    """A replenishment of a sku the stock does not know."""
    return Refusal(
        ReportRefusal.UNKNOWN_SKU,
        f"sku {sku} is not in the stock; an operator adds it with PUT /operator/stock/{{sku}}",
    )


@dataclass(frozen=True)
class ItemProgress:
    """Where one sku of an order stands (units)."""

    sku: str
    name: str
    quantity: int
    handed_off: int
    shipped: int

    @property
    def outstanding(self) -> int:
        """Handed to logistics and not yet picked up by a carrier."""
        return self.handed_off - self.shipped


@dataclass(frozen=True)
class ParcelState:
    tracking_number: str
    picked_up_at: datetime
    delivered_at: datetime | None


CLOCK_SKEW = timedelta(hours=1)


def check_pick_up(
    *,
    order_status: OrderStatus,
    items: Mapping[str, ItemProgress],
    parcels: Mapping[str, ParcelState],
    tracking_number: str,
    parcel_items: Sequence[tuple[str, int]],
    picked_up_at: datetime,
    now: datetime,
) -> Refusal | None:
    """None when a ParcelPickedUp may be applied, else why not."""
    if order_status == OrderStatus.BACKORDERED:  # a StrEnum: its value compares equal
        return Refusal(
            ReportRefusal.ORDER_NOT_HANDED_OFF,
            "the order is waiting for stock and was not handed to logistics",
        )
    number = normalise_tracking_number(tracking_number)
    if number is None:
        return Refusal(
            ReportRefusal.INVALID_TRACKING_NUMBER,
            f"tracking number {tracking_number!r} is not 6 to 40 letters and digits",
        )
    if number in parcels:
        return Refusal(ReportRefusal.DUPLICATE_PARCEL, f"parcel {number} was already picked up")
    if picked_up_at > now + CLOCK_SKEW:
        return Refusal(ReportRefusal.REPORTED_IN_THE_FUTURE, "picked_up_at is in the future")
    wanted = aggregate_demand(parcel_items)
    unknown = sorted(sku for sku in wanted if sku not in items)
    if unknown:
        return Refusal(ReportRefusal.ITEMS_NOT_IN_ORDER, f"not in the order: {', '.join(unknown)}")
    too_many = [
        f"{sku} ({quantity} > {items[sku].outstanding} outstanding)"
        for sku, quantity in sorted(wanted.items())
        if quantity > items[sku].outstanding
    ]
    if too_many:
        return Refusal(
            ReportRefusal.ITEMS_NOT_OUTSTANDING,
            "more than handed to logistics and not yet shipped: " + ", ".join(too_many),
        )
    return None


def check_delivery(
    *,
    parcels: Mapping[str, ParcelState],
    tracking_number: str,
    delivered_at: datetime,
    now: datetime,
) -> Refusal | None:
    """None when a ParcelDelivered may be applied, else why not."""
    tracking_number = normalise_tracking_number(tracking_number) or tracking_number
    parcel = parcels.get(tracking_number)
    if parcel is None:
        return Refusal(
            ReportRefusal.UNKNOWN_PARCEL,
            f"no pick-up was reported for parcel {tracking_number} of this order",
        )
    if parcel.delivered_at is not None:
        return Refusal(
            ReportRefusal.ALREADY_DELIVERED,
            f"parcel {tracking_number} was already delivered at {parcel.delivered_at.isoformat()}",
        )
    if delivered_at < parcel.picked_up_at:
        return Refusal(
            ReportRefusal.DELIVERED_BEFORE_PICK_UP,
            f"delivered_at {delivered_at.isoformat()} is before the pick-up "
            f"{parcel.picked_up_at.isoformat()}",
        )
    if delivered_at > now + CLOCK_SKEW:
        return Refusal(ReportRefusal.REPORTED_IN_THE_FUTURE, "delivered_at is in the future")
    return None


def order_fully_delivered(
    items: Iterable[ItemProgress], parcels: Iterable[ParcelState], *, backordered: bool
) -> bool:
    """Every unit handed off was shipped and every parcel delivered."""
    if backordered:
        return False
    items = list(items)
    parcels = list(parcels)
    return (
        bool(parcels)
        and all(item.outstanding == 0 and item.shipped >= item.quantity for item in items)
        and all(parcel.delivered_at is not None for parcel in parcels)
    )


@dataclass(frozen=True)
class Shipment:
    """What an accepted pick-up report ships."""

    tracking_number: str
    """Normalised (upper case, no spaces or dashes)."""
    tracking_url: str
    quantities: dict[str, int]
    """Units per sku, in sku order."""
    estimate: DeliveryEstimate
    """The parcel's delivery window, from its carrier's transit time."""


def decide_pick_up(
    *,
    order_status: OrderStatus,
    items: Mapping[str, ItemProgress],
    parcels: Mapping[str, ParcelState],
    carrier: Carrier,
    tracking_number: str,
    parcel_items: Sequence[tuple[str, int]],
    picked_up_at: datetime,
    now: datetime,
) -> Shipment | Refusal:
    """A ParcelPickedUp: the shipment to record, or why the report is refused."""
    refusal = check_pick_up(
        order_status=order_status,
        items=items,
        parcels=parcels,
        tracking_number=tracking_number,
        parcel_items=parcel_items,
        picked_up_at=picked_up_at,
        now=now,
    )
    if refusal is not None:
        return refusal
    number = normalise_tracking_number(tracking_number)
    assert number is not None  # check_pick_up refused the others
    return Shipment(
        tracking_number=number,
        tracking_url=tracking_url(carrier, number),
        quantities=dict(sorted(aggregate_demand(parcel_items).items())),
        estimate=transit_estimate(carrier, picked_up_at),
    )


@dataclass(frozen=True)
class Delivery:
    """What an accepted delivery report changes."""

    tracking_number: str
    order_delivered: bool
    """Every item of the order is now delivered (the withdrawal period starts)."""
    last_delivery: datetime | None
    """When the last parcel was delivered, once the order is."""
    withdrawal_deadline: date | None


def decide_delivery(
    *,
    order_status: OrderStatus,
    items: Iterable[ItemProgress],
    parcels: Mapping[str, ParcelState],
    tracking_number: str,
    delivered_at: datetime,
    now: datetime,
) -> Delivery | Refusal:
    """A ParcelDelivered: whether it completes the order, or why the report is refused."""
    refusal = check_delivery(
        parcels=parcels, tracking_number=tracking_number, delivered_at=delivered_at, now=now
    )
    if refusal is not None:
        return refusal
    number = normalise_tracking_number(tracking_number)
    assert number is not None  # check_delivery found the parcel under its normalised number
    states = dict(parcels)
    states[number] = ParcelState(number, states[number].picked_up_at, delivered_at)
    backordered = order_status is OrderStatus.BACKORDERED
    if not order_fully_delivered(items, states.values(), backordered=backordered):
        return Delivery(number, order_delivered=False, last_delivery=None, withdrawal_deadline=None)
    last = max(s.delivered_at for s in states.values() if s.delivered_at is not None)
    return Delivery(
        number,
        order_delivered=True,
        last_delivery=last,
        withdrawal_deadline=withdrawal_deadline(last),
    )
