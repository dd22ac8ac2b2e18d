"""Outbox relay: publishes committed outbox rows to Kafka, in order per key, then marks them sent.

Several relays may run against one database: rows are claimed with `FOR UPDATE SKIP LOCKED`, so
no row is published by two relays at once, and a row whose key has an earlier pending row held by
another relay waits for it, so one order's events keep their order. The relay wakes on commit
(LISTEN/NOTIFY from the outbox trigger, re-established when its connection is lost) and polls
only as a fallback.

Each row of a batch has its own outcome: the rows Kafka acknowledged are marked sent even when
another row of the batch failed, so they are not published again. A failure is classified (see
`classify`):

- the row's own problem (a record over the size limit, a topic the service may not write, an
  invalid topic): the failure counts against the row, which is retried with a capped exponential
  backoff (`next_attempt_at`) and, after `park_after_attempts` such failures, parked (status
  `parked`, `parked_at`, `last_error`) until an operator replays it (tools/outbox_replay.py);
- a retriable error (timeouts, leader elections, unknown topic): counts against the row only when
  Kafka is reachable: it acknowledged other rows of the same round, or it answers a metadata
  request but knows no partition of the row's topic (missing topic, invalid name);
- Kafka unreachable, refused credentials, a broken producer: never counts against any row. With
  nothing published, the round is an outage: the relay backs off (capped) and, until a metadata
  request succeeds again, sends nothing. An outage never parks a row, however long it lasts.

Rows of a key wait behind an earlier row of that key that failed, is waiting for its retry time
or is parked: within a batch they are not sent after it, and the claim skips them, so the other
keys keep flowing however many rows are blocked.

Delivery is at least once: a relay that dies after publishing but before marking publishes the
row again on restart (so does a round that timed out while Kafka later delivered), and consumers'
inboxes absorb the duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import time
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka import errors as kafka_errors

from . import metrics, tracing

log = structlog.get_logger(__name__)

CHANNEL = "messaging_outbox"

ProducerFactory = Callable[[], AIOKafkaProducer]
Row = Mapping[str, Any]
"""An outbox row as claimed (an asyncpg Record): id, event_type, topic, message_key, ..."""


def idempotent_producer(
    bootstrap_servers: str, client_id: str, **client_options: Any
) -> AIOKafkaProducer:
    """A producer that neither loses nor duplicates on retry, and keeps order per partition.

    `client_options` carry the connection's security (see `jg_messaging.kafka.client_options`).
    """
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        **client_options,
    )


# --- what a failure says about the row (pure) -----------------------------------------------


class Failure(enum.Enum):
    """Whose fault a failed publication is."""

    ROW = "row"
    """The row's own problem (too large, a forbidden or invalid topic, unusable data)."""
    RETRIABLE = "retriable"
    """The row's partition or the whole cluster: timeouts, leader elections, unknown topic."""
    CLUSTER = "cluster"
    """Kafka refuses this client altogether (credentials, cluster ACL, versions, settings)."""
    PRODUCER = "producer"
    """The producer's own state is broken (sequence gap, fenced, closed): replace it."""


_PRODUCER_STATE: tuple[type[BaseException], ...] = (
    kafka_errors.OutOfOrderSequenceNumber,
    kafka_errors.UnknownProducerId,
    kafka_errors.InvalidProducerEpoch,
    kafka_errors.InvalidProducerIdMapping,
    kafka_errors.ProducerFenced,
    kafka_errors.ProducerClosed,
    kafka_errors.IllegalStateError,
)
_CLUSTER_WIDE: tuple[type[BaseException], ...] = (
    kafka_errors.ClusterAuthorizationFailedError,
    kafka_errors.AuthenticationFailedError,
    kafka_errors.AuthenticationMethodNotSupported,
    kafka_errors.SaslAuthenticationFailed,
    kafka_errors.UnsupportedSaslMechanismError,
    kafka_errors.IllegalSaslStateError,
    kafka_errors.SecurityDisabled,
    kafka_errors.UnsupportedVersionError,
    kafka_errors.IncompatibleBrokerVersion,
    kafka_errors.UnrecognizedBrokerVersion,
    kafka_errors.KafkaConfigurationError,
    kafka_errors.InvalidRequiredAcksError,
    kafka_errors.KafkaUnavailableError,
)
_TRANSIENT: tuple[type[BaseException], ...] = (
    TimeoutError,  # also asyncio.TimeoutError
    OSError,
    kafka_errors.KafkaTimeoutError,  # not flagged retriable by aiokafka, but it is
    kafka_errors.KafkaConnectionError,
)


