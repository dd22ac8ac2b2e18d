"""tools/outbox_replay.py against the real PostgreSQL and Kafka: an operator lists the rows the
relay parked, replays one after fixing its cause, and the relay publishes it and the rows of its
key that waited behind it, in order; --dry-run and ids that are not parked change nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from jg_devstack import Endpoints
from jg_devstack.kafka_records import read_topic
from jg_events import StockReplenished, Topic, parse, topic_name
from jg_messaging import Messaging, OutboxRelay, idempotent_producer, migrate

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TOO_LARGE = b" " * 1_100_000  # over the producer's 1 MiB max_request_size; still valid JSON


@pytest.fixture
async def database(fresh_database: Callable[..., str]) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    dsn = fresh_database()
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
    async with pool.acquire() as conn:
        await migrate(conn)
    yield dsn, pool
    await pool.close()


def replay_tool(dsn: str, *args: str) -> list[dict[str, Any]]:
    done = subprocess.run(  # the operator's command, as documented
        [sys.executable, str(ROOT / "tools" / "outbox_replay.py"), "--dsn", dsn, *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def replenished(sku: str, n: int) -> StockReplenished:
    return StockReplenished(sku=sku, quantity_added=n, replenished_at=datetime.now(UTC))


async def test_an_operator_lists_then_replays_a_parked_row_and_its_key_follows_in_order(
    database: tuple[str, asyncpg.Pool], stack: Endpoints, topic_prefix: str
) -> None:
    dsn, pool = database
    messaging = Messaging(pool, "test", topic_prefix)
    event_ids = {}
    for sku, n in [("KOKESHI", 1), ("KOKESHI", 2), ("TENUGUI", 1), ("KOKESHI", 3)]:
        async with messaging.transaction() as uow:
            event_ids[(sku, n)] = (await uow.publish(replenished(sku, n))).event_id
    for sku in ("KOKESHI", "TENUGUI"):  # the second row of each key is refused, then parked
        n = 2 if sku == "KOKESHI" else 1
        await pool.execute(
            "UPDATE messaging_outbox SET body = body || $2 WHERE event_id = $1",
            event_ids[(sku, n)],
            TOO_LARGE,
        )

    relay = OutboxRelay(
        pool,
        lambda: idempotent_producer(stack.kafka_bootstrap, "ops-test"),
        park_after_attempts=2,
        retry_base_delay=0.0,
    )
    try:
        for _ in range(3):
            await relay.relay_once()
    finally:
        await relay.stop()

    listed = replay_tool(dsn)
    assert [(e["action"], e["key"], e["attempts"], e["waiting_behind"]) for e in listed] == [
        ("listed", "KOKESHI", 2, 1),
        ("listed", "TENUGUI", 2, 0),
    ]
    kokeshi = listed[0]
    assert kokeshi["event_type"] == "StockReplenished"
    assert kokeshi["event_id"] == str(event_ids[("KOKESHI", 2)])
    assert "MessageSizeTooLargeError" in kokeshi["error"]
    assert kokeshi["parked_at"]

    # A dry run, and an id that is not parked, change nothing.
    dry = replay_tool(dsn, "--replay", str(kokeshi["id"]), "--dry-run")
    assert [(e["action"], e["id"]) for e in dry] == [("would replay", kokeshi["id"])]
    not_parked = replay_tool(dsn, "--replay", "999999")
    assert [e["action"] for e in not_parked] == ["skipped: not parked"]
    assert len(replay_tool(dsn)) == 2

    # The cause is fixed (the record shrunk back under the limit), then the row replayed.
    await pool.execute(
        "UPDATE messaging_outbox SET body = rtrim(body, ' '::bytea) WHERE event_id = $1",
        event_ids[("KOKESHI", 2)],
    )
    replayed = replay_tool(dsn, "--replay", str(kokeshi["id"]))
    assert [(e["action"], e["id"]) for e in replayed] == [("replayed", kokeshi["id"])]
    row = await pool.fetchrow(
        "SELECT status, attempts FROM messaging_outbox WHERE id = $1", kokeshi["id"]
    )
    assert (row["status"], row["attempts"]) == ("pending", 0)
    assert [e["key"] for e in replay_tool(dsn)] == ["TENUGUI"]  # still parked

    relay = OutboxRelay(pool, lambda: idempotent_producer(stack.kafka_bootstrap, "ops-test"))
    await relay.start()
    try:
        topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
        records = await read_topic(stack.kafka_bootstrap, topic, count=3, timeout=30, settle=1.5)
    finally:
        await relay.stop()
    published = [
        (r.key.decode(), parse(r.value).payload.quantity_added)
        for r in sorted(records, key=lambda r: (r.partition, r.offset))
        if r.key == b"KOKESHI"
    ]
    assert published == [("KOKESHI", 1), ("KOKESHI", 2), ("KOKESHI", 3)]
    assert len(records) == 3  # nothing twice; TENUGUI's refused row still parked

    # --all replays what is left.
    everything = replay_tool(dsn, "--all")
    assert [(e["action"], e["key"]) for e in everything] == [("replayed", "TENUGUI")]
    assert replay_tool(dsn) == []
