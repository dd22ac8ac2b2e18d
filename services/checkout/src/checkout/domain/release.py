"""The end of the window: release, and the backoff of a release that failed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from jg_events import (
    OrderReleased,
)

from checkout.domain.order import (
    NOTHING,
    Order,
    Outcome,
    Status,
    TimelineEntry,
)


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
    return min(maximum, first * 2.0 ** min(failures - 1, 62))


def release_failed(
    previous_failures: int, *, now: datetime, first_delay: float, max_delay: float
) -> ReleaseFailure:
    """The record of one more failed release of an order that had ``previous_failures``."""
    attempts = previous_failures + 1
    delay = release_retry_delay(attempts, first=first_delay, maximum=max_delay)
    return ReleaseFailure(attempts=attempts, failed_at=now, retry_at=now + timedelta(seconds=delay))