def classify(exc: BaseException) -> Failure:
    """Whose fault `exc`, raised while publishing one row, is."""
    if isinstance(exc, KafkaUnreachableError):
        return Failure.CLUSTER
    if isinstance(exc, _PRODUCER_STATE) or type(exc) is kafka_errors.KafkaError:
        # A bare KafkaError is aiokafka's "unexpected error during batch delivery": its sender
        # task died, and every record of that producer fails with it.
        return Failure.PRODUCER
    if isinstance(exc, _CLUSTER_WIDE):
        return Failure.CLUSTER
    if isinstance(exc, _TRANSIENT):
        return Failure.RETRIABLE
    if isinstance(exc, kafka_errors.KafkaError):
        return Failure.RETRIABLE if exc.retriable else Failure.ROW
    return Failure.ROW  # the record could not even be built from the row (headers, key...)


def counts_against_row(
    failure: Failure, *, cluster_accepts_writes: bool, topic_missing: bool = False
) -> bool:
    """Whether a failure is one of the row's attempts toward parking.

    A retriable failure counts only when Kafka is reachable: it acknowledged other rows in the
    same round, or (`topic_missing`) it answers metadata requests but knows no partition of the
    row's topic (a topic that does not exist, or an invalid name). In an outage neither holds,
    so no row ever gets closer to being parked.
    """
    if failure is Failure.ROW:
        return True
    if failure is Failure.RETRIABLE:
        return cluster_accepts_writes or topic_missing
    return False


def retry_delay(attempts: int, *, base: float, cap: float) -> float:
    """Seconds before a row that failed `attempts` times on its own account is tried again."""
    if attempts < 1:
        return 0.0
    return min(cap, base * 2.0 ** min(attempts - 1, 60))


def describe(exc: BaseException) -> str:
    """An error for `last_error` and logs (aiokafka's texts name sizes and topics, not data)."""
    text = str(exc)
    name = type(exc).__name__
    return (text if name in text else f"{name}: {text}" if text else name)[:2000]


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelayResult:
    """What one round did."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    """Rows whose failure counted against them (parked ones included)."""
    parked: int = 0


@dataclass(frozen=True)
class OutboxStatus:
    """The outbox as operators see it in `/ready`'s details."""

    pending: int
    """Rows not yet published (rows waiting behind a parked row included)."""
    parked: int
    """Rows the relay gave up on: an operator replays them (tools/outbox_replay.py)."""
    oldest_pending_seconds: float | None
    """Age of the oldest pending row; grows while a key waits behind a parked row."""
    relay_error: str | None = None
    """Why the relay's last round failed (Kafka or the database unreachable), if it did."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class KafkaUnreachableError(RuntimeError):
    """Kafka published nothing of a round and the failures are not the rows' fault."""


@dataclass(frozen=True)
class Attempt:
    """What happened to one row sent to Kafka."""

    error: BaseException | None
    at_send: bool = False
    """Raised by `producer.send()` itself: the record never entered the producer."""
    topic_unknown: bool = False
    """A retriable failure while the producer's metadata had no partition of the row's topic."""


@dataclass
class Verdict:
    """A round's decisions: rows to mark sent, failures counted against their row, and not."""

    sent: list[int] = field(default_factory=list)
    charged: list[tuple[Row, BaseException]] = field(default_factory=list)
    uncharged: list[tuple[Row, BaseException]] = field(default_factory=list)


