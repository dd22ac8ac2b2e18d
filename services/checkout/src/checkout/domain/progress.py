"""Fulfillment progress after the hand-off: the status only moves forward."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from jg_events import (
    DeliveryEstimate,
)

from checkout.domain.order import (
    HANDED_OFF_RANK,
    Order,
    Outcome,
    Status,
    TimelineEntry,
    Tracking,
)


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
