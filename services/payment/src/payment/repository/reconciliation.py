"""What the reconciliation (``python -m payment.reconcile``) reads: the attempt behind a Stripe
intent, and the orders, steps and refunds that should have finished by now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from payment.domain import AttemptStatus, Desired, OrderState, RefundStatus


@dataclass(frozen=True)
class IntentRecord:
    """The attempt that created a Stripe intent, with its order."""

    status: AttemptStatus
    desired: Desired
    order_id: UUID
    order_number: str
    order_state: OrderState


@dataclass(frozen=True)
class Unfinished:
    """An order, a step or a refund that should have finished: what the finding shows."""

    order_id: UUID
    order_number: str
    status: str | None  # the attempt's or the refund's, None when no attempt was made
    payment_intent_id: str | None = None
    amount_cents: int | None = None
    desired: str | None = None
    problem: str | None = None  # the last error, or the refund's problem
    updated_at: datetime | None = None
    released_at: datetime | None = None


async def intent_record(conn: asyncpg.Connection, payment_intent_id: str) -> IntentRecord | None:
    row = await conn.fetchrow(
        """SELECT a.status, a.desired, o.order_id, o.order_number, o.state
           FROM payment_attempts a JOIN payment_orders o USING (order_id)
           WHERE a.payment_intent_id = $1""",
        payment_intent_id,
    )
    if row is None:
        return None
    return IntentRecord(
        status=AttemptStatus(row["status"]),
        desired=Desired(row["desired"]),
        order_id=row["order_id"],
        order_number=row["order_number"],
        order_state=OrderState(row["state"]),
    )


async def latest_attempts_of_open_orders(conn: asyncpg.Connection) -> list[Unfinished]:
    """Each open order with its latest attempt (status None: no attempt)."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (o.order_id) o.order_id, o.order_number, a.status,
                  a.payment_intent_id, a.amount_cents, a.updated_at, a.last_error
           FROM payment_orders o LEFT JOIN payment_attempts a USING (order_id)
           WHERE o.state = $1
           ORDER BY o.order_id, a.revision DESC""",
        OrderState.OPEN.value,
    )
    return [
        Unfinished(
            order_id=r["order_id"],
            order_number=r["order_number"],
            status=r["status"],
            payment_intent_id=r["payment_intent_id"],
            amount_cents=r["amount_cents"],
            problem=r["last_error"],
            updated_at=r["updated_at"],
        )
        for r in rows
    ]


async def released_not_captured(conn: asyncpg.Connection, before: datetime) -> list[Unfinished]:
    """Orders released before ``before`` without a recorded capture."""
    rows = await conn.fetch(
        """SELECT o.order_id, o.order_number, o.released_at FROM payment_orders o
           WHERE o.state = $2 AND o.released_at < $1
             AND NOT EXISTS (SELECT 1 FROM payment_attempts a
                             WHERE a.order_id = o.order_id AND a.status = $3)""",
        before,
        OrderState.RELEASED.value,
        AttemptStatus.CAPTURED.value,
    )
    return [
        Unfinished(r["order_id"], r["order_number"], None, released_at=r["released_at"])
        for r in rows
    ]


async def stuck_steps(conn: asyncpg.Connection, before: datetime) -> list[Unfinished]:
    """Attempts marked stuck, or capturing / cancelling since before ``before``."""
    rows = await conn.fetch(
        """SELECT a.*, o.order_number FROM payment_attempts a JOIN payment_orders o USING (order_id)
           WHERE a.stuck OR (a.status = ANY($2::text[]) AND a.updated_at < $1)""",
        before,
        [AttemptStatus.CAPTURING.value, AttemptStatus.CANCELLING.value],
    )
    return [
        Unfinished(
            order_id=r["order_id"],
            order_number=r["order_number"],
            status=r["status"],
            payment_intent_id=r["payment_intent_id"],
            amount_cents=r["amount_cents"],
            desired=r["desired"],
            problem=r["last_error"],
        )
        for r in rows
    ]


async def unfinished_refunds(conn: asyncpg.Connection, before: datetime) -> list[Unfinished]:
    """Refunds failed or rejected, or requested / pending since before ``before``."""
    rows = await conn.fetch(
        """SELECT r.*, o.order_number FROM payment_refunds r JOIN payment_orders o USING (order_id)
           WHERE r.status = ANY($2::text[])
              OR (r.status = ANY($3::text[]) AND r.updated_at < $1)""",
        before,
        [RefundStatus.FAILED.value, RefundStatus.REJECTED.value],
        [RefundStatus.REQUESTED.value, RefundStatus.PENDING.value],
    )
    return [
        Unfinished(
            order_id=r["order_id"],
            order_number=r["order_number"],
            status=r["status"],
            payment_intent_id=r["payment_intent_id"],
            amount_cents=r["amount_cents"],
            problem=r["problem"],
        )
        for r in rows
    ]
