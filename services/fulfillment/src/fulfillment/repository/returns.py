"""Returns and refund requests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from jg_events import RefundCause

from fulfillment.domain import ReturnKind, ReturnStatus
from fulfillment.repository._sql import dump


@dataclass(frozen=True)
class Return:
    return_id: UUID
    order_id: UUID
    status: ReturnStatus
    kind: ReturnKind | None
    items: list[dict[str, Any]]
    rejection_reason: str | None
    message: str | None
    send_before: date | None
    expected_refund: Decimal | None
    shipping_refund: Decimal | None
    requested_at: datetime
    received_at: datetime | None
    received_items: list[dict[str, Any]] | None
    refunded_amount: Decimal | None


_RETURN_COLUMNS = (
    "return_id, order_id, status, kind, items, rejection_reason, message, send_before, "
    "expected_refund, shipping_refund, requested_at, received_at, received_items, "
    "refunded_amount"
)


def _return(row: asyncpg.Record) -> Return:
    data = dict(row)
    data["items"] = json.loads(data["items"])
    if data["received_items"] is not None:
        data["received_items"] = json.loads(data["received_items"])
    data["status"] = ReturnStatus(data["status"])
    data["kind"] = ReturnKind(data["kind"]) if data["kind"] else None
    return Return(**data)


async def insert_return(
    conn: asyncpg.Connection,
    *,
    return_id: UUID,
    order_id: UUID,
    status: ReturnStatus,
    kind: ReturnKind | None,
    items: Sequence[Mapping[str, Any]],
    rejection_reason: str | None,
    message: str | None,
    send_before: date | None,
    expected_refund: Decimal | None,
    shipping_refund: Decimal | None,
    requested_at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO returns (return_id, order_id, status, kind, items, rejection_reason,
               message, send_before, expected_refund, shipping_refund, requested_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11)""",
        return_id,
        order_id,
        status.value,
        kind.value if kind else None,
        dump(list(items)),
        rejection_reason,
        message,
        send_before,
        expected_refund,
        shipping_refund,
        requested_at,
    )


async def get_returns(conn: asyncpg.Connection, order_id: UUID) -> list[Return]:
    rows = await conn.fetch(
        f"SELECT {_RETURN_COLUMNS} FROM returns WHERE order_id = $1 "  # noqa: S608
        "ORDER BY requested_at",
        order_id,
    )
    return [_return(row) for row in rows]


async def list_returns(
    conn: asyncpg.Connection, status: ReturnStatus | None, limit: int
) -> list[Return]:
    """Returns (of one status), the latest news first (received, else requested)."""
    rows = await conn.fetch(
        f"SELECT {_RETURN_COLUMNS} FROM returns "  # noqa: S608
        "WHERE $1::text IS NULL OR status = $1 "
        "ORDER BY coalesce(received_at, requested_at) DESC LIMIT $2",
        status.value if status else None,
        limit,
    )
    return [_return(row) for row in rows]


async def get_return(
    conn: asyncpg.Connection, return_id: UUID, *, for_update: bool = False
) -> Return | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_RETURN_COLUMNS} FROM returns WHERE return_id = $1{lock}",  # noqa: S608
        return_id,
    )
    return _return(row) if row else None


async def set_return_received(
    conn: asyncpg.Connection,
    return_id: UUID,
    *,
    received_at: datetime,
    received_items: Sequence[Mapping[str, Any]],
    refunded_amount: Decimal,
) -> None:
    await conn.execute(
        """UPDATE returns SET status = $5, received_at = $2,
               received_items = $3::jsonb, refunded_amount = $4
           WHERE return_id = $1""",
        return_id,
        received_at,
        dump(list(received_items)),
        refunded_amount,
        ReturnStatus.RECEIVED.value,
    )


async def insert_refund_request(
    conn: asyncpg.Connection,
    *,
    refund_request_id: UUID,
    order_id: UUID,
    cause: RefundCause,
    reference_id: UUID,
    lines: Sequence[Mapping[str, Any]],
    shipping_refund: Decimal,
    amount: Decimal,
) -> None:
    await conn.execute(
        """INSERT INTO refund_requests (refund_request_id, order_id, cause, reference_id, lines,
               shipping_refund, amount) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)""",
        refund_request_id,
        order_id,
        cause.value,
        reference_id,
        dump(list(lines)),
        shipping_refund,
        amount,
    )


async def shipping_refunded(conn: asyncpg.Connection, order_id: UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM refund_requests WHERE order_id = $1 "
            "AND shipping_refund > 0)",
            order_id,
        )
    )
