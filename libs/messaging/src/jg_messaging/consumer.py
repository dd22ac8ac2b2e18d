"""Reliable consumption for FastStream Kafka subscribers.

- key-ordered concurrency (see :mod:`jg_messaging.keyed`): messages of one partition with
  different keys are handled concurrently, up to the subscriber's ``concurrency`` (the
  ``<SERVICE>_CONSUMER_CONCURRENCY`` setting); messages with the same key (the order id...) one
  after the other in offset order; a message without a key waits for everything before it on
  its partition and holds everything after it;
- at least once: the offset committed for a partition is the lowest one whose handler has not
  returned (its transaction committed), never past it: a crash re-delivers every unfinished
  message and loses none (the inboxes dedupe the re-deliveries);
- a *transient* failure (see :mod:`jg_messaging.failures`: the database, Kafka, SMTP, Stripe or
  another service unreachable or slow, a serialization failure) is retried with capped
  exponential backoff for as long as it lasts: the message holds its key's position (nothing
  later with the same key overtakes it; other keys of the partition go on, up to the
  concurrency bound), the service's ``/ready`` answers 503 with what it waits for, a log line
  says so; it never goes to the dead-letter topic;
- a *permanent* failure gets bounded retries with exponential backoff, then a dead-letter record:
  the original value, key and headers plus the error, on the service's dead-letter topic; the
  consumer goes on with the next message;
- an *unknown* exception is retried like a permanent one, but dead-lettered only when the
  service's dependencies answer (its database ping succeeds); otherwise it is taken for an
  outage and waits like a transient one;
- an unreadable message (bad JSON, a payload that fails its contract, an unknown event type) goes
  to the dead-letter topic at once: retrying cannot fix it;
- events of a known type that a subscriber does not handle are skipped;
- the correlation id, event id and type from the headers are bound into every log line (each
  message runs in its own task, so with its own context variables).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, cast

import pydantic
import structlog
from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from fast_depends.exceptions import ValidationError as ArgumentValidationError
from faststream import BaseMiddleware
from faststream.exceptions import SubscriberNotFound
from faststream.kafka import KafkaBroker
from faststream.kafka.schemas import Topic as KafkaTopic
from faststream.kafka.subscriber.usecase import DefaultSubscriber
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from faststream.security import BaseSecurity
from jg_events import (
    HEADER_CORRELATION_ID,
    HEADER_EVENT_ID,
    HEADER_EVENT_TYPE,
    HEADER_EVENT_VERSION,
    Event,
    Topic,
    dead_letter_topic,
    registry,
    topic_name,
)

from . import metrics, tracing
from .failures import Dependency, Failure, Kind, classify
from .keyed import KeyedDispatcher

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
    """Bounded retries for permanent and unknown failures; unbounded waits for transient ones."""

    attempts: int = 5
    first_delay: float = 0.2
    max_delay: float = 10.0
    wait_first_delay: float = 0.5
    wait_max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.first_delay * 2.0 ** (attempt - 1))

    def wait_delay(self, attempt: int) -> float:
        """Pause before trying again while a dependency is unavailable (capped, never ends)."""
        return min(self.wait_max_delay, self.wait_first_delay * 2.0 ** min(attempt - 1, 30))


@dataclass(frozen=True)
class Wait:
    dependency: Dependency
    since: float  # time.monotonic()
    error: str


@dataclass
class ConsumerHealth:
    """What the service's consumers are waiting for right now (read by ``/ready``)."""

    _waits: dict[int, Wait] = field(default_factory=dict)
    _tokens: itertools.count[int] = field(default_factory=itertools.count)

    def token(self) -> int:
        return next(self._tokens)

    def waiting(self, token: int, dependency: Dependency, error: str) -> None:
        previous = self._waits.get(token)
        since = previous.since if previous and previous.dependency == dependency else None
        self._waits[token] = Wait(dependency, since or time.monotonic(), error)

    def done(self, token: int) -> None:
        self._waits.pop(token, None)

    def waits(self) -> list[Wait]:
        return list(self._waits.values())

    def describe(self) -> str | None:
        """``"waiting for database (12 s)"`` while a message waits, else None."""
        if not self._waits:
            return None
        now = time.monotonic()
        longest: dict[Dependency, float] = {}
        for wait in self._waits.values():
            longest[wait.dependency] = max(longest.get(wait.dependency, 0.0), now - wait.since)
        parts = [f"{dep.value} ({age:.0f} s)" for dep, age in sorted(longest.items())]
        return "waiting for " + ", ".join(parts)


