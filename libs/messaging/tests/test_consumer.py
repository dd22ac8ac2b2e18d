"""Reliable consumption through FastStream against the real Kafka and PostgreSQL."""

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from jg_devstack import Endpoints
from jg_devstack.kafka_records import headers_of, publish_raw, read_topic
from jg_events import (
    Envelope,
    ParcelDelivered,
    StockReplenished,
    Topic,
    dead_letter_topic,
    kafka_headers,
    topic_name,
)
from jg_messaging import (
    ConsumerHealth,
    Messaging,
    RetryPolicy,
    create_broker,
    handles,
    subscribe,
)

from .conftest import delivered, envelope_of, replenished

pytestmark = pytest.mark.integration

SERVICE = "fulfillment"


def unreachable_dsn() -> str:
    """A PostgreSQL DSN on a port where nothing listens: connecting is refused, for real."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql://nobody:nobody@127.0.0.1:{port}/nothing"


class Consumer:
    """A test service consuming the logistics reports with the real plumbing.

    ``outage_calls``: the first calls connect to a database that refuses connections (a real
    transient failure); ``SKU-ALWAYS-FAILS`` raises a bug (an unknown failure).
    """

    def __init__(
        self,
        db: asyncpg.Pool,
        stack: Endpoints,
        prefix: str,
        fail_times: int = 0,
        *,
        outage_calls: int = 0,
        probe: Any = None,
    ):
        self.messaging = Messaging(db, SERVICE, prefix)
        self.health = ConsumerHealth()
        self.broker = create_broker(
            stack.kafka_bootstrap,
            service=SERVICE,
            topic_prefix=prefix,
            policy=RetryPolicy(
                attempts=3, first_delay=0.05, wait_first_delay=0.05, wait_max_delay=0.3
            ),
            health=self.health,
            probe=probe,
        )
        self.fail_times = fail_times
        self.outage_calls = outage_calls
        self.calls = 0
        self.applied = asyncio.Queue[str]()
        reports = subscribe(
            self.broker, Topic.LOGISTICS_REPORTS, service=SERVICE, topic_prefix=prefix
        )

        @reports(filter=handles(StockReplenished))
        async def on_stock_replenished(event: Envelope[StockReplenished]) -> None:
            self.calls += 1
            if self.calls <= self.outage_calls:
                await asyncpg.connect(unreachable_dsn(), timeout=2)
            if event.payload.sku == "SKU-ALWAYS-FAILS":
                raise ValueError("no stock rule for this sku")
            if self.calls <= self.fail_times:
                raise ConnectionError("stock database briefly unavailable")
            async with self.messaging.handling(event) as uow:
                if uow.already_processed:
                    return
                await uow.conn.execute(
                    "INSERT INTO effects (event_id, note) VALUES ($1, $2)",
                    event.event_id,
                    event.payload.sku,
                )
            await self.applied.put(event.payload.sku)

    async def next_applied(self, timeout: float = 30.0) -> str:
        return await asyncio.wait_for(self.applied.get(), timeout)


@pytest.fixture
async def consumer_factory(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str
) -> AsyncIterator[Any]:
    started: list[Consumer] = []

    async def start(fail_times: int = 0, **options: Any) -> Consumer:
        consumer = Consumer(db, stack, topic_prefix, fail_times, **options)
        await consumer.broker.start()
        started.append(consumer)
        return consumer

    yield start
    for consumer in started:
        await consumer.broker.stop()


def as_message(envelope: Envelope[Any]) -> tuple[bytes, bytes, dict[str, str]]:
    return envelope.key.encode(), envelope.model_dump_json().encode(), kafka_headers(envelope)


async def test_a_poison_message_is_dead_lettered_and_the_next_one_is_handled(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str, consumer_factory: Any
) -> None:
    topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
    good = envelope_of(replenished("SKU-GOOD", 4))
    poison_headers = kafka_headers(envelope_of(replenished("SKU-X", 1)))
    poison = (b"SKU-X", b'{"payload": {"sku": "SKU-X", "quantity_added": -3}}', poison_headers)
    await publish_raw(stack.kafka_bootstrap, topic, [poison, as_message(good)])

    consumer = await consumer_factory()
    assert await consumer.next_applied() == "SKU-GOOD"

    dlq = await read_topic(stack.kafka_bootstrap, dead_letter_topic(SERVICE, topic_prefix), count=1)
    assert len(dlq) == 1
    dead = dlq[0]
    assert dead.value == poison[1]  # the original message, byte for byte
    assert dead.key == b"SKU-X"
    headers = headers_of(dead)
    assert headers["event-type"] == "StockReplenished"  # original headers kept
    assert headers["dlq-reason"] == "unreadable"
    assert headers["dlq-original-topic"] == topic
    assert "quantity_added" in headers["dlq-error"] or "payload" in headers["dlq-error"]
    assert await db.fetchval("SELECT count(*) FROM effects") == 1


async def test_transient_failures_are_retried_and_applied_once(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str, consumer_factory: Any
) -> None:
    topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
    await publish_raw(
        stack.kafka_bootstrap, topic, [as_message(envelope_of(replenished("SKU-R", 2)))]
    )
    consumer = await consumer_factory(fail_times=2)
    assert await consumer.next_applied() == "SKU-R"
    assert consumer.calls == 3
    dlq = await read_topic(
        stack.kafka_bootstrap, dead_letter_topic(SERVICE, topic_prefix), count=1, timeout=2
    )
    assert dlq == []


async def test_an_outage_longer_than_the_retries_waits_and_holds_its_key(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str, consumer_factory: Any
) -> None:
    """The database refuses connections for 12 calls (attempts=3): nothing is dead-lettered,
    the next message of its key is not applied before it, /ready says what is waited (another
    key is not held: test_keyed_consumer)."""
    topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
    first = envelope_of(replenished("SKU-OUTAGE", 2))
    _, second_value, second_headers = as_message(envelope_of(replenished("SKU-NEXT", 1)))
    await publish_raw(
        stack.kafka_bootstrap,
        topic,
        [as_message(first), (b"SKU-OUTAGE", second_value, second_headers)],  # one key
    )
    consumer = await consumer_factory(outage_calls=12)
    seen_waiting = None
    for _ in range(100):
        seen_waiting = seen_waiting or consumer.health.describe()
        if consumer.calls > 3:
            break
        await asyncio.sleep(0.05)
    assert consumer.calls > 3  # past the bounded retries, still trying
    assert consumer.applied.empty()  # SKU-NEXT did not overtake it
    seen_waiting = seen_waiting or consumer.health.describe()
    assert seen_waiting is not None and seen_waiting.startswith("waiting for network")

    assert await consumer.next_applied() == "SKU-OUTAGE"
    assert await consumer.next_applied() == "SKU-NEXT"
    assert consumer.calls == 14  # 12 refused, then each applied once
    assert consumer.health.describe() is None
    dlq = await read_topic(
        stack.kafka_bootstrap, dead_letter_topic(SERVICE, topic_prefix), count=1, timeout=2
    )
    assert dlq == []
    assert await db.fetchval("SELECT count(*) FROM effects") == 2


async def test_an_unknown_failure_waits_while_the_database_is_down_then_is_dead_lettered(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str, consumer_factory: Any
) -> None:
    """A bug past its retries goes to the dead-letter topic only once the service's database
    answers again: while it does not, the failure may be the outage's, so it waits."""
    topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
    probes: list[bool] = []
    dead_dsn = unreachable_dsn()

    async def probe() -> bool:
        # The first three pings go to a database that refuses connections, then to the real one.
        dsn = dead_dsn if len(probes) < 3 else stack.service_dsn("fulfillment")
        try:
            conn = await asyncpg.connect(dsn, timeout=2)
        except OSError:
            probes.append(False)
            return False
        await conn.close()
        probes.append(True)
        return True

    failing = envelope_of(replenished("SKU-ALWAYS-FAILS", 1))
    await publish_raw(stack.kafka_bootstrap, topic, [as_message(failing)])
    await consumer_factory(probe=probe)
    dlq = await read_topic(stack.kafka_bootstrap, dead_letter_topic(SERVICE, topic_prefix), count=1)
    assert len(dlq) == 1
    assert probes == [False, False, False, True]
    assert headers_of(dlq[0])["dlq-reason"] == "handler_failed"


