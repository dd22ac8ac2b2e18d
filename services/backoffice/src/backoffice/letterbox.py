"""The console's link to the dead-letter topics: a consumer that copies every dead letter into the
console's database (consumer group ``<prefix>backoffice``, committed after the copy) and a producer
that sends a replay back to its original topic (idempotent, acks=all)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from jg_events import dead_letter_topic
from jg_messaging import ServiceRuntime, consumer_group
from jg_messaging.kafka import client_options

from backoffice.settings import BackofficeSettings

log = structlog.get_logger(__name__)

Record = Any  # aiokafka's ConsumerRecord (untyped library)
OnRecord = Callable[[Record], Awaitable[None]]


class Letterbox:
    """Started and stopped by the app's lifespan; ``send`` is what a replay uses."""

    def __init__(self, settings: BackofficeSettings, service: str) -> None:
        prefix = settings.platform.topic_prefix
        self.prefix = prefix
        self.topics = [dead_letter_topic(s, prefix) for s in settings.dead_letter_services]
        self.group = consumer_group(service, prefix)
        self._bootstrap = settings.platform.kafka_bootstrap_servers
        self._options = client_options(settings.platform)
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, on_record: OnRecord) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=f"{self.group}-replay",
            enable_idempotence=True,
            acks="all",
            **self._options,
        )
        await self._producer.start()
        self._task = asyncio.create_task(self._copy_forever(on_record), name="dead-letters")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._producer is not None:
            await self._producer.stop()

    async def send(
        self, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        if self._producer is None:
            raise RuntimeError("the letterbox is not started")
        await self._producer.send_and_wait(topic, value=value, key=key, headers=headers)

    async def _copy_forever(self, on_record: OnRecord) -> None:
        while True:  # Kafka away: wait and start again; the committed offsets say where
            consumer = AIOKafkaConsumer(
                *self.topics,
                bootstrap_servers=self._bootstrap,
                group_id=self.group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                **self._options,
            )
            try:
                await consumer.start()
                async for record in consumer:
                    await on_record(record)
                    await consumer.commit()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("dead_letter_copy_failed", error=type(exc).__name__)
                await asyncio.sleep(2.0)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()


class ConsoleRuntime(ServiceRuntime):
    """The service runtime, whose AsyncAPI document also says what the letterbox does: it reads
    the dead-letter topics (raw records, outside FastStream) and a replay writes to the event
    topics (declared with ``declare_publications``). The deployment's Kafka ACLs follow it."""

    def __init__(self, service: str, settings: BackofficeSettings, migrations: Path) -> None:
        super().__init__(service, settings, migrations)
        prefix = settings.platform.topic_prefix
        self.dead_letter_topics = [
            dead_letter_topic(s, prefix) for s in settings.dead_letter_services
        ]

    def asyncapi(self) -> dict[str, Any]:
        document = super().asyncapi()
        channels = document.setdefault("channels", {})
        operations = document.setdefault("operations", {})
        for topic in self.dead_letter_topics:
            key = f"{topic}:copy"
            channels[key] = {
                "address": topic,
                "title": key,
                "description": "Dead letters of a service, copied into the console's database "
                "(consumer group backoffice) for the managers' replay queue.",
                "messages": {},
            }
            operations[key] = {"action": "receive", "channel": {"$ref": f"#/channels/{key}"}}
        return document
