"""Transactional outbox: events are rows written in the caller's transaction, relayed later."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from jg_events import Envelope, kafka_headers, topic_name


async def enqueue(conn: asyncpg.Connection, envelope: Envelope[Any], *, topic_prefix: str) -> None:
    """Write `envelope` into the outbox. Must run inside the transaction that changes the state."""
    if not conn.is_in_transaction():
        raise RuntimeError("outbox rows must be written inside the state's transaction")
    payload_cls = type(envelope.payload)
    await conn.execute(
        """INSERT INTO messaging_outbox
               (event_id, event_type, topic, message_key, headers, body)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6)""",
        envelope.event_id,
        envelope.type,
        topic_name(payload_cls.topic, topic_prefix),
        envelope.key,
        json.dumps(kafka_headers(envelope)),
        envelope.model_dump_json().encode(),
    )
