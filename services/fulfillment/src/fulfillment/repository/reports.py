"""Refused logistics reports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg


async def record_rejected_report(
    conn: asyncpg.Connection,
    *,
    event_id: UUID,
    event_type: str,
    order_id: UUID | None,
    sku: str | None,
    reason: str,
    detail: str,
    payload: str,
) -> None:
    await conn.execute(
        """INSERT INTO rejected_reports (event_id, event_type, order_id, sku, reason, detail,
               payload) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)""",
        event_id,
        event_type,
        order_id,
        sku,
        reason,
        detail,
        payload,
    )


@dataclass(frozen=True)
class RejectedReport:
    id: int
    event_id: UUID
    event_type: str
    order_id: UUID | None
    sku: str | None
    reason: str
    detail: str
    report: dict[str, Any]
    """The refused report's envelope, as received."""
    received_at: datetime


async def list_rejected_reports(
    conn: asyncpg.Connection, *, order_id: UUID | None = None, limit: int = 100
) -> list[RejectedReport]:
    rows = await conn.fetch(
        """SELECT id, event_id, event_type, order_id, sku, reason, detail, payload,
                  received_at
           FROM rejected_reports WHERE ($1::uuid IS NULL OR order_id = $1)
           ORDER BY id DESC LIMIT $2""",
        order_id,
        limit,
    )
    return [
        RejectedReport(
            id=row["id"],
            event_id=row["event_id"],
            event_type=row["event_type"],
            order_id=row["order_id"],
            sku=row["sku"],
            reason=row["reason"],
            detail=row["detail"],
            report=json.loads(row["payload"]),
            received_at=row["received_at"],
        )
        for row in rows
    ]
