"""Customer service's search: what a typed query means (an order number, an email, a name)."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MAX_RESULTS", "OrderSearch", "order_search"]

MAX_RESULTS = 50
_NUMBER = re.compile(r"^JG-\d{4}-\d{6,}$", re.IGNORECASE)


@dataclass(frozen=True)
class OrderSearch:
    """Exactly one criterion is set: ``number`` (exact), ``email`` (exact, any case) or
    ``name_pattern`` (an ILIKE pattern: the name's part, with ``%``/``_``/``\\`` escaped)."""

    number: str | None = None
    email: str | None = None
    name_pattern: str | None = None


def order_search(query: str) -> OrderSearch | None:
    """What ``query`` asks for; None when there is nothing to search (blank)."""
    text = " ".join(query.split())
    if not text:
        return None
    if _NUMBER.match(text):
        return OrderSearch(number=text.upper())
    if "@" in text:
        return OrderSearch(email=text.lower())
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return OrderSearch(name_pattern=f"%{escaped}%")
