"""A row Kafka refuses is parked without stopping the relay; an outage parks nothing.

Against the real PostgreSQL and Kafka: what is on the topic, how many times, in which order.
"""

import asyncio
import socket
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from aiokafka import ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from jg_devstack import Endpoints
from jg_devstack.kafka_records import read_topic
from jg_events import Topic, parse, topic_name
from jg_messaging import Messaging, OutboxRelay, idempotent_producer
from jg_messaging.outbox import replay_parked
from jg_messaging.relay import KafkaUnreachableError

from .conftest import replenished

pytestmark = pytest.mark.integration

# The producer refuses a record over its max_request_size (1 MiB by default).
OVER_THE_LIMIT = b" " * 1_100_000  # trailing blanks: the body stays valid JSON


def relay_for(pool: asyncpg.Pool, bootstrap: str, **options: Any) -> OutboxRelay:
    return OutboxRelay(pool, lambda: idempotent_producer(bootstrap, "test-relay"), **options)


async def write(messaging: Messaging, *events: tuple[str, int]) -> dict[tuple[str, int], UUID]:
    """One transaction per event (sku, sequence number); their event ids."""
    ids = {}
    for sku, n in events:
        async with messaging.transaction() as uow:
            ids[(sku, n)] = (await uow.publish(replenished(sku, n))).event_id
    return ids


def sequences(records: list[ConsumerRecord[bytes, bytes]]) -> dict[str, list[int]]:
    """The sequence numbers published per key, in the order a consumer reads them."""
    out: dict[str, list[int]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        out[record.key.decode()].append(parse(record.value).payload.quantity_added)
    return dict(out)


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def row_of(db: asyncpg.Pool, event_id: UUID) -> asyncpg.Record:
    row = await db.fetchrow(
        """SELECT id, status, attempts, last_error, parked_at, next_attempt_at
           FROM messaging_outbox WHERE event_id = $1""",
        event_id,
    )
    assert row is not None
    return row


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_row_too_large_is_parked_other_keys_flow_in_order_and_its_key_waits_behind_it(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str
) -> None:
    messaging = Messaging(db, "test", topic_prefix)
    order = [("A", 1), ("B", 1), ("B", 2), ("A", 2), ("B", 3), ("A", 3), ("B", 4), ("A", 4)]
    ids = await write(messaging, *order)
    original = await db.fetchval(
        "SELECT body FROM messaging_outbox WHERE event_id = $1", ids[("A", 2)]
    )
    await db.execute(
        "UPDATE messaging_outbox SET body = body || $2 WHERE event_id = $1",
        ids[("A", 2)],
        OVER_THE_LIMIT,
    )
    topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)

    relay = relay_for(
        db, stack.kafka_bootstrap, park_after_attempts=3, retry_base_delay=0.05, poll_interval=0.1
    )
    await relay.start()
    try:
        too_large = ids[("A", 2)]
        await until(lambda: _status_is(db, too_large, "parked"))
        records = await read_topic(stack.kafka_bootstrap, topic, count=5, timeout=30, settle=1.5)
        status = await relay.status()
    finally:
        await relay.stop()

    # Key B went out whole, each event once, in order; key A stopped before the refused row.
    assert len(records) == 5
    assert sequences(records) == {"A": [1], "B": [1, 2, 3, 4]}
    parked = await row_of(db, ids[("A", 2)])
    assert parked["status"] == "parked"
    assert parked["attempts"] == 3
    assert parked["parked_at"] is not None
    assert "MessageSizeTooLargeError" in parked["last_error"]
    for behind in (("A", 3), ("A", 4)):
        waiting = await row_of(db, ids[behind])
        assert (waiting["status"], waiting["attempts"]) == ("pending", 0)
    assert (status.pending, status.parked) == (2, 1)
    assert status.oldest_pending_seconds is not None and status.oldest_pending_seconds > 0

    # Fixed (the body shrunk back) and replayed: key A goes out, in order, nothing twice.
    await db.execute(
        "UPDATE messaging_outbox SET body = $2 WHERE event_id = $1", ids[("A", 2)], original
    )
    async with db.acquire() as conn:
        replayed = await replay_parked(conn)
    assert [r["event_id"] for r in replayed] == [ids[("A", 2)]]
    relay = relay_for(db, stack.kafka_bootstrap)
    await relay.start()
    try:
        records = await read_topic(stack.kafka_bootstrap, topic, count=8, timeout=30, settle=1.5)
    finally:
        await relay.stop()
    assert len(records) == 8
    assert sequences(records) == {"A": [1, 2, 3, 4], "B": [1, 2, 3, 4]}
    assert await db.fetchval("SELECT count(*) FROM messaging_outbox WHERE status <> 'sent'") == 0


