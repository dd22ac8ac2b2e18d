"""Key-ordered concurrency and at-least-once commits against the real Kafka and PostgreSQL."""

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from jg_devstack import Endpoints
from jg_events import (
    Envelope,
    ParcelDelivered,
    StockReplenished,
    Topic,
    kafka_headers,
    topic_name,
)
from jg_messaging import (
    ConsumerHealth,
    Messaging,
    RetryPolicy,
    consumer_group,
    create_broker,
    handles,
    migrate,
    subscribe,
)

from .conftest import delivered, envelope_of, replenished
from .test_consumer import unreachable_dsn

pytestmark = pytest.mark.integration

SERVICE = "fulfillment"
WORKER = Path(__file__).with_name("keyed_worker.py")


async def create_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()


async def produce(bootstrap: str, topic: str, records: list[tuple[int, Envelope]]) -> None:
    """Each envelope on the given partition, keyed by its order id, in list order."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for partition, envelope in records:
            await producer.send_and_wait(
                topic,
                envelope.model_dump_json().encode(),
                key=envelope.key.encode(),
                partition=partition,
                headers=[(k, v.encode()) for k, v in kafka_headers(envelope).items()],
            )
    finally:
        await producer.stop()


async def committed_offsets(bootstrap: str, group: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items()}


async def eventually(check: Callable[[], bool], timeout: float = 60.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


def sequence(event: Envelope[ParcelDelivered]) -> int:
    return int(event.payload.tracking_number[2:11])  # delivered(order, n): EJ{n:09d}JP


async def test_a_slow_order_does_not_delay_the_other_orders_of_its_partition(
    stack: Endpoints, topic_prefix: str
) -> None:
    """One partition: the handler of one order waits (a slow Stripe call); the other orders'
    events behind it are all handled meanwhile, and each order's events in their order."""
    topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
    await create_topic(stack.kafka_bootstrap, topic)
    slow, others = uuid4(), [uuid4() for _ in range(4)]
    records = [(0, envelope_of(delivered(order, n))) for n in range(3) for order in [slow, *others]]
    await produce(stack.kafka_bootstrap, topic, records)

    release = asyncio.Event()
    handled: list[tuple[UUID, int]] = []
    broker = create_broker(stack.kafka_bootstrap, service=SERVICE, topic_prefix=topic_prefix)
    reports = subscribe(
        broker, Topic.LOGISTICS_REPORTS, service=SERVICE, topic_prefix=topic_prefix, concurrency=8
    )

    @reports(filter=handles(ParcelDelivered))
    async def on_parcel_delivered(event: Envelope[ParcelDelivered]) -> None:
        if event.payload.order_id == slow:
            await release.wait()
        await asyncio.sleep(0.01)  # some work: concurrent events overlap
        handled.append((event.payload.order_id, sequence(event)))

    await broker.start()
    try:
        await eventually(lambda: len(handled) == 12)  # every other order, all three events
        assert all(order != slow for order, _ in handled)
        release.set()
        await eventually(lambda: len(handled) == 15)
    finally:
        await broker.stop()
    for order in [slow, *others]:
        assert [n for o, n in handled if o == order] == [0, 1, 2]
    committed = await committed_offsets(
        stack.kafka_bootstrap, consumer_group(SERVICE, topic_prefix)
    )
    assert committed.get(0) == 15  # stopping committed everything that finished


@pytest.fixture
async def database(fresh_database: Callable[..., str]) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    dsn = fresh_database()
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=8)
    async with pool.acquire() as conn:
        await migrate(conn)
        await conn.execute("CREATE TABLE effects (id serial PRIMARY KEY, event_id uuid, note text)")
    yield dsn, pool
    await pool.close()


