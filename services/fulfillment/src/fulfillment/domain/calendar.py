"""Calendar: French business days, delivery estimates, the withdrawal deadline
(Code de la consommation L221-18 and L221-19). The business-day calendar
itself is jg_web's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from jg_events import Carrier, DeliveryEstimate
from jg_web import business_days
from jg_web.business_days import is_business_day

PARIS = ZoneInfo("Europe/Paris")
WITHDRAWAL_DAYS = 14
"""L221-18: fourteen days from the receipt of the goods (of the last item)."""


def add_business_days(start: date, days: int) -> date:
    """The date ``days`` business days after ``start`` (``start`` itself is not counted).

    The calendar is jg_web's (French public holidays); fulfillment only counts forwards.
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    return business_days.add_business_days(start, days)


def paris_date(moment: datetime) -> date:
    """The calendar date in France of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return moment.astimezone(PARIS).date()


def withdrawal_deadline(last_delivery: datetime) -> date:
    """Last day to notify a withdrawal: 14 days after the day of receipt of the last item.

    L221-19 (Regulation 1182/71): the day of receipt is not counted; the period ends at the end
    of its last day; a period ending on a Saturday, Sunday or public holiday runs until the next
    working day.
    """
    last_day = paris_date(last_delivery) + timedelta(days=WITHDRAWAL_DAYS)
    while not is_business_day(last_day):
        last_day += timedelta(days=1)
    return last_day


@dataclass(frozen=True)
class EstimatePolicy:
    """Delivery promises, in French business days."""

    delivery_min_days: int = 10
    delivery_max_days: int = 15
    backorder_extra_days: int = 10


def backorder_estimate(today: date, policy: EstimatePolicy) -> DeliveryEstimate:
    """New window for a backordered order: restock delay plus the usual 10 to 15 days."""
    return DeliveryEstimate(
        earliest=add_business_days(today, policy.backorder_extra_days + policy.delivery_min_days),
        latest=add_business_days(today, policy.backorder_extra_days + policy.delivery_max_days),
    )


def usual_estimate(today: date, policy: EstimatePolicy) -> DeliveryEstimate:
    """The usual window from today (items handed to logistics today, e.g. a reship)."""
    return DeliveryEstimate(
        earliest=add_business_days(today, policy.delivery_min_days),
        latest=add_business_days(today, policy.delivery_max_days),
    )


def resumed_estimate(
    promised: DeliveryEstimate, today: date, policy: EstimatePolicy
) -> DeliveryEstimate:
    """Window when a backorder proceeds: the usual delay from today, never before the promise."""
    return DeliveryEstimate(
        earliest=max(promised.earliest, add_business_days(today, policy.delivery_min_days)),
        latest=max(promised.latest, add_business_days(today, policy.delivery_max_days)),
    )


TRANSIT_BUSINESS_DAYS: dict[Carrier, tuple[int, int]] = {
    Carrier.JAPAN_POST_EMS: (3, 7),
    Carrier.DHL: (2, 4),
    Carrier.FEDEX: (2, 4),
    Carrier.UPS: (2, 5),
    Carrier.COLISSIMO: (4, 8),
    Carrier.CHRONOPOST: (2, 4),
}
"""Transit time from the pick-up in Japan to the door in France, per carrier."""


def transit_estimate(carrier: Carrier, picked_up_at: datetime) -> DeliveryEstimate:
    """Expected delivery window of a parcel from its pick-up."""
    low, high = TRANSIT_BUSINESS_DAYS[carrier]
    start = paris_date(picked_up_at)
    return DeliveryEstimate(
        earliest=add_business_days(start, low), latest=add_business_days(start, high)
    )
