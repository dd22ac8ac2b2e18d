"""Inbox: the ids of events a consumer has applied, written in the handler's own transaction."""

from __future__ import annotations

from typing import Any

import asyncpg
from jg_events import Envelope


async def claim(conn: asyncpg.Connection, consumer: str, envelope: Envelope[Any]) -> bool:
    """Record that `consumer` applies `envelope`. False when it already did (a redelivery).

    Must run inside the transaction that applies the event, so the record and the effects
    commit or roll back together.
    """
    if not conn.is_in_transaction():
        raise RuntimeError("inbox rows must be written inside the handler's transaction")
    inserted = await conn.fetchval(
        """INSERT INTO messaging_inbox (consumer, event_id, event_type)
           VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING true""",
        consumer,
        envelope.event_id,
        envelope.type,
    )
    return bool(inserted)
