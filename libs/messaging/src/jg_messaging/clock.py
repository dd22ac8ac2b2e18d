"""The platform's clock: an aware UTC ``datetime`` (events, rows and logs are all in UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utcnow"]


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC (never a naive ``datetime.utcnow()``)."""
    return datetime.now(UTC)
