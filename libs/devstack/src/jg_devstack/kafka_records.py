"""Helpers for tests against the real Kafka: read what was really published, publish raw bytes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from jg_events import DEAD_LETTER_SERVICES, Envelope, dead_letter_topic, parse


async def read_topic(
    bootstrap_servers: str,
    topic: str,
    *,
    count: int,
    timeout: float = 20.0,
    settle: float = 0.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read a topic from the beginning until `count` records arrived (or the timeout).

    With `settle` > 0, keep listening that many seconds after reaching `count`, so a test can
    show that nothing more (a duplicate) was published.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        partitions: set[int] | None = None
        while loop.time() < deadline:
            partitions = consumer.partitions_for_topic(topic)
            if partitions:
                break
            await consumer._client.force_metadata_update()
            await asyncio.sleep(0.1)
        if not partitions:
            return records
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        await consumer.seek_to_beginning()
        settle_until: float | None = None
        while True:
            now = loop.time()
            if settle_until is None and len(records) >= count:
                settle_until = now + settle
            if (settle_until is not None and now >= settle_until) or now >= deadline:
                break
            batch = await consumer.getmany(timeout_ms=200)
            for tp_records in batch.values():
                records.extend(tp_records)
    finally:
        await consumer.stop()
    return records


async def read_events(
    bootstrap_servers: str,
    topic: str,
    *,
    count: int,
    timeout: float = 20.0,
    settle: float = 0.0,
) -> list[Envelope[Any]]:
    """The events really published on `topic`, parsed, in partition order (see `read_topic`)."""
    records = await read_topic(
        bootstrap_servers, topic, count=count, timeout=timeout, settle=settle
    )
    return [parse(r.value) for r in sorted(records, key=lambda r: (r.partition, r.offset))]


async def publish_raw(
    bootstrap_servers: str,
    topic: str,
    messages: Sequence[tuple[bytes | None, bytes, dict[str, str]]],
) -> None:
    """Publish (key, value, headers) tuples exactly as given, in order."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        for key, value, headers in messages:
            await producer.send_and_wait(
                topic, value=value, key=key, headers=[(k, v.encode()) for k, v in headers.items()]
            )
    finally:
        await producer.stop()


def headers_of(record: ConsumerRecord[Any, Any]) -> dict[str, str]:
    return {k: v.decode() for k, v in (record.headers or ())}


def unique_group(name: str = "test") -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def read_dead_letters(bootstrap_servers: str, topic_prefix: str) -> list[str]:
    """Every message the services dead-lettered under ``topic_prefix``, one line each: the
    dead-letter topic, the event type, the reason and the error (from the headers)."""
    topics = [dead_letter_topic(service, topic_prefix) for service in DEAD_LETTER_SERVICES]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None)
    await consumer.start()
    found: list[str] = []
    try:
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in (consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return found
        ends = await consumer.end_offsets(partitions)
        waiting = {tp for tp, end in ends.items() if end > 0}
        if not waiting:
            return found
        consumer.assign(list(waiting))
        await consumer.seek_to_beginning(*waiting)
        for _ in range(40):
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                for record in records:
                    headers = headers_of(record)
                    found.append(
                        f"{tp.topic}: {headers.get('event-type')} "
                        f"{headers.get('dlq-reason')}: {headers.get('dlq-error')}"
                    )
                    if record.offset + 1 >= ends[tp]:
                        waiting.discard(tp)
            if not waiting:
                break
    finally:
        await consumer.stop()
    return found