async def test_a_handler_that_keeps_failing_is_dead_lettered_after_its_retries(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str, consumer_factory: Any
) -> None:
    topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
    failing = envelope_of(replenished("SKU-ALWAYS-FAILS", 1), correlation_id="corr-failing")
    after = envelope_of(replenished("SKU-AFTER", 1))
    await publish_raw(stack.kafka_bootstrap, topic, [as_message(failing), as_message(after)])
    consumer = await consumer_factory()
    assert await consumer.next_applied() == "SKU-AFTER"
    dlq = await read_topic(stack.kafka_bootstrap, dead_letter_topic(SERVICE, topic_prefix), count=1)
    assert len(dlq) == 1
    headers = headers_of(dlq[0])
    assert headers["dlq-reason"] == "handler_failed"
    assert headers["dlq-attempts"] == "3"
    assert headers["correlation-id"] == "corr-failing"
    assert "no stock rule for this sku" in headers["dlq-error"]
    assert json.loads(dlq[0].value)["event_id"] == str(failing.event_id)


async def test_a_redelivered_event_changes_nothing(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str, consumer_factory: Any
) -> None:
    topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
    event = envelope_of(replenished("SKU-TWICE", 5))
    marker = envelope_of(replenished("SKU-MARKER", 1))
    # All three on one partition (same key), so the marker is consumed after the copy.
    _, marker_value, marker_headers = as_message(marker)
    await publish_raw(
        stack.kafka_bootstrap,
        topic,
        [as_message(event), as_message(event), (b"SKU-TWICE", marker_value, marker_headers)],
    )
    consumer = await consumer_factory()
    assert await consumer.next_applied() == "SKU-TWICE"
    assert await consumer.next_applied() == "SKU-MARKER"  # the copy in between was absorbed
    rows = await db.fetch("SELECT note FROM effects ORDER BY id")
    assert [r["note"] for r in rows] == ["SKU-TWICE", "SKU-MARKER"]


async def test_unknown_types_are_dead_lettered_and_unhandled_known_types_skipped(
    db: asyncpg.Pool, stack: Endpoints, topic_prefix: str, consumer_factory: Any
) -> None:
    topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
    unhandled = envelope_of(delivered(uuid4()))  # a ParcelDelivered: known, not handled here
    unknown = (b"k", b'{"hello": "world"}', {"event-type": "ParcelTeleported"})
    marker = envelope_of(replenished("SKU-MARKER", 1))
    await publish_raw(
        stack.kafka_bootstrap, topic, [as_message(unhandled), unknown, as_message(marker)]
    )
    consumer = await consumer_factory()
    assert await consumer.next_applied() == "SKU-MARKER"
    dlq = await read_topic(
        stack.kafka_bootstrap, dead_letter_topic(SERVICE, topic_prefix), count=1, settle=1.0
    )
    assert [headers_of(r)["event-type"] for r in dlq] == ["ParcelTeleported"]
    assert isinstance(unhandled.payload, ParcelDelivered)
