"""Payment attempts: one PaymentIntent per order revision, leased while Stripe is called."""

# ruff: noqa: S608

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from payment.domain import AttemptStatus, Desired
from payment.repository.rows import AttemptRow, update_row

# --- Attempts ----------------------------------------------------------------------------------


async def insert_attempt(
    conn: asyncpg.Connection,
    *,
    attempt_id: UUID,
    order_id: UUID,
    revision: int,
    amount_cents: int,
    payment_method_type: str,
    stripe_payment_method_id: str,
    correlation_id: str,
    causation_id: str | None,
) -> bool:
    inserted = await conn.fetchval(
        """INSERT INTO payment_attempts (id, order_id, revision, amount_cents,
               payment_method_type, stripe_payment_method_id, status, desired, correlation_id,
               causation_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (order_id, revision) DO NOTHING RETURNING true""",
        attempt_id,
        order_id,
        revision,
        amount_cents,
        payment_method_type,
        stripe_payment_method_id,
        AttemptStatus.AUTHORIZING.value,
        Desired.AUTHORIZED.value,
        correlation_id,
        causation_id,
    )
    return bool(inserted)


async def get_attempt(
    conn: asyncpg.Connection, attempt_id: UUID, *, for_update: bool = False
) -> AttemptRow | None:
    lock = " FOR UPDATE" if for_update else ""
    return AttemptRow.of(
        await conn.fetchrow(f"SELECT * FROM payment_attempts WHERE id = $1{lock}", attempt_id)
    )


async def attempt_of_intent(
    conn: asyncpg.Connection, payment_intent_id: str, *, for_update: bool = False
) -> AttemptRow | None:
    lock = " FOR UPDATE" if for_update else ""
    return AttemptRow.of(
        await conn.fetchrow(
            f"SELECT * FROM payment_attempts WHERE payment_intent_id = $1{lock}",
            payment_intent_id,
        )
    )


async def attempt_of_revision(
    conn: asyncpg.Connection, order_id: UUID, revision: int, *, for_update: bool = False
) -> AttemptRow | None:
    lock = " FOR UPDATE" if for_update else ""
    return AttemptRow.of(
        await conn.fetchrow(
            f"SELECT * FROM payment_attempts WHERE order_id = $1 AND revision = $2{lock}",
            order_id,
            revision,
        )
    )


async def attempts_of_order(
    conn: asyncpg.Connection, order_id: UUID, *, for_update: bool = False
) -> list[AttemptRow]:
    lock = " FOR UPDATE" if for_update else ""
    rows = await conn.fetch(
        f"SELECT * FROM payment_attempts WHERE order_id = $1 ORDER BY revision{lock}",
        order_id,
    )
    return [r for r in map(AttemptRow.of, rows) if r is not None]


_ATTEMPT_COLUMNS = frozenset(
    {
        "card_brand",
        "card_last4",
        "payment_intent_id",
        "status",
        "desired",
        "cancel_reason",
        "capture_cents",
        "captured_cents",
        "refusal_reason",
        "stripe_error_code",
        "stripe_decline_code",
        "stripe_message",
        "next_action_type",
        "next_action_url",
        "client_secret",
        "action_required_at",
        "authorize_sent_at",
        "lease_until",
        "last_error",
        "stuck",
        "causation_id",
    }
)


async def update_attempt(conn: asyncpg.Connection, attempt_id: UUID, **values: Any) -> None:
    await update_row(conn, "payment_attempts", "id", attempt_id, _ATTEMPT_COLUMNS, values)


async def claim_attempt(
    conn: asyncpg.Connection, attempt_id: UUID, lease_seconds: float
) -> AttemptRow | None:
    """Lock the attempt and reserve it for a Stripe call (None if another worker holds it)."""
    row = AttemptRow.of(
        await conn.fetchrow(
            """UPDATE payment_attempts
               SET lease_until = clock_timestamp() + make_interval(secs => $2)
               WHERE id = $1 AND (lease_until IS NULL OR lease_until < clock_timestamp())
               RETURNING *""",
            attempt_id,
            lease_seconds,
        )
    )
    return row


async def attempts_to_resume(
    conn: asyncpg.Connection, *, quiet_for: float, limit: int = 100
) -> list[UUID]:
    """Unfinished attempts nobody is working on and untouched for ``quiet_for`` seconds."""
    rows = await conn.fetch(
        """SELECT id FROM payment_attempts
           WHERE (status IN ('authorizing', 'awaiting', 'requires_action', 'capturing',
                             'cancelling')
                  OR (status = 'authorized' AND desired <> 'authorized'))
             AND NOT stuck
             AND (lease_until IS NULL OR lease_until < clock_timestamp())
             AND updated_at < clock_timestamp() - make_interval(secs => $1)
           ORDER BY updated_at LIMIT $2""",
        quiet_for,
        limit,
    )
    return [r["id"] for r in rows]


async def reauthorisations_waiting_since(
    conn: asyncpg.Connection, *, seconds: float, limit: int = 100
) -> list[UUID]:
    """Attempts of a modified order still waiting for 3-D Secure after ``seconds`` while an
    earlier revision's hold of the same order still stands (candidates for expiry)."""
    rows = await conn.fetch(
        """SELECT a.id FROM payment_attempts a
           JOIN payment_orders o ON o.order_id = a.order_id
           WHERE a.status = 'requires_action' AND a.desired = 'authorized'
             AND o.state = 'open'
             AND a.action_required_at < clock_timestamp() - make_interval(secs => $1)
             AND EXISTS (SELECT 1 FROM payment_attempts h
                         WHERE h.order_id = a.order_id AND h.revision < a.revision
                           AND h.status = 'authorized' AND h.desired = 'authorized')
           ORDER BY a.action_required_at LIMIT $2""",
        seconds,
        limit,
    )
    return [r["id"] for r in rows]
