"""Outbox relay throughput and the commit-to-Kafka delay, against the real PostgreSQL and Kafka.

Targets (on the 2-core development machine): the relay publishes at least 500 events/s, and an
event committed while the relay is idle is on Kafka within 0.5 s at the median (NOTIFY wake-up,
not polling), so a customer's email can follow its event within a fraction of a second.
"""

import asyncio
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import pytest
from jg_devstack import Endpoints
from jg_devstack.kafka_records import read_topic
from jg_events import StockReplenished, Topic, topic_name
from jg_messaging import Messaging, OutboxRelay, idempotent_producer, migrate

pytestmark = pytest.mark.bench

EVENTS = 3000
TARGET_EVENTS_PER_SECOND = 500
TARGET_MEDIAN_DELAY_SECONDS = 0.5


def replenished(n: int) -> StockReplenished:
    return StockReplenished(
        sku=f"SKU-{n % 50}", quantity_added=n + 1, replenished_at=datetime.now(UTC)
    )


async def _pool(fresh_database: Callable[..., str]) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(fresh_database(), min_size=2, max_size=10)
    async with pool.acquire() as conn:
        await migrate(conn)
    return pool


async def test_relay_throughput(
    stack: Endpoints, fresh_database: Callable[..., str], topic_prefix: str
) -> None:
    pool = await _pool(fresh_database)
    messaging = Messaging(pool, "bench", topic_prefix)
    for start in range(0, EVENTS, 500):
        async with messaging.transaction() as uow:
            for n in range(start, start + 500):
                await uow.publish(replenished(n))
    relay = OutboxRelay(pool, idempotent_producer(stack.kafka_bootstrap, "bench"), batch_size=500)
    began = time.perf_counter()
    await relay.start()
    try:
        while await relay.pending_count():
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - began
    finally:
        await relay.stop()
        await pool.close()
    rate = EVENTS / elapsed
    print(f"\noutbox relay: {EVENTS} events in {elapsed:.2f} s = {rate:.0f} events/s")
    assert rate >= TARGET_EVENTS_PER_SECOND


async def test_commit_to_kafka_delay(
    stack: Endpoints, fresh_database: Callable[..., str], topic_prefix: str
) -> None:
    pool = await _pool(fresh_database)
    messaging = Messaging(pool, "bench", topic_prefix)
    relay = OutboxRelay(
        pool, idempotent_producer(stack.kafka_bootstrap, "bench"), poll_interval=600.0
    )
    topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
    delays: list[float] = []
    await relay.start()
    try:
        for n in range(20):
            await asyncio.sleep(0.2)  # let the relay go idle, waiting for a NOTIFY
            committed = time.perf_counter()
            async with messaging.transaction() as uow:
                await uow.publish(replenished(n))
            while await relay.pending_count():
                await asyncio.sleep(0.005)
            delays.append(time.perf_counter() - committed)
        records = await read_topic(stack.kafka_bootstrap, topic, count=20)
    finally:
        await relay.stop()
        await pool.close()
    assert len(records) == 20
    median = statistics.median(delays)
    print(f"\ncommit -> on Kafka: median {median * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms")
    assert median <= TARGET_MEDIAN_DELAY_SECONDS
