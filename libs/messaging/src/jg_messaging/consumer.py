"""Reliable consumption for FastStream Kafka subscribers.

- at least once: offsets are committed after the handler returns (its transaction committed);
- bounded retries with exponential backoff for a failing handler;
- then a dead-letter record: the original value, key and headers plus the error, on the
  service's dead-letter topic; the consumer goes on with the next message;
- an unreadable message (bad JSON, a payload that fails its contract, an unknown event type) goes
  to the dead-letter topic at once: retrying cannot fix it;
- events of a known type that a subscriber does not handle are skipped;
- the correlation id, event id and type from the headers are bound into every log line.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import pydantic
import structlog
from aiokafka import ConsumerRecord
from fast_depends.exceptions import ValidationError as ArgumentValidationError
from faststream import BaseMiddleware
from faststream.exceptions import SubscriberNotFound
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from faststream.security import BaseSecurity
from jg_events import (
    HEADER_CORRELATION_ID,
    HEADER_EVENT_ID,
    HEADER_EVENT_TYPE,
    Event,
    Topic,
    dead_letter_topic,
    registry,
    topic_name,
)

log = structlog.get_logger(__name__)

UNREADABLE = (
    ArgumentValidationError,
    pydantic.ValidationError,
    json.JSONDecodeError,
    UnicodeDecodeError,
)


def describe_error(exc: BaseException) -> str:
    """The error for a log line, without the values it carried (customers' personal data).

    A validation error's text quotes the invalid input (an address, an email...): only the
    failing fields and why they failed are kept.
    """
    cause: BaseException | None = exc
    if isinstance(exc, ArgumentValidationError):
        cause = exc.original_error
    elif not isinstance(exc, pydantic.ValidationError):
        cause = exc.__cause__  # e.g. jg_events' InvalidEventError quoting the input
    if not isinstance(cause, pydantic.ValidationError):
        return repr(exc)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['type']}"
        for error in cause.errors(include_url=False, include_input=False, include_context=False)
    )
    return f"{type(exc).__name__}({cause.title}: {problems})"


class UnreadableEventError(Exception):
    """Raised by a handler for a message that no retry can make valid."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    first_delay: float = 0.2
    max_delay: float = 10.0

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.first_delay * 2 ** (attempt - 1))


@dataclass
class _Config:
    service: str
    dead_letter_topic: str
    policy: RetryPolicy
    publish: Callable[[bytes, str, bytes | None, dict[str, str]], Awaitable[None]]


