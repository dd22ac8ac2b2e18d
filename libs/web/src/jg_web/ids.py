"""Database ids in URLs: a ``BIGINT`` column holds at most 2**63 - 1, so a larger id in a path is
refused with a 422 naming the parameter before any query (asyncpg would raise on it: a 500)."""

from __future__ import annotations

from typing import Any

from fastapi import Path

__all__ = ["BIGINT_MAX", "row_id_path"]

BIGINT_MAX = 2**63 - 1


def row_id_path(description: str) -> Any:
    """``Path(...)`` for a positive id stored as a PostgreSQL ``BIGINT`` (or ``INTEGER`` ids
    reached through it: the repository casts)."""
    return Path(ge=1, le=BIGINT_MAX, description=description)
