"""The delivery estimate: 10 to 15 French business days from validation (jg_web's calendar)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from jg_events import (
    DeliveryEstimate,
)
from jg_web.business_days import add_business_days

PARIS = ZoneInfo("Europe/Paris")


def delivery_estimate(
    validated_at: datetime, min_days: int = 10, max_days: int = 15
) -> DeliveryEstimate:
    """10 to 15 business days from validation (Paris date), French public holidays excluded."""
    day = validated_at.astimezone(PARIS).date()
    return DeliveryEstimate(
        earliest=add_business_days(day, min_days), latest=add_business_days(day, max_days)
    )
