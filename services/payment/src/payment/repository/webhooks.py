"""Stripe events received (each applied once)."""

from __future__ import annotations

import asyncpg

# --- Webhook events ----------------------------------------------------------------------------


async def record_webhook_event(
    conn: asyncpg.Connection, event_id: str, event_type: str, object_id: str | None, outcome: str
) -> bool:
    """Remember a Stripe event id; False when it was handled before."""
    inserted = await conn.fetchval(
        """INSERT INTO stripe_webhook_events (event_id, event_type, object_id, outcome)
           VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING RETURNING true""",
        event_id,
        event_type,
        object_id,
        outcome,
    )
    return bool(inserted)


async def set_webhook_outcome(conn: asyncpg.Connection, event_id: str, outcome: str) -> None:
    await conn.execute(
        "UPDATE stripe_webhook_events SET outcome = $2 WHERE event_id = $1", event_id, outcome
    )