Probe = Callable[[], Awaitable[bool]]


@dataclass
class _Config:
    service: str
    dead_letter_topic: str
    policy: RetryPolicy
    publish: Callable[[bytes, str, bytes | None, dict[str, str]], Awaitable[None]]
    health: ConsumerHealth = field(default_factory=ConsumerHealth)
    probe: Probe | None = None  # True when the service's own dependencies answer


class ReliableConsumption(BaseMiddleware):
    """A FastStream middleware; build it with `create_broker`, not by hand."""

    def __init__(self, msg: Any, /, *, context: Any, config: _Config) -> None:
        super().__init__(msg, context=context)
        self.config = config

    async def consume_scope(
        self, call_next: Callable[[Any], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        headers = msg.headers
        with (
            structlog.contextvars.bound_contextvars(
                correlation_id=headers.get(HEADER_CORRELATION_ID),
                event_id=headers.get(HEADER_EVENT_ID),
                event_type=headers.get(HEADER_EVENT_TYPE),
            ),
            self._span(headers),
        ):
            token = self.config.health.token()
            started = time.perf_counter()
            try:
                return await self._handle(call_next, msg, token)
            finally:
                self.config.health.done(token)
                metrics.observe_handler(*self._labels(), time.perf_counter() - started)

    def _labels(self) -> tuple[str, str | None]:
        """The message's topic and event type, for metrics."""
        record = self._record()
        return record.topic, _headers(record).get(HEADER_EVENT_TYPE)

    def _span(self, headers: dict[str, Any]) -> contextlib.AbstractContextManager[Any]:
        """The message's ``process`` span, child of its publisher's (jg_messaging.tracing)."""
        record = self._record()
        key = record.key.decode("utf-8", "replace") if isinstance(record.key, bytes) else None
        return tracing.consuming(
            {k: str(v) for k, v in headers.items()},
            record.topic,
            key=key,
            event_type=headers.get(HEADER_EVENT_TYPE),
        )

    async def _handle(
        self, call_next: Callable[[Any], Awaitable[Any]], msg: StreamMessage[Any], token: int
    ) -> Any:
        policy = self.config.policy
        attempt = waits = 0
        while True:
            attempt += 1
            try:
                result = await call_next(msg)
            except (*UNREADABLE, UnreadableEventError) as exc:
                await self._dead_letter(exc, attempt, reason="unreadable", token=token)
                return None
            except Exception as exc:
                failure = await self._classify(exc, attempt)
                if failure.kind is Kind.TRANSIENT:
                    waits += 1
                    await self._wait(exc, failure, waits, token)
                    continue
                if attempt >= policy.attempts:
                    await self._dead_letter(exc, attempt, reason="handler_failed", token=token)
                    return None
                delay = policy.delay(attempt)
                metrics.record_message(*self._labels(), "retried")
                log.warning(
                    "event_handler_retry",
                    attempt=attempt,
                    retry_in=delay,
                    failure=failure.kind.value,
                    error=describe_error(exc),
                )
                await asyncio.sleep(delay)
                continue
            if waits:
                log.info("event_handled_after_wait", waits=waits)
            metrics.record_message(*self._labels(), "handled")
            return result

    async def _classify(self, exc: BaseException, attempt: int) -> Failure:
        """Transient or not; an unknown failure past its retries is decided by a health probe."""
        failure = classify(exc)
        if failure.kind is not Kind.UNKNOWN or attempt < self.config.policy.attempts:
            return failure
        probe = self.config.probe
        healthy = True
        if probe is not None:
            try:
                healthy = await probe()
            except Exception:
                healthy = False
        if healthy:
            return Failure(Kind.PERMANENT)
        return Failure(Kind.TRANSIENT, Dependency.DATABASE)

    async def _wait(self, exc: BaseException, failure: Failure, waits: int, token: int) -> None:
        dependency = failure.dependency or Dependency.NETWORK
        delay = self.config.policy.wait_delay(waits)
        self.config.health.waiting(token, dependency, describe_error(exc))
        metrics.record_message(*self._labels(), "waiting_on_dependency")
        log.warning(
            "event_waits_for_dependency",
            dependency=dependency.value,
            retry_in=delay,
            waits=waits,
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
            metrics.record_message(record.topic, event_type, "skipped")
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

    async def _dead_letter(
        self, exc: BaseException, attempts: int, *, reason: str, token: int | None = None
    ) -> None:
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
        own_token = token is None
        wait_token = self.config.health.token() if token is None else token
        waits = 0
        try:
            while True:  # the record must reach the dead-letter topic before the offset moves
                try:
                    await self.config.publish(
                        value, self.config.dead_letter_topic, record.key, headers
                    )
                    break
                except Exception as publish_error:
                    failure = classify(publish_error)
                    if failure.kind is not Kind.TRANSIENT:
                        raise
                    waits += 1
                    await self._wait(publish_error, failure, waits, wait_token)
        finally:
            if own_token:
                self.config.health.done(wait_token)
        metrics.record_message(record.topic, headers.get(HEADER_EVENT_TYPE), "dead_lettered")
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
    return {k: (v or b"").decode("utf-8", "replace") for k, v in (record.headers or ())}


def create_broker(
    bootstrap_servers: str,
    *,
    service: str,
    topic_prefix: str = "",
    policy: RetryPolicy | None = None,
    security: BaseSecurity | None = None,
    health: ConsumerHealth | None = None,
    probe: Probe | None = None,
    **broker_options: Any,
) -> KafkaBroker:
    """A KafkaBroker for `service`: idempotent producer, reliable consumption, dead letters.

    ``health`` records what the consumers wait for (for ``/ready``); ``probe`` answers whether
    the service's own dependencies are up, which decides an unknown failure's fate.
    """
    broker = KafkaBroker(
        bootstrap_servers,
        client_id=service,
        enable_idempotence=True,
        acks="all",
        # A standard-library logger: its lines go through the root handler configure_logging set.
        logger=logging.getLogger("faststream"),
        # FastStream's two lines per message ("Received", "Processed") at DEBUG: rendering them
        # cost more CPU than some handlers; the handlers log what they decide.
        log_level=logging.DEBUG,
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
        health=health if health is not None else ConsumerHealth(),
        probe=probe,
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


DEFAULT_CONCURRENCY = 16


class KeyOrderedSubscriber(DefaultSubscriber):
    """FastStream's Kafka subscriber whose fetched records go to a :class:`KeyedDispatcher`.

    FastStream fetches (``getone``) and calls :meth:`consume_one`, which returns once the record
    holds a slot: the fetch loop stops while ``concurrency`` records are in flight. The ack
    policy is MANUAL (no auto-commit, FastStream commits nothing): the dispatcher commits each
    partition's offsets below its oldest unfinished record. Built by :func:`subscribe`, which
    turns the subscriber FastStream's factory made into this class (same slots, a few methods
    more), so the broker, the middlewares and the AsyncAPI document see a plain subscriber.
    """

    keyed: KeyedDispatcher[ConsumerRecord[Any, Any]]
    handled: set[tuple[str, str]] | None = None
    """The (event type, schema version) pairs its handlers take, once :func:`handles` filters
    are registered through :func:`~jg_messaging.register_handlers`; None: unknown, no fast path."""

    async def start(self) -> None:
        self.keyed.open()
        await super().start()

    async def consume_one(self, msg: ConsumerRecord[Any, Any]) -> None:
        event_type = None if self.handled is None else skipped_type(msg.headers, self.handled)
        if event_type is not None:
            metrics.record_message(msg.topic, event_type, "skipped")
            self.keyed.done_at_once(msg)
            return
        await self.keyed.submit(msg)

    async def handle_record(self, msg: ConsumerRecord[Any, Any]) -> None:
        """One record through the middlewares and its handler (FastStream's ``consume``
        without its swallowing of errors: an error that escapes retries the record)."""
        await self.process_message(msg)

    async def commit_offsets(self, offsets: dict[tuple[str, int], int]) -> None:
        consumer = self.consumer
        if consumer is None:
            raise RuntimeError("the subscriber's consumer is not started")
        await consumer.commit({TopicPartition(t, p): o for (t, p), o in offsets.items()})

    async def stop(self) -> None:
        # Stop fetching first, then let the in-flight records finish (bounded) and commit them,
        # then let FastStream close the consumer.
        self.running = False
        fetchers = [task for task in self.tasks if not task.done()]
        for task in fetchers:
            task.cancel()
        await asyncio.gather(*fetchers, return_exceptions=True)
        await self.keyed.close()
        await super().stop()


def skipped_type(
    headers: Iterable[tuple[str, bytes | None]] | None, handled: Set[tuple[str, str]]
) -> str | None:
    """The event type of a record to skip as it is fetched, undecoded: a type the contracts
    know whose (type, version) no handler takes (``handled``). None: the record takes the full
    path (handled, or unreadable: the middleware dead-letters those)."""
    event_type = version = None
    for name, value in headers or ():
        if name == HEADER_EVENT_TYPE:
            event_type = (value or b"").decode("utf-8", "replace")
        elif name == HEADER_EVENT_VERSION:
            version = (value or b"").decode("utf-8", "replace")
    if event_type is None or (event_type, version or "1") in handled:
        return None
    return event_type if registry.is_known_type(event_type) else None


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]  # untyped aiokafka base
    """Hands revocations and assignments to the subscriber's dispatcher."""

    keyed: KeyedDispatcher[ConsumerRecord[Any, Any]] | None = None

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if self.keyed is not None:
            await self.keyed.revoke((tp.topic, tp.partition) for tp in revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        if self.keyed is not None:
            self.keyed.assigned((tp.topic, tp.partition) for tp in assigned)


def subscribe(
    broker: KafkaBroker,
    *topics: Topic,
    service: str,
    topic_prefix: str = "",
    concurrency: int = DEFAULT_CONCURRENCY,
    grace: float = 5.0,
    **options: Any,
) -> Any:
    """One subscriber on `topics` in the service's consumer group (see `consumer_group`),
    handling up to ``concurrency`` messages at once, key-ordered within each partition, and
    committing each partition below its oldest unfinished message (see
    :mod:`jg_messaging.keyed`). ``grace``: seconds in-flight messages get to finish when their
    partition is revoked or the service stops, before they are cancelled (and re-delivered).

    Give a service ONE subscriber over every topic it reads: each subscriber is a member of the
    group, and each member joining makes the others rebalance. Register one handler per event
    type on it with `filter=handles(EventClass)`.
    """
    if not topics:
        raise ValueError("subscribe() needs at least one topic")
    options.setdefault("heartbeat_interval_ms", 500)  # notice rebalances quickly
    rebalance = _Rebalance()
    subscriber = broker.subscriber(
        # declare=False: FastStream would create a missing topic with ONE partition. Topics
        # are the platform's (Strimzi's KafkaTopics in Kubernetes; locally Kafka creates them
        # on first use with the base's partitions, num.partitions=3).
        *(KafkaTopic(topic_name(topic, topic_prefix), declare=False) for topic in topics),
        group_id=consumer_group(service, topic_prefix),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,  # no auto-commit: the dispatcher commits
        listener=rebalance,
        **options,
    )
    if type(subscriber) is not DefaultSubscriber:
        raise TypeError(f"expected FastStream's DefaultSubscriber, got {type(subscriber)!r}")
    subscriber.__class__ = KeyOrderedSubscriber
    keyed_subscriber = cast(KeyOrderedSubscriber, subscriber)
    keyed: KeyedDispatcher[ConsumerRecord[Any, Any]] = KeyedDispatcher(
        keyed_subscriber.handle_record,
        keyed_subscriber.commit_offsets,
        concurrency=concurrency,
        grace=grace,
    )
    keyed_subscriber.keyed = keyed
    rebalance.keyed = keyed
    return keyed_subscriber


def handles(event_cls: type[Event]) -> Callable[[StreamMessage[Any]], Awaitable[bool]]:
    """A subscriber filter selecting the messages of one event type and schema version (read
    from the headers; a message without a version header is version 1). A consumer that reads
    two versions of an event registers one handler per version.

    The filter is a coroutine function: FastStream runs a plain function in a worker thread,
    and each message is tried against every handler's filter until one matches (a thread hop
    per handler per message was the largest CPU cost of accounts and notifications)."""
    wanted = event_cls.event_type
    version = str(event_cls.schema_version)

    async def _filter(msg: StreamMessage[Any]) -> bool:
        return (
            msg.headers.get(HEADER_EVENT_TYPE) == wanted
            and msg.headers.get(HEADER_EVENT_VERSION, "1") == version
        )

    return _filter