async def test_a_consumer_killed_mid_way_has_every_unfinished_event_redelivered(
    stack: Endpoints, topic_prefix: str, database: tuple[str, asyncpg.Pool]
) -> None:
    """Three partitions, three orders each, three events per order; on partitions 0 and 1 one
    order's handler never returns. The other orders are all applied, the commits stop at the
    stuck events' offsets; then the process is killed (SIGKILL) and a new consumer of the same
    group applies every event not applied yet: none lost, none applied twice, each order's
    events in their order."""
    dsn, pool = database
    bootstrap = stack.kafka_bootstrap
    topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
    group = consumer_group(SERVICE, topic_prefix)
    await create_topic(bootstrap, topic)
    orders = {p: [uuid4(), uuid4(), uuid4()] for p in range(3)}
    stuck = {orders[0][1], orders[1][1]}  # offset 1 of partitions 0 and 1
    records = [
        (p, envelope_of(delivered(order, n)))
        for p in range(3)
        for n in range(3)
        for order in orders[p]
    ]
    await produce(bootstrap, topic, records)
    everything = {envelope.event_id for _, envelope in records}

    async def applied() -> int:
        return int(await pool.fetchval("SELECT count(*) FROM effects"))

    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        bootstrap,
        dsn,
        topic_prefix,
        *(str(order) for order in stuck),
        env=os.environ.copy(),
    )
    try:
        async with asyncio.timeout(60):
            while await applied() < 27 - 6:  # all but the stuck orders' three events each
                await asyncio.sleep(0.1)
            while await committed_offsets(bootstrap, group) != {0: 1, 1: 1, 2: 9}:
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)  # the committer has had its chances: it stays below the stuck
        assert await committed_offsets(bootstrap, group) == {0: 1, 1: 1, 2: 9}
        assert await applied() == 21
    finally:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()

    messaging = Messaging(pool, SERVICE, topic_prefix)
    broker = create_broker(bootstrap, service=SERVICE, topic_prefix=topic_prefix)
    reports = subscribe(
        broker,
        Topic.LOGISTICS_REPORTS,
        service=SERVICE,
        topic_prefix=topic_prefix,
        concurrency=8,
        session_timeout_ms=6000,
    )

    @reports(filter=handles(ParcelDelivered))
    async def on_parcel_delivered(event: Envelope[ParcelDelivered]) -> None:
        async with messaging.handling(event) as uow:
            if uow.already_processed:
                return
            await uow.conn.execute(
                "INSERT INTO effects (event_id, note) VALUES ($1, $2)",
                event.event_id,
                event.payload.tracking_number,
            )

    await broker.start()
    try:
        async with asyncio.timeout(60):
            while await committed_offsets(bootstrap, group) != {0: 9, 1: 9, 2: 9}:
                await asyncio.sleep(0.1)
    finally:
        await broker.stop()
    rows = await pool.fetch("SELECT event_id, note FROM effects ORDER BY id")
    assert {row["event_id"] for row in rows} == everything  # none lost
    assert len(rows) == 27  # the re-delivered ones already applied were deduped
    by_order: dict[str, list[str]] = {}
    for _, envelope in records:
        by_order.setdefault(envelope.key, [])
    notes = {envelope.event_id: envelope for _, envelope in records}
    for row in rows:
        envelope = notes[row["event_id"]]
        by_order[envelope.key].append(row["note"])
    for key, tracking in by_order.items():
        assert tracking == sorted(tracking), key  # each order's events applied in their order


async def test_a_transient_wait_holds_its_key_not_its_partition(
    stack: Endpoints, topic_prefix: str
) -> None:
    """The database refuses one sku's connections: that sku's events wait (and /ready says so),
    another sku's event behind them on the same partition is applied meanwhile."""
    topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
    await create_topic(stack.kafka_bootstrap, topic)
    records = [
        (0, envelope_of(replenished("SKU-OUTAGE", 1))),
        (0, envelope_of(replenished("SKU-OUTAGE", 2))),
        (0, envelope_of(replenished("SKU-OTHER", 3))),
    ]
    await produce(stack.kafka_bootstrap, topic, records)
    recovered = asyncio.Event()
    applied: list[tuple[str, int]] = []
    health = ConsumerHealth()
    broker = create_broker(
        stack.kafka_bootstrap,
        service=SERVICE,
        topic_prefix=topic_prefix,
        policy=RetryPolicy(attempts=3, first_delay=0.05, wait_first_delay=0.05, wait_max_delay=0.2),
        health=health,
    )
    reports = subscribe(
        broker, Topic.LOGISTICS_REPORTS, service=SERVICE, topic_prefix=topic_prefix, concurrency=8
    )

    @reports(filter=handles(StockReplenished))
    async def on_stock_replenished(event: Envelope[StockReplenished]) -> None:
        if event.payload.sku == "SKU-OUTAGE" and not recovered.is_set():
            await asyncpg.connect(unreachable_dsn(), timeout=2)  # refused, for real
        applied.append((event.payload.sku, event.payload.quantity_added))

    await broker.start()
    try:
        await eventually(lambda: applied == [("SKU-OTHER", 3)])
        waiting = health.describe()
        assert waiting is not None and waiting.startswith("waiting for")
        recovered.set()
        await eventually(lambda: len(applied) == 3)
    finally:
        await broker.stop()
    assert applied == [("SKU-OTHER", 3), ("SKU-OUTAGE", 1), ("SKU-OUTAGE", 2)]
    assert health.describe() is None