def first_failures(rows: Sequence[Row], outcome: Mapping[int, Attempt]) -> list[Row]:
    """The first failed row of each key, in id order: the rows to judge.

    Later rows of that key wait behind it, whatever happened to them.
    """
    failed: list[Row] = []
    stopped: set[str] = set()
    for row in rows:
        attempt = outcome.get(row["id"])
        if attempt is None or attempt.error is None or row["message_key"] in stopped:
            continue
        stopped.add(row["message_key"])
        failed.append(row)
    return failed


def needs_isolation(attempt: Attempt) -> bool:
    """Whether a failure may not be this row's alone, and the producer must be replaced.

    Kafka refusing a record it had accepted (too large for the topic...) fails the whole produce
    batch, other rows of the partition with it, and leaves a gap in the idempotent producer's
    sequence, so every later record of that partition fails too (OutOfOrderSequenceNumber).
    """
    if attempt.error is None:
        return False
    failure = classify(attempt.error)
    return failure is Failure.PRODUCER or (failure is Failure.ROW and not attempt.at_send)


def judge(
    rows: Sequence[Row],
    outcome: Mapping[int, Attempt],
    *,
    failures: Sequence[Row] | None = None,
    not_isolated: Set[int] = frozenset(),
    cluster_answers: bool = False,
) -> Verdict:
    """Each row's fate from what happened to it (pure).

    Acknowledged rows are sent, even after another row of their key failed (they are on Kafka).
    Only the first failed row of a key is judged (`failures`, by default `first_failures`);
    retriable failures count against it only if Kafka acknowledged another row of the round, or
    if Kafka answers metadata requests (`cluster_answers`) but knows no partition of the row's
    topic; a row in `not_isolated` (a failure that may be a neighbour's, which could not be sent
    again alone) never counts.
    """
    verdict = Verdict(sent=[r["id"] for r in rows if _acknowledged(outcome.get(r["id"]))])
    accepted = bool(verdict.sent)
    for row in first_failures(rows, outcome) if failures is None else failures:
        attempt = outcome[row["id"]]
        error = attempt.error
        if error is None:  # sent again alone, successfully
            continue
        if row["id"] not in not_isolated and counts_against_row(
            classify(error),
            cluster_accepts_writes=accepted,
            topic_missing=cluster_answers and attempt.topic_unknown,
        ):
            verdict.charged.append((row, error))
        else:
            verdict.uncharged.append((row, error))
    return verdict


def _acknowledged(attempt: Attempt | None) -> bool:
    return attempt is not None and attempt.error is None


# Pending rows that may go now: not parked, due, and no earlier unsent row of their key is
# parked or waiting for its retry time (that probe uses the small messaging_outbox_blocking
# index; its predicate is repeated so the planner picks it).
_CLAIM = """
SELECT o.id, o.event_type, o.topic, o.message_key, o.headers, o.body, o.attempts,
       o.traceparent, o.tracestate
FROM messaging_outbox o
WHERE o.sent_at IS NULL AND o.parked_at IS NULL
  AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= now())
  AND NOT EXISTS (
      SELECT 1 FROM messaging_outbox b
      WHERE b.message_key = o.message_key AND b.id < o.id
        AND b.sent_at IS NULL AND (b.parked_at IS NOT NULL OR b.next_attempt_at IS NOT NULL)
        AND (b.parked_at IS NOT NULL OR b.next_attempt_at > now()))
ORDER BY o.id
LIMIT $1
FOR UPDATE OF o SKIP LOCKED
"""