async def _status_is(db: asyncpg.Pool, event_id: UUID, status: str) -> bool:
    return bool(
        await db.fetchval(
            "SELECT status = $2 FROM messaging_outbox WHERE event_id = $1", event_id, status
        )
    )


async def test_rows_published_before_a_failure_in_their_batch_are_not_published_again(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str
) -> None:
    messaging = Messaging(db, "test", topic_prefix)
    ids = await write(messaging, ("B", 1), ("C", 1), ("D", 1), ("A", 1), ("B", 2), ("A", 2))
    await db.execute(
        "UPDATE messaging_outbox SET body = body || $2 WHERE event_id = $1",
        ids[("A", 1)],
        OVER_THE_LIMIT,
    )

    relay = relay_for(db, stack.kafka_bootstrap, retry_base_delay=0.0, park_after_attempts=100)
    try:
        rounds = [await relay.relay_once() for _ in range(3)]  # one batch each
    finally:
        await relay.stop()
    assert [(r.claimed, r.sent, r.failed) for r in rounds] == [(6, 4, 1), (2, 0, 1), (2, 0, 1)]

    topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
    records = await read_topic(stack.kafka_bootstrap, topic, count=4, timeout=30, settle=1.5)
    assert len(records) == 4  # B1, C1, D1, B2 once each, though their batch failed thrice
    assert sequences(records) == {"B": [1, 2], "C": [1], "D": [1]}
    assert (await row_of(db, ids[("A", 1)]))["attempts"] == 3
    assert (await row_of(db, ids[("A", 2)]))["attempts"] == 0  # waited, never sent


async def test_an_outage_parks_nothing_and_the_rows_go_out_when_kafka_is_back(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str
) -> None:
    messaging = Messaging(db, "test", topic_prefix)
    await write(messaging, ("A", 1), ("B", 1), ("A", 2))
    nowhere = f"127.0.0.1:{free_port()}"  # nothing listens there: Kafka is "down"

    # One counted attempt would park a row at once: none may be counted.
    down = relay_for(
        db, nowhere, park_after_attempts=1, max_backoff=0.2, send_timeout=2.0, poll_interval=0.1
    )
    with pytest.raises(KafkaUnreachableError):
        await down.relay_once()
    await down.start()
    try:
        await asyncio.sleep(3.0)  # many rounds of backoff
        status = await down.status()
    finally:
        await down.stop()
    assert (status.pending, status.parked) == (3, 0)
    assert status.relay_error is not None and "cannot connect" in status.relay_error
    rows = await db.fetch("SELECT status, attempts FROM messaging_outbox ORDER BY id")
    assert [(r["status"], r["attempts"]) for r in rows] == [("pending", 0)] * 3

    up = relay_for(db, stack.kafka_bootstrap)
    await up.start()
    try:
        topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
        records = await read_topic(stack.kafka_bootstrap, topic, count=3, timeout=30, settle=1.0)
    finally:
        await up.stop()
    assert sequences(records) == {"A": [1, 2], "B": [1]}


async def test_thousands_of_rows_behind_a_parked_row_do_not_hold_up_other_keys(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str
) -> None:
    messaging = Messaging(db, "test", topic_prefix)
    ids = await write(messaging, ("A", 1))
    await db.execute(
        """UPDATE messaging_outbox SET attempts = 10, parked_at = now(),
                  last_error = 'MessageSizeTooLargeError: ...' WHERE event_id = $1""",
        ids[("A", 1)],
    )
    await db.execute(  # 5000 later events of key A wait behind it
        """INSERT INTO messaging_outbox (event_id, event_type, topic, message_key, headers, body)
           SELECT gen_random_uuid(), event_type, topic, message_key, headers, body
           FROM messaging_outbox, generate_series(1, 5000) WHERE event_id = $1""",
        ids[("A", 1)],
    )
    await write(messaging, ("B", 1), ("B", 2), ("C", 1))

    relay = relay_for(db, stack.kafka_bootstrap, batch_size=50)
    try:
        first = await relay.relay_once()
        status = await relay.status()
    finally:
        await relay.stop()
    assert (first.claimed, first.sent) == (3, 3)  # the claim skipped key A's rows
    assert (status.pending, status.parked) == (5000, 1)
    topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
    records = await read_topic(stack.kafka_bootstrap, topic, count=3, timeout=30, settle=1.0)
    assert sequences(records) == {"B": [1, 2], "C": [1]}


