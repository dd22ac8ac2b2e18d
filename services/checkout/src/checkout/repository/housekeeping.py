"""Checkout's database access for erasure (GDPR) and the figures /metrics shows; part of
:mod:`checkout.repository`, which re-exports it."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg
from jg_messaging import outbox


async def orders_of_customer(
    conn: asyncpg.Connection, customer_id: UUID, email: str | None
) -> list[UUID]:
    """Orders of the account, and guest orders placed with ``email`` (only when the customer
    proved they own it; None otherwise), locked, not yet erased."""
    rows = await conn.fetch(
        """SELECT id FROM orders
           WHERE (customer_id = $1
                  OR ($2::text IS NOT NULL AND customer_id IS NULL
                      AND lower(email) = lower($2::text)))
             AND erased_at IS NULL
           ORDER BY id FOR UPDATE""",
        customer_id,
        email,
    )
    return [r["id"] for r in rows]


async def mark_erased(conn: asyncpg.Connection, order_ids: Sequence[UUID]) -> None:
    """Stamp the erasure; forget the request hashes (a digest of the personal data)."""
    await conn.execute(
        "UPDATE orders SET erased_at = now() WHERE id = ANY($1::uuid[])", list(order_ids)
    )
    await conn.execute(
        "UPDATE idempotency_keys SET request_hash = 'erased' WHERE order_id = ANY($1::uuid[])",
        list(order_ids),
    )


async def forget_sent_messages(conn: asyncpg.Connection, order_ids: Sequence[UUID]) -> int:
    """Forget the outbox copies of these orders' events (they hold PII): see outbox.forget."""
    return await outbox.forget(conn, [str(i) for i in order_ids])


async def orders_by_status(conn: asyncpg.Connection) -> dict[str, int]:
    """How many orders are in each status."""
    rows = await conn.fetch("SELECT status, count(*) AS n FROM orders GROUP BY status")
    return {r["status"]: int(r["n"]) for r in rows}


async def releases_overdue(conn: asyncpg.Connection, *, grace_seconds: float) -> int:
    """Confirmed orders whose release time passed more than `grace_seconds` ago."""
    count = await conn.fetchval(
        """SELECT count(*) FROM orders
           WHERE status = 'confirmed' AND release_at < now() - make_interval(secs => $1)""",
        grace_seconds,
    )
    return int(count or 0)