class ReliableConsumption(BaseMiddleware):
    """A FastStream middleware; build it with `create_broker`, not by hand."""

    def __init__(self, msg: Any, /, *, context: Any, config: _Config) -> None:
        super().__init__(msg, context=context)
        self.config = config

    async def consume_scope(
        self, call_next: Callable[[Any], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        headers = msg.headers
        with structlog.contextvars.bound_contextvars(
            correlation_id=headers.get(HEADER_CORRELATION_ID),
            event_id=headers.get(HEADER_EVENT_ID),
            event_type=headers.get(HEADER_EVENT_TYPE),
        ):
            attempt = 0
            while True:
                attempt += 1
                try:
                    return await call_next(msg)
                except (*UNREADABLE, UnreadableEventError) as exc:
                    await self._dead_letter(exc, attempt, reason="unreadable")
                    return None
                except Exception as exc:
                    if attempt >= self.config.policy.attempts:
                        await self._dead_letter(exc, attempt, reason="handler_failed")
                        return None
                    delay = self.config.policy.delay(attempt)
                    log.warning(
                        "event_handler_retry",
                        attempt=attempt,
                        retry_in=delay,
                        error=describe_error(exc),
                    )
                    await asyncio.sleep(delay)

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool | None:
        if not isinstance(exc_val, SubscriberNotFound):
            return False
        record = self._record()
        headers = _headers(record)
        event_type = headers.get(HEADER_EVENT_TYPE)
        if event_type and registry.is_known_type(event_type):
            return True  # a contract event this subscriber has no use for: skip it
        await self._dead_letter(
            UnreadableEventError(f"unknown or missing event type: {event_type!r}"),
            1,
            reason="unreadable",
        )
        return True

    def _record(self) -> ConsumerRecord[Any, Any]:
        raw = self.msg
        return raw[0] if isinstance(raw, tuple) else raw

    async def _dead_letter(self, exc: BaseException, attempts: int, *, reason: str) -> None:
        record = self._record()
        headers = _headers(record)
        headers.update(
            {
                "dlq-reason": reason,
                "dlq-error": describe_error(exc)[:4000],
                "dlq-error-type": type(exc).__name__,
                "dlq-attempts": str(attempts),
                "dlq-service": self.config.service,
                "dlq-original-topic": record.topic,
                "dlq-original-partition": str(record.partition),
                "dlq-original-offset": str(record.offset),
                "dlq-failed-at": datetime.now(UTC).isoformat(),
            }
        )
        value = record.value if record.value is not None else b""
        await self.config.publish(value, self.config.dead_letter_topic, record.key, headers)
        log.error(
            "event_dead_lettered",
            reason=reason,
            error=describe_error(exc),
            attempts=attempts,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            dead_letter_topic=self.config.dead_letter_topic,
        )


def _headers(record: ConsumerRecord[Any, Any]) -> dict[str, str]:
    return {k: v.decode("utf-8", "replace") for k, v in (record.headers or ())}


def create_broker(
    bootstrap_servers: str,
    *,
    service: str,
    topic_prefix: str = "",
    policy: RetryPolicy | None = None,
    security: BaseSecurity | None = None,
    **broker_options: Any,
) -> KafkaBroker:
    """A KafkaBroker for `service`: idempotent producer, reliable consumption, dead letters."""
    broker = KafkaBroker(
        bootstrap_servers,
        client_id=service,
        enable_idempotence=True,
        acks="all",
        # A standard-library logger: its lines go through the root handler configure_logging set.
        logger=logging.getLogger("faststream"),
        security=security,
        **broker_options,
    )

    async def publish(value: bytes, topic: str, key: bytes | None, headers: dict[str, str]) -> None:
        await broker.publish(value, topic=topic, key=key, headers=headers)

    config = _Config(
        service=service,
        dead_letter_topic=dead_letter_topic(service, topic_prefix),
        policy=policy or RetryPolicy(),
        publish=publish,
    )
    broker.add_middleware(functools.partial(ReliableConsumption, config=config))
    return broker


def consumer_group(service: str, topic_prefix: str = "") -> str:
    """The service's consumer group: its name, behind the topic prefix when there is one.

    Runs that use their own topic prefix (tests, parallel environments) must not share a group:
    a member of another run joining or dying would stall this run's consumers while the group
    rebalances. Without a prefix (production) the group is the service's name.
    """
    return f"{topic_prefix}{service}"


def subscribe(
    broker: KafkaBroker,
    *topics: Topic,
    service: str,
    topic_prefix: str = "",
    **options: Any,
) -> Any:
    """One subscriber on `topics` in the service's consumer group (see `consumer_group`),
    committing after each handler.

    Give a service ONE subscriber over every topic it reads: each subscriber is a member of the
    group, and each member joining makes the others rebalance. Register one handler per event
    type on it with `filter=handles(EventClass)`.
    """
    if not topics:
        raise ValueError("subscribe() needs at least one topic")
    options.setdefault("heartbeat_interval_ms", 500)  # notice rebalances quickly
    return broker.subscriber(
        *(topic_name(topic, topic_prefix) for topic in topics),
        group_id=consumer_group(service, topic_prefix),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        **options,
    )


def handles(event_cls: type[Event]) -> Callable[[StreamMessage[Any]], bool]:
    """A subscriber filter selecting the messages of one event type (read from the headers)."""
    wanted = event_cls.event_type

    def _filter(msg: StreamMessage[Any]) -> bool:
        return msg.headers.get(HEADER_EVENT_TYPE) == wanted

    return _filter
