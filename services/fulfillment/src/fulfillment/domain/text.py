"""French formatting of dates and amounts, and money's zero."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

ZERO = Decimal("0.00")

NARROW_NBSP = "\u202f"
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def french_date(day: date) -> str:
    """``1er avril 2026``, ``15 avril 2026``."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {_MONTHS[day.month - 1]} {day.year}"


def french_money(amount: Decimal) -> str:
    """``1 234,50 €``."""
    whole, _, cents = f"{amount.quantize(Decimal('0.01')):f}".partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{NARROW_NBSP.join(groups)},{cents}\u00a0€"