class OutboxRelay:
    """Publishes a database's outbox.

    `producer` is a factory of producers (the runtime passes one) or a single producer. With a
    factory, a producer whose state broke (after Kafka refused a record it had accepted, its
    idempotence sequence has a gap and every later record of that partition fails) is replaced;
    a single producer cannot be, and the relay then only backs off.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer | ProducerFactory,
        *,
        batch_size: int = 200,
        poll_interval: float = 2.0,
        max_backoff: float = 30.0,
        retention: timedelta = timedelta(days=7),
        park_after_attempts: int = 10,
        retry_base_delay: float = 1.0,
        retry_max_delay: float = 300.0,
        send_timeout: float = 15.0,
    ) -> None:
        if park_after_attempts < 1:
            raise ValueError("park_after_attempts must be at least 1")
        self._pool = pool
        self._factory: ProducerFactory | None
        if isinstance(producer, AIOKafkaProducer):
            self._factory, self._producer = None, producer
        else:
            self._factory, self._producer = producer, producer()
        self._producer_started = False
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._retention = retention
        self._park_after = park_after_attempts
        self._retry_base = retry_base_delay
        self._retry_cap = retry_max_delay
        self._send_timeout = send_timeout
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncpg.Connection | None = None
        self._listener_lost = False
        self._kafka_down = False
        self._last_error: str | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await self._ensure_listener()
        try:
            await self._ready_producer()
        except KafkaUnreachableError as exc:  # the loop keeps trying, with backoff
            self._last_error = describe(exc)
            log.warning("outbox_relay_kafka_unavailable", error=self._last_error)
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._listener is not None:
            listener, self._listener = self._listener, None
            await self._release_listener(listener)
        await self._close_producer(self._producer)
        self._producer_started = False

    def _on_notify(self, *_: Any) -> None:
        self._wake.set()

    def _on_listener_lost(self, *_: Any) -> None:
        self._listener_lost = True
        self._wake.set()  # the loop's next turn opens a new listener

    def _listening(self) -> bool:
        if self._listener is None or self._listener_lost:
            return False
        try:
            return not self._listener.is_closed()
        except asyncpg.InterfaceError:  # the pool took it back when it died
            return False

    async def _ensure_listener(self) -> None:
        """LISTEN on a connection of its own; a new one when the previous one died."""
        if self._listening():
            return
        if self._listener is not None:
            lost, self._listener = self._listener, None
            log.warning("outbox_listener_lost")
            await self._release_listener(lost)
        conn = await self._pool.acquire()
        try:
            await conn.add_listener(CHANNEL, self._on_notify)
            conn.add_termination_listener(self._on_listener_lost)
        except BaseException:
            await self._pool.release(conn)
            raise
        self._listener, self._listener_lost = conn, False

    async def _release_listener(self, conn: asyncpg.Connection) -> None:
        with contextlib.suppress(Exception):
            conn.remove_termination_listener(self._on_listener_lost)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.remove_listener(CHANNEL, self._on_notify), 5.0)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._pool.release(conn), 5.0)

    async def _ready_producer(self) -> AIOKafkaProducer:
        if not self._producer_started:
            try:
                await asyncio.wait_for(self._producer.start(), self._send_timeout)
            except Exception as exc:
                if self._factory is not None:  # start the next try from a clean producer
                    failed, self._producer = self._producer, self._factory()
                    await self._close_producer(failed)
                raise KafkaUnreachableError(
                    f"the producer cannot connect: {describe(exc)}"
                ) from exc
            self._producer_started = True
        return self._producer

    async def _replace_producer(self) -> bool:
        """A fresh producer in place of one whose state broke; False without a factory."""
        if self._factory is None:
            return False
        broken, self._producer = self._producer, self._factory()
        self._producer_started = False
        await self._close_producer(broken)
        log.info("outbox_producer_replaced")
        return True

    async def _close_producer(self, producer: AIOKafkaProducer) -> None:
        # stop() flushes first: bounded, or an unreachable Kafka would hold a shutdown forever.
        # What it could not flush is still pending in the outbox.
        try:
            await asyncio.wait_for(producer.stop(), self._send_timeout)
        except Exception as exc:
            log.warning("outbox_producer_stop_failed", error=describe(exc))

    async def _run(self) -> None:
        backoff = 0.0
        rounds = 0
        while True:
            self._wake.clear()
            try:
                await self._ensure_listener()
                result = await self.relay_once()
                backoff = 0.0
                self._last_error = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Kafka or the database down must not kill the relay
                backoff = min(self._max_backoff, max(0.2, backoff * 2))
                self._last_error = describe(exc)
                log.warning("outbox_relay_failed", error=self._last_error, retry_in=backoff)
                await asyncio.sleep(backoff)
                continue
            rounds += 1
            if rounds % 500 == 0:
                await self.purge_sent()
            if result.claimed >= self._batch_size and (result.sent or result.failed):
                continue  # more is waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval)

    # --- one round ---------------------------------------------------------------------------

    async def relay_once(self) -> RelayResult:
        """Publish one batch of pending rows and record each row's outcome.

        Raises `KafkaUnreachableError` (after recording the rows' last error, without counting
        it against them) when Kafka published nothing and the failures are not the rows' fault.
        """
        await self._ready_producer()
        if self._kafka_down:
            if not await self._cluster_reachable():
                raise KafkaUnreachableError("Kafka is still unreachable (metadata request failed)")
            self._kafka_down = False
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_CLAIM, self._batch_size)
            ready = await self._in_key_order(conn, rows) if rows else []
            if not ready:
                return RelayResult(claimed=len(rows))
            started = time.perf_counter()
            verdict = await self._settle(ready, await self._publish(ready))
            metrics.observe_publish(time.perf_counter() - started, len(verdict.sent))
            if verdict.sent:
                await self._mark_sent(conn, verdict.sent)
            parked = await self._record_failures(conn, verdict)
        if verdict.uncharged and not verdict.sent:
            self._kafka_down = True
            first = verdict.uncharged[0][1]
            raise KafkaUnreachableError(
                f"Kafka published none of {len(ready)} rows: {describe(first)}"
            ) from first
        log.debug("outbox_relayed", count=len(verdict.sent), failed=len(verdict.charged))
        return RelayResult(
            claimed=len(rows), sent=len(verdict.sent), failed=len(verdict.charged), parked=parked
        )

    async def _in_key_order(
        self, conn: asyncpg.Connection, rows: list[asyncpg.Record]
    ) -> list[asyncpg.Record]:
        """Drop rows that an earlier unsent row of the same key, not in this batch, must precede."""
        ids = [r["id"] for r in rows]
        keys = list({r["message_key"] for r in rows})
        held = await conn.fetch(
            """SELECT message_key, min(id) AS first_id FROM messaging_outbox
               WHERE sent_at IS NULL AND message_key = ANY($1::text[])
                 AND NOT id = ANY($2::bigint[])
               GROUP BY message_key""",
            keys,
            ids,
        )
        first_held = {r["message_key"]: r["first_id"] for r in held}
        return [r for r in rows if r["id"] < first_held.get(r["message_key"], r["id"] + 1)]

    async def _send(self, producer: AIOKafkaProducer, row: asyncpg.Record) -> asyncio.Future[Any]:
        values: dict[str, str] = json.loads(row["headers"])
        with tracing.publishing(row):  # a child of the row's transaction; the consumers' parent
            tracing.inject(values)
            ack: asyncio.Future[Any] = await producer.send(
                row["topic"],
                value=bytes(row["body"]),
                key=row["message_key"].encode(),
                headers=[(k, v.encode()) for k, v in values.items()],
            )
        ack.add_done_callback(_retrieve)
        return ack

    def _unacknowledged(self) -> kafka_errors.KafkaTimeoutError:
        return kafka_errors.KafkaTimeoutError(f"not acknowledged within {self._send_timeout:g} s")

    async def _publish(self, rows: Sequence[asyncpg.Record]) -> dict[int, Attempt]:
        """Send rows in id order, then wait for Kafka's acknowledgements; each row's outcome.

        A key whose row failed to be sent sends nothing more in this batch. A topic whose send
        failed for a reason other than the row (no metadata in time, the producer's buffer not
        draining) is not tried again in this batch: each try would wait as long.
        """
        producer = self._producer
        outcome: dict[int, Attempt] = {}
        acks: dict[int, asyncio.Future[Any]] = {}
        stopped: set[str] = set()
        stalled: set[str] = set()
        for row in rows:
            if row["message_key"] in stopped:
                continue
            if row["topic"] in stalled:
                stopped.add(row["message_key"])  # not tried: neither sent nor judged
                continue
            try:
                acks[row["id"]] = await asyncio.wait_for(
                    self._send(producer, row), self._send_timeout
                )
            except Exception as exc:
                outcome[row["id"]] = self._failed_send(producer, row, exc)
                stopped.add(row["message_key"])
                if classify(exc) is not Failure.ROW:
                    stalled.add(row["topic"])
        if acks:
            await asyncio.wait(acks.values(), timeout=self._send_timeout)
        for row_id, ack in acks.items():
            if not ack.done():
                outcome[row_id] = Attempt(self._unacknowledged())
            elif ack.cancelled():
                outcome[row_id] = Attempt(kafka_errors.KafkaTimeoutError("send cancelled"))
            else:
                outcome[row_id] = Attempt(ack.exception())
        return outcome

    @staticmethod
    def _failed_send(producer: AIOKafkaProducer, row: Row, exc: BaseException) -> Attempt:
        unknown = (
            classify(exc) is Failure.RETRIABLE
            and producer.client.cluster.partitions_for_topic(row["topic"]) is None
        )
        return Attempt(exc, at_send=True, topic_unknown=unknown)

    async def _publish_alone(self, row: asyncpg.Record) -> Attempt:
        """Send one row with nothing else in flight, so its outcome is its own."""
        try:
            producer = await self._ready_producer()
        except Exception as exc:
            return Attempt(exc, at_send=True)
        try:
            ack = await asyncio.wait_for(self._send(producer, row), self._send_timeout)
        except Exception as exc:
            return self._failed_send(producer, row, exc)
        try:
            await asyncio.wait_for(asyncio.shield(ack), self._send_timeout)
        except TimeoutError:
            return Attempt(self._unacknowledged())
        except Exception as exc:
            return Attempt(exc)
        return Attempt(None)

    async def _settle(self, rows: Sequence[Row], outcome: dict[int, Attempt]) -> Verdict:
        """Send again, one by one with a fresh producer, the failed rows that may be innocent
        neighbours of a guilty one (see `needs_isolation`); then judge every row."""
        failures = first_failures(rows, outcome)
        suspects = [r for r in failures if needs_isolation(outcome[r["id"]])]
        not_isolated = {r["id"] for r in suspects}
        if suspects and await self._replace_producer():
            for row in suspects:
                again = await self._publish_alone(row)
                outcome[row["id"]] = again
                not_isolated.discard(row["id"])
                if again.error is not None and classify(again.error) is Failure.CLUSTER:
                    break  # no producer could connect: the rest wait for the next round
                if needs_isolation(again) and not await self._replace_producer():
                    break
        if not_isolated:  # no factory to replace the producer with, or Kafka went away meanwhile
            log.warning("outbox_rows_not_isolated", rows=len(not_isolated))
        # A retriable failure with nothing acknowledged: is Kafka down, or only the row's topic
        # unknown to it? Ask for metadata only then.
        cluster_answers = False
        if not any(outcome[r["id"]].error is None for r in rows if r["id"] in outcome) and any(
            outcome[r["id"]].topic_unknown for r in failures
        ):
            cluster_answers = await self._cluster_reachable()
        # Rows behind a suspect sent again successfully wait for the next round: still judged on
        # the first pass's failures only.
        return judge(
            rows,
            outcome,
            failures=failures,
            not_isolated=not_isolated,
            cluster_answers=cluster_answers,
        )

    async def _cluster_reachable(self) -> bool:
        try:
            await asyncio.wait_for(
                self._producer.client.fetch_all_metadata(), min(5.0, self._send_timeout)
            )
        except Exception:
            return False
        return True

    async def _mark_sent(self, conn: asyncpg.Connection, ids: list[int]) -> None:
        # A copy an erasure asked to forget goes once published (see outbox.forget); the others
        # are marked sent. One statement (one round trip): the two touch disjoint rows.
        await conn.execute(
            """WITH forgotten AS (
                   DELETE FROM messaging_outbox
                   WHERE id = ANY($1::bigint[]) AND forget_after_send)
               UPDATE messaging_outbox
               SET sent_at = now(), attempts = attempts + 1, next_attempt_at = NULL
               WHERE id = ANY($1::bigint[]) AND NOT forget_after_send""",
            ids,
        )

    async def _record_failures(self, conn: asyncpg.Connection, verdict: Verdict) -> int:
        """Write each failed row's attempt, error and retry time, or park it. Returns parked."""
        parked = 0
        if verdict.charged:
            ids, errors, delays = [], [], []
            for row, error in verdict.charged:
                attempts = row["attempts"] + 1
                delay = retry_delay(attempts, base=self._retry_base, cap=self._retry_cap)
                ids.append(row["id"])
                errors.append(describe(error))
                delays.append(delay)
                fields = {
                    "outbox_id": row["id"],
                    "event_type": row["event_type"],
                    "topic": row["topic"],
                    "key": row["message_key"],
                    "attempts": attempts,
                    "error": describe(error),
                }
                if attempts >= self._park_after:
                    parked += 1
                    log.error("outbox_row_parked", **fields)
                else:
                    log.warning("outbox_row_failed", retry_in=delay, **fields)
            await conn.execute(
                """UPDATE messaging_outbox AS o
                   SET attempts = o.attempts + 1,
                       last_error = f.error,
                       parked_at = CASE WHEN o.attempts + 1 >= $4 THEN now() END,
                       next_attempt_at = CASE WHEN o.attempts + 1 >= $4 THEN NULL
                                              ELSE now() + make_interval(secs => f.delay) END
                   FROM unnest($1::bigint[], $2::text[], $3::float8[]) AS f(id, error, delay)
                   WHERE o.id = f.id""",
                ids,
                errors,
                delays,
                self._park_after,
            )
        if verdict.uncharged:
            await conn.execute(
                """UPDATE messaging_outbox AS o SET last_error = f.error
                   FROM unnest($1::bigint[], $2::text[]) AS f(id, error) WHERE o.id = f.id""",
                [row["id"] for row, _ in verdict.uncharged],
                [describe(error) for _, error in verdict.uncharged],
            )
        return parked

    # --- housekeeping and status -------------------------------------------------------------

    async def purge_sent(self) -> int:
        """Delete rows sent longer ago than the retention period."""
        status = await self._pool.execute(
            "DELETE FROM messaging_outbox WHERE sent_at < now() - $1::interval",
            self._retention,
        )
        return int(status.split()[-1])

    async def pending_count(self) -> int:
        """Rows still to publish (parked ones not included)."""
        return int(
            await self._pool.fetchval(
                "SELECT count(*) FROM messaging_outbox WHERE sent_at IS NULL AND parked_at IS NULL"
            )
        )

    async def status(self) -> OutboxStatus:
        """Pending and parked rows and the age of the oldest pending one (one indexed query)."""
        row = await self._pool.fetchrow(
            """SELECT count(*) FILTER (WHERE parked_at IS NULL) AS pending,
                      count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked,
                      extract(epoch FROM now() - min(created_at) FILTER (WHERE parked_at IS NULL))
                          AS oldest
               FROM messaging_outbox WHERE sent_at IS NULL"""
        )
        assert row is not None
        oldest = row["oldest"]
        return OutboxStatus(
            pending=int(row["pending"]),
            parked=int(row["parked"]),
            oldest_pending_seconds=None if oldest is None else round(float(oldest), 3),
            relay_error=self._last_error,
        )


def _retrieve(ack: asyncio.Future[Any]) -> None:
    """Mark an acknowledgement's error as seen (one not awaited in time may fail later)."""
    if not ack.cancelled():
        ack.exception()