async def test_a_record_kafka_refuses_after_accepting_it_blames_only_that_row(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str
) -> None:
    """The topic accepts records of 4 KiB at most, the producer up to 1 MiB: Kafka refuses the
    record only once it reached the broker, failing the whole produce batch (its neighbours
    with it) and breaking the producer's sequence for the partition. The neighbours are sent
    again, alone; only the guilty row counts an attempt, then is parked."""
    topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": "4096"})]
        )
    finally:
        await admin.close()
    messaging = Messaging(db, "test", topic_prefix)
    ids = await write(messaging, ("X", 1), ("Y", 1), ("Z", 1), ("Y", 2), ("X", 2))
    await db.execute(
        "UPDATE messaging_outbox SET body = body || $2 WHERE event_id = $1",
        ids[("Y", 1)],
        b" " * 10_000,
    )

    relay = relay_for(db, stack.kafka_bootstrap, retry_base_delay=0.0, park_after_attempts=2)
    try:
        rounds = [await relay.relay_once() for _ in range(3)]
    finally:
        await relay.stop()
    assert [(r.sent, r.failed, r.parked) for r in rounds] == [(2, 1, 0), (1, 1, 1), (0, 0, 0)]

    records = await read_topic(stack.kafka_bootstrap, topic, count=3, timeout=30, settle=1.5)
    assert sequences(records) == {"X": [1, 2], "Z": [1]}
    guilty = await row_of(db, ids[("Y", 1)])
    assert (guilty["status"], guilty["attempts"]) == ("parked", 2)
    assert "MessageSizeTooLargeError" in guilty["last_error"]
    for innocent in (("X", 1), ("Z", 1), ("X", 2)):
        row = await row_of(db, ids[innocent])
        assert (row["status"], row["attempts"]) == ("sent", 1)
    behind = await row_of(db, ids[("Y", 2)])
    assert (behind["status"], behind["attempts"]) == ("pending", 0)


async def test_the_relay_listens_again_after_its_database_connection_was_cut(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str
) -> None:
    relay = relay_for(db, stack.kafka_bootstrap, poll_interval=600.0)  # polling would take 10 min
    await relay.start()
    try:
        listener = await _listening_backend(db)
        assert listener is not None
        # What a PostgreSQL restart does to it (the other connections are the test's).
        await db.execute("SELECT pg_terminate_backend($1)", listener)
        await until(lambda: _listens_again(db, listener), timeout=10)

        await write(Messaging(db, "test", topic_prefix), ("A", 1))
        topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
        records = await read_topic(stack.kafka_bootstrap, topic, count=1, timeout=10)
    finally:
        await relay.stop()
    assert sequences(records) == {"A": [1]}


async def _listening_backend(db: asyncpg.Pool) -> int | None:
    pid = await db.fetchval(
        """SELECT pid FROM pg_stat_activity
           WHERE datname = current_database() AND query LIKE 'LISTEN %'"""
    )
    return None if pid is None else int(pid)


async def _listens_again(db: asyncpg.Pool, old: int) -> bool:
    pid = await _listening_backend(db)
    return pid is not None and pid != old


async def test_a_row_for_an_invalid_topic_is_parked_and_its_topic_costs_one_wait_per_round(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str
) -> None:
    """Kafka gives no metadata for an invalid topic name: the producer waits for it until the
    relay's send timeout. The other rows of that topic are not tried in the same round (each
    would wait as long), the rows of other topics go out, and the row is eventually parked."""
    messaging = Messaging(db, "test", topic_prefix)
    ids = await write(messaging, ("B", 1), ("X", 1), ("Y", 1), ("B", 2))
    await db.execute(
        "UPDATE messaging_outbox SET topic = $2 WHERE event_id = ANY($1::uuid[])",
        [ids[("X", 1)], ids[("Y", 1)]],
        f"{topic_prefix}not a valid topic!",
    )

    relay = relay_for(
        db, stack.kafka_bootstrap, send_timeout=2.0, retry_base_delay=0.0, park_after_attempts=2
    )
    loop = asyncio.get_running_loop()
    try:
        began = loop.time()
        first = await relay.relay_once()
        took = loop.time() - began
        second = await relay.relay_once()
    finally:
        await relay.stop()
    assert (first.sent, first.failed) == (2, 1)
    assert took < 3.9  # one 2-second wait for the topic, not one per row
    assert (second.sent, second.failed, second.parked) == (0, 1, 1)

    topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
    records = await read_topic(stack.kafka_bootstrap, topic, count=2, timeout=30, settle=1.0)
    assert sequences(records) == {"B": [1, 2]}
    parked = await row_of(db, ids[("X", 1)])
    assert (parked["status"], parked["attempts"]) == ("parked", 2)
    untried = await row_of(db, ids[("Y", 1)])
    assert (untried["status"], untried["attempts"]) == ("pending", 0)
