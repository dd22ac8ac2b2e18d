"""The outbox and its relay against the real PostgreSQL and Kafka."""

import asyncio
import json
from collections import defaultdict
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from jg_devstack import Endpoints
from jg_devstack.kafka_records import headers_of, read_topic
from jg_events import Topic, parse, topic_name
from jg_messaging import Messaging, OutboxRelay, idempotent_producer, outbox

from .conftest import delivered, replenished

pytestmark = pytest.mark.integration


def relay_for(pool: asyncpg.Pool, stack: Endpoints, **options: Any) -> OutboxRelay:
    return OutboxRelay(
        pool, lambda: idempotent_producer(stack.kafka_bootstrap, "test-relay"), **options
    )


async def test_state_and_event_commit_together_and_a_rollback_publishes_nothing(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str, order_id
) -> None:
    messaging = Messaging(db, "test", topic_prefix)
    with pytest.raises(RuntimeError, match="payment declined"):
        async with messaging.transaction(correlation_id="corr-rolled-back") as uow:
            await uow.conn.execute("INSERT INTO effects (note) VALUES ('rolled back')")
            await uow.publish(delivered(uuid4()))
            raise RuntimeError("payment declined")
    async with messaging.transaction(correlation_id="corr-kept") as uow:
        await uow.conn.execute("INSERT INTO effects (note) VALUES ('kept')")
        sent = await uow.publish(delivered(order_id))

    assert await db.fetchval("SELECT count(*) FROM effects") == 1
    assert await db.fetchval("SELECT count(*) FROM messaging_outbox") == 1

    relay = relay_for(db, stack)
    await relay.start()
    try:
        topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
        records = await read_topic(stack.kafka_bootstrap, topic, count=1, settle=1.0)
    finally:
        await relay.stop()

    assert len(records) == 1
    record = records[0]
    envelope = parse(record.value)
    assert envelope.event_id == sent.event_id
    assert envelope.correlation_id == "corr-kept"
    assert envelope.payload == sent.payload
    assert record.key == str(order_id).encode()
    assert headers_of(record)["event-type"] == "ParcelDelivered"
    assert headers_of(record)["correlation-id"] == "corr-kept"
    assert await db.fetchval("SELECT count(*) FROM messaging_outbox WHERE sent_at IS NULL") == 0


async def test_relay_wakes_on_commit_without_waiting_for_its_poll(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str, order_id
) -> None:
    relay = relay_for(db, stack, poll_interval=600.0)  # polling alone would take 10 minutes
    await relay.start()
    try:
        await asyncio.sleep(0.5)  # the relay is now idle, waiting for a NOTIFY
        async with Messaging(db, "test", topic_prefix).transaction() as uow:
            await uow.publish(delivered(order_id))
        topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
        records = await read_topic(stack.kafka_bootstrap, topic, count=1, timeout=30.0)
    finally:
        await relay.stop()
    assert len(records) == 1


async def test_two_relays_publish_each_row_once_in_order_per_key(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str
) -> None:
    skus = [f"SKU-{n}" for n in range(6)]
    messaging = Messaging(db, "test", topic_prefix)

    async def writer(sku: str) -> None:
        for quantity in range(1, 31):  # the quantity is the sequence number per key
            async with messaging.transaction() as uow:
                await uow.publish(replenished(sku, quantity))

    relays = [relay_for(db, stack, batch_size=7, poll_interval=0.2) for _ in range(2)]
    for relay in relays:
        await relay.start()
    try:
        await asyncio.gather(*(writer(sku) for sku in skus))
        topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
        records = await read_topic(stack.kafka_bootstrap, topic, count=180, timeout=60, settle=1.0)
    finally:
        for relay in relays:
            await relay.stop()

    events = [parse(r.value) for r in records]
    assert len({e.event_id for e in events}) == len(events) == 180  # no row published twice
    sequences: dict[str, list[int]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        sequences[record.key.decode()].append(parse(record.value).payload.quantity_added)
    assert sequences == {sku: list(range(1, 31)) for sku in skus}


class DiesBeforeMarking(OutboxRelay):
    async def _mark_sent(self, conn: asyncpg.Connection, ids: list[int]) -> None:
        raise ConnectionResetError("relay killed after publishing, before marking")


async def test_a_relay_dying_after_publishing_republishes_and_the_inbox_absorbs_it(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str, order_id
) -> None:
    messaging = Messaging(db, "test", topic_prefix)
    async with messaging.transaction() as uow:
        await uow.publish(delivered(order_id))

    dying = DiesBeforeMarking(db, idempotent_producer(stack.kafka_bootstrap, "dying"))
    try:
        with pytest.raises(ConnectionResetError):
            await dying.relay_once()
    finally:
        await dying.stop()
    assert await db.fetchval("SELECT count(*) FROM messaging_outbox WHERE sent_at IS NULL") == 1

    relay = relay_for(db, stack)
    await relay.start()
    topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
    try:
        records = await read_topic(stack.kafka_bootstrap, topic, count=2, timeout=30)
    finally:
        await relay.stop()
    assert len(records) == 2  # published twice: at least once, not exactly once
    assert records[0].value == records[1].value

    for record in records:  # a consumer applying both copies applies the event once
        envelope = parse(record.value)
        async with messaging.handling(envelope) as uow:
            if not uow.already_processed:
                await uow.conn.execute(
                    "INSERT INTO effects (event_id, note) VALUES ($1, 'delivered')",
                    envelope.event_id,
                )
    assert await db.fetchval("SELECT count(*) FROM effects") == 1


async def test_a_row_that_fails_to_publish_stays_pending_and_is_relayed_later(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str, order_id
) -> None:
    messaging = Messaging(db, "test", topic_prefix)
    async with messaging.transaction() as uow:
        await uow.publish(delivered(order_id))

    tiny = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, max_request_size=64)
    failing = OutboxRelay(db, tiny, retry_base_delay=0.0)
    try:
        result = await failing.relay_once()
    finally:
        await failing.stop()
    assert (result.sent, result.failed, result.parked) == (0, 1, 0)
    row = await db.fetchrow("SELECT status, sent_at, attempts, last_error FROM messaging_outbox")
    assert row["status"] == "pending"
    assert row["sent_at"] is None
    assert row["attempts"] == 1
    assert "MessageSizeTooLarge" in row["last_error"]

    relay = relay_for(db, stack)
    await relay.start()
    try:
        topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
        records = await read_topic(stack.kafka_bootstrap, topic, count=1, timeout=30)
    finally:
        await relay.stop()
    assert len(records) == 1
    assert await db.fetchval("SELECT count(*) FROM messaging_outbox WHERE sent_at IS NULL") == 0


