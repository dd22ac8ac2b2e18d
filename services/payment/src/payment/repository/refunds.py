"""Refund requests, leased while Stripe is called."""

# ruff: noqa: S608

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from payment.domain import RefundStatus
from payment.repository.rows import RefundRow, update_row

# --- Refunds -----------------------------------------------------------------------------------


async def insert_refund(
    conn: asyncpg.Connection,
    *,
    refund_request_id: UUID,
    order_id: UUID,
    attempt_id: UUID | None,
    payment_intent_id: str | None,
    amount_cents: int,
    cause: str,
    reference_id: UUID,
    request_json: str,
    status: RefundStatus,
    problem: str | None,
    correlation_id: str,
    causation_id: str | None,
) -> bool:
    inserted = await conn.fetchval(
        """INSERT INTO payment_refunds (refund_request_id, order_id, attempt_id,
               payment_intent_id, amount_cents, cause, reference_id, request, status, problem,
               correlation_id, causation_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12)
           ON CONFLICT (refund_request_id) DO NOTHING RETURNING true""",
        refund_request_id,
        order_id,
        attempt_id,
        payment_intent_id,
        amount_cents,
        cause,
        reference_id,
        request_json,
        status.value,
        problem,
        correlation_id,
        causation_id,
    )
    return bool(inserted)


async def get_refund(
    conn: asyncpg.Connection, refund_request_id: UUID, *, for_update: bool = False
) -> RefundRow | None:
    lock = " FOR UPDATE" if for_update else ""
    return RefundRow.of(
        await conn.fetchrow(
            f"SELECT * FROM payment_refunds WHERE refund_request_id = $1{lock}",
            refund_request_id,
        )
    )


async def refund_of_stripe_id(
    conn: asyncpg.Connection, stripe_refund_id: str, *, for_update: bool = False
) -> RefundRow | None:
    lock = " FOR UPDATE" if for_update else ""
    return RefundRow.of(
        await conn.fetchrow(
            f"SELECT * FROM payment_refunds WHERE stripe_refund_id = $1{lock}",
            stripe_refund_id,
        )
    )


async def refunds_of_intent(conn: asyncpg.Connection, payment_intent_id: str) -> list[RefundRow]:
    rows = await conn.fetch(
        "SELECT * FROM payment_refunds WHERE payment_intent_id = $1 ORDER BY created_at",
        payment_intent_id,
    )
    return [r for r in map(RefundRow.of, rows) if r is not None]


async def refunded_cents(conn: asyncpg.Connection, attempt_id: UUID) -> int:
    """What was refunded, or is being refunded, from an attempt's capture."""
    value = await conn.fetchval(
        """SELECT coalesce(sum(amount_cents), 0) FROM payment_refunds
           WHERE attempt_id = $1 AND status IN ('requested', 'pending', 'succeeded')""",
        attempt_id,
    )
    return int(value)


_REFUND_COLUMNS = frozenset(
    {
        "status",
        "stripe_refund_id",
        "problem",
        "sent_at",
        "lease_until",
        "last_error",
        "attempt_id",
        "payment_intent_id",
    }
)


async def refunds_awaiting_capture(conn: asyncpg.Connection, order_id: UUID) -> list[RefundRow]:
    """The order's refund requests that arrived before its capture was recorded, oldest first."""
    rows = await conn.fetch(
        """SELECT * FROM payment_refunds WHERE order_id = $1 AND status = 'awaiting_capture'
           ORDER BY created_at FOR UPDATE""",
        order_id,
    )
    return [r for r in map(RefundRow.of, rows) if r is not None]


async def update_refund(conn: asyncpg.Connection, refund_request_id: UUID, **values: Any) -> None:
    await update_row(
        conn, "payment_refunds", "refund_request_id", refund_request_id, _REFUND_COLUMNS, values
    )


async def claim_refund(
    conn: asyncpg.Connection, refund_request_id: UUID, lease_seconds: float
) -> RefundRow | None:
    return RefundRow.of(
        await conn.fetchrow(
            """UPDATE payment_refunds
               SET lease_until = clock_timestamp() + make_interval(secs => $2)
               WHERE refund_request_id = $1
                 AND (lease_until IS NULL OR lease_until < clock_timestamp())
               RETURNING *""",
            refund_request_id,
            lease_seconds,
        )
    )


async def refunds_to_resume(
    conn: asyncpg.Connection, *, quiet_for: float, limit: int = 100
) -> list[UUID]:
    rows = await conn.fetch(
        """SELECT refund_request_id FROM payment_refunds
           WHERE status IN ('requested', 'pending')
             AND (lease_until IS NULL OR lease_until < clock_timestamp())
             AND updated_at < clock_timestamp() - make_interval(secs => $1)
           ORDER BY updated_at LIMIT $2""",
        quiet_for,
        limit,
    )
    return [r["refund_request_id"] for r in rows]
