"""Transactional outbox: events are rows written in the caller's transaction, relayed later.

Rows the relay parked (see jg_messaging.relay) are listed and replayed here, for
tools/outbox_replay.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg
from jg_events import Envelope, kafka_headers, topic_name

from . import tracing


async def enqueue(conn: asyncpg.Connection, envelope: Envelope[Any], *, topic_prefix: str) -> None:
    """Write `envelope` into the outbox. Must run inside the transaction that changes the state."""
    if not conn.is_in_transaction():
        raise RuntimeError("outbox rows must be written inside the state's transaction")
    payload_cls = type(envelope.payload)
    trace_context = tracing.inject()  # the transaction's span: the relay's publish is its child
    await conn.execute(
        """INSERT INTO messaging_outbox
               (event_id, event_type, topic, message_key, headers, body, traceparent, tracestate)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)""",
        envelope.event_id,
        envelope.type,
        topic_name(payload_cls.topic, topic_prefix),
        envelope.key,
        json.dumps(kafka_headers(envelope)),
        envelope.model_dump_json().encode(),
        trace_context.get("traceparent"),
        trace_context.get("tracestate"),
    )


_PARKED = """
SELECT o.id, o.event_id, o.event_type, o.topic, o.message_key, o.attempts, o.last_error,
       o.created_at, o.parked_at,
       (SELECT count(*) FROM messaging_outbox w
        WHERE w.message_key = o.message_key AND w.id > o.id AND w.sent_at IS NULL) AS waiting_behind
FROM messaging_outbox o
WHERE o.sent_at IS NULL AND o.parked_at IS NOT NULL
  AND ($1::bigint[] IS NULL OR o.id = ANY($1::bigint[]))
ORDER BY o.id
"""


async def parked(
    conn: asyncpg.Connection, ids: Sequence[int] | None = None
) -> list[asyncpg.Record]:
    """Parked outbox rows (all, or those of `ids`), oldest first, each with its error and how
    many rows of its key wait behind it."""
    return list(await conn.fetch(_PARKED, None if ids is None else list(ids)))


async def replay_parked(
    conn: asyncpg.Connection, ids: Sequence[int] | None = None
) -> list[asyncpg.Record]:
    """Put parked rows (all, or those of `ids`) back to pending, attempts reset, and wake the
    relays. Their last error stays until the next attempt. Returns the rows replayed."""
    async with conn.transaction():
        rows = await conn.fetch(_PARKED + " FOR UPDATE OF o", None if ids is None else list(ids))
        if rows:
            await conn.execute(
                """UPDATE messaging_outbox
                   SET parked_at = NULL, attempts = 0, next_attempt_at = NULL
                   WHERE id = ANY($1::bigint[])""",
                [r["id"] for r in rows],
            )
            await conn.execute("SELECT pg_notify('messaging_outbox', '')")  # sent on commit
    return list(rows)


async def forget(conn: asyncpg.Connection, keys: Sequence[str]) -> int:
    """Forget the outbox copies of the events of these keys (an erased customer's orders).

    The copies already published are deleted now; the ones still waiting are flagged, and the
    relay deletes them as soon as Kafka acknowledged them (they must still go out: other
    services need them). Returns how many copies were deleted now.
    """
    if not keys:
        return 0
    # Flag first, delete second. A relay holds the rows it claimed (FOR UPDATE) until it marks
    # them sent: the flag waits for that commit and then skips them (sent by then), and the
    # delete, a later statement, sees them sent and removes them. The other order missed them:
    # not yet sent for the delete, no longer pending for the flag.
    await conn.execute(
        """UPDATE messaging_outbox SET forget_after_send = true
           WHERE sent_at IS NULL AND message_key = ANY($1::text[])""",
        list(keys),
    )
    status = await conn.execute(
        "DELETE FROM messaging_outbox WHERE sent_at IS NOT NULL AND message_key = ANY($1::text[])",
        list(keys),
    )
    return int(status.split()[-1])