async def test_outbox_refuses_writes_outside_a_transaction(db: asyncpg.Pool, order_id) -> None:
    from .conftest import envelope_of

    async with db.acquire() as conn:
        with pytest.raises(RuntimeError, match="inside the state's transaction"):
            await outbox.enqueue(conn, envelope_of(delivered(order_id)), topic_prefix="")
    assert json.loads("[]") == []


async def test_an_erasure_forgets_the_copies_published_now_and_the_waiting_ones_once_sent(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str, order_id
) -> None:
    """An erased customer's order: its published copies go at once; the one still waiting is
    published (other services need it), then deleted; another order's copies stay."""
    messaging = Messaging(db, "test", topic_prefix)
    other = uuid4()
    async with messaging.transaction() as uow:
        await uow.publish(delivered(order_id, 1))
        await uow.publish(delivered(other, 2))
    await db.execute("UPDATE messaging_outbox SET sent_at = now()")  # both already published
    async with messaging.transaction() as uow:
        waiting = await uow.publish(delivered(order_id, 3))  # not relayed yet
    async with db.acquire() as conn:
        assert await outbox.forget(conn, [str(order_id)]) == 1  # the published one, at once
    assert await db.fetchval(
        "SELECT forget_after_send FROM messaging_outbox WHERE event_id = $1", waiting.event_id
    )
    relay = relay_for(db, stack)
    await relay.start()
    try:
        topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
        records = await read_topic(stack.kafka_bootstrap, topic, count=1, settle=1.0)
        for _ in range(50):
            if not await db.fetchval(
                "SELECT count(*) FROM messaging_outbox WHERE message_key = $1", str(order_id)
            ):
                break
            await asyncio.sleep(0.1)
    finally:
        await relay.stop()
    assert [parse(r.value).event_id for r in records] == [waiting.event_id]
    assert (
        await db.fetchval(
            "SELECT count(*) FROM messaging_outbox WHERE message_key = $1", str(order_id)
        )
        == 0
    )
    assert (
        await db.fetchval(
            "SELECT count(*) FROM messaging_outbox WHERE message_key = $1", str(other)
        )
        == 1
    )


async def test_a_copy_being_marked_sent_while_an_erasure_forgets_it_is_forgotten_too(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str, order_id
) -> None:
    """A consumer may read an event (and erase its subject) before the relay that published it
    has committed it as sent: the relay still holds the row. The copy must go all the same."""
    messaging = Messaging(db, "test", topic_prefix)
    async with messaging.transaction() as uow:
        await uow.publish(delivered(order_id, 1))
    row_id = await db.fetchval("SELECT id FROM messaging_outbox")
    relay = relay_for(db, stack)
    async with db.acquire() as relaying, db.acquire() as erasing:
        claim = relaying.transaction()
        await claim.start()  # the relay's round: the row is claimed while Kafka takes it
        await relaying.execute("SELECT id FROM messaging_outbox WHERE id = $1 FOR UPDATE", row_id)

        async def forget() -> int:
            async with erasing.transaction():
                return await outbox.forget(erasing, [str(order_id)])

        forgetting = asyncio.create_task(forget())
        await asyncio.sleep(0.5)
        assert not forgetting.done()  # it waits for the relay's round
        await relay._mark_sent(relaying, [row_id])
        await claim.commit()
        await asyncio.wait_for(forgetting, 10)
    assert await db.fetchval("SELECT count(*) FROM messaging_outbox") == 0
