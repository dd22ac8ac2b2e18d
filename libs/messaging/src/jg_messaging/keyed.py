"""Key-ordered concurrency inside a partition, and the offsets that are safe to commit.

Confluent's parallel consumer in its key-ordered mode, in asyncio and without Kafka (the
subscriber in :mod:`jg_messaging.consumer` feeds it the records it fetches and commits what it
says):

- records of one partition with **different keys** are handled concurrently;
- records with **the same key** (the order id, the customer id: the key the topic uses) are
  handled one after the other, in offset order; one key never runs twice at once, even when
  its records come from two topics (checkout reads an order's payments and its shipments: two
  handlers of one order would otherwise race on its row), and then they start in fetch order;
- a record **without a key** is a barrier of its partition: it starts once every earlier record
  of the partition has finished, and nothing later on the partition starts before it has
  finished (so it is ordered with everything, as before);
- at most ``concurrency`` records are held at once (queued behind their key or running, all
  partitions together): :meth:`KeyedDispatcher.submit` waits for a free slot, so the consumer
  stops fetching while the bound is reached. ``concurrency=1`` is the old one-at-a-time
  consumer;
- the offset committed for a partition is the lowest offset not finished yet (or the offset
  after the last record seen when all have finished): never past an unfinished record, so a
  crash at any point re-delivers every unfinished record (at least once; the inboxes dedupe)
  and loses none. Commits are made at most every ``commit_interval`` seconds after progress,
  when partitions are revoked and on close;
- on revocation (a rebalance) and on close, records of the partitions not started yet are
  dropped, the running ones get ``grace`` seconds to finish, what finished is committed, and
  what still runs is cancelled (its transaction rolls back; the new owner gets it again).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import structlog

log = structlog.get_logger(__name__)

TopicPartition = tuple[str, int]


class Record(Protocol):
    """What the dispatcher reads of a record (aiokafka's ConsumerRecord has it)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> Any: ...


R = TypeVar("R", bound=Record)

Commit = Callable[[dict[TopicPartition, int]], Awaitable[None]]


@dataclass
class PartitionState:
    """One partition's records between their fetch and their commit."""

    end: int  # the offset after the last record seen
    running: dict[int, asyncio.Task[None]] = field(default_factory=dict)  # offset -> task
    barrier: bool = False  # a record without a key runs: nothing else of the partition starts
    unfinished: set[int] = field(default_factory=set)  # offsets queued or running
    committed: int | None = None  # the last offset committed by this consumer
    closing: bool = False  # revoked or closing: start nothing more

    def committable(self) -> int:
        """The offset to commit: the lowest unfinished one, else the one after the last seen."""
        return min(self.unfinished) if self.unfinished else self.end


def runnable(
    queued: deque[R], partitions: dict[TopicPartition, PartitionState], running_keys: set[Any]
) -> list[R]:
    """Take from ``queued`` (in fetch order) the records that may start now.

    A keyed record starts when no record with its key runs and none is queued before it (on
    any partition: one order's events never run at once, whatever topic they came on); a
    keyless one when nothing of its partition runs or is queued before it; nothing of a
    partition starts behind a queued or running keyless record, nor once it is closing.
    """
    blocked = set(running_keys)
    held: set[TopicPartition] = {
        tp for tp, part in partitions.items() if part.barrier or part.closing
    }
    seen: set[TopicPartition] = set()  # partitions with a record kept or started in this scan
    start: list[R] = []
    kept: deque[R] = deque()
    for record in queued:
        tp = (record.topic, record.partition)
        part = partitions.get(tp)
        if part is None or tp in held:
            kept.append(record)
        elif record.key is None:
            if not part.running and tp not in seen:
                start.append(record)
            else:
                kept.append(record)
            held.add(tp)
        elif record.key in blocked:
            kept.append(record)
        else:
            start.append(record)
        if record.key is not None:
            blocked.add(record.key)
        seen.add(tp)
    queued.clear()
    queued.extend(kept)
    return start


class KeyedDispatcher(Generic[R]):
    """Runs ``handle(record)`` for the submitted records, key-ordered per partition, and
    commits the safe offsets through ``commit``. ``handle`` should not raise (the
    ReliableConsumption middleware turns failures into waits, retries and dead letters); if it
    does, the record is tried again after ``retry_delay`` seconds (doubling, capped at 30 s),
    holding its key: it is never skipped."""

    def __init__(
        self,
        handle: Callable[[R], Awaitable[Any]],
        commit: Commit,
        *,
        concurrency: int = 16,
        commit_interval: float = 0.5,
        grace: float = 5.0,
        retry_delay: float = 1.0,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._handle = handle
        self._commit = commit
        self.concurrency = concurrency
        self._commit_interval = commit_interval
        self._grace = grace
        self._retry_delay = retry_delay
        self._slots = asyncio.Semaphore(concurrency)
        self._held = 0  # records holding a slot (queued or running)
        self._partitions: dict[TopicPartition, PartitionState] = {}
        self._queued: deque[R] = deque()  # submitted, not started, in fetch order
        self._running_keys: set[Any] = set()
        self._revoked: set[TopicPartition] = set()
        self._progress = asyncio.Event()
        self._commit_lock = asyncio.Lock()
        self._committer: asyncio.Task[None] | None = None

    # -- feeding ----------------------------------------------------------------------------

    def open(self) -> None:
        """Start the periodic committer (on the running loop)."""
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_loop(), name="jg-offset-committer")

    @property
    def in_flight(self) -> int:
        """Records submitted and not finished (queued behind their key or running)."""
        return self._held

    async def submit(self, record: R) -> None:
        """Take ``record``; returns once it holds a slot (back-pressure), not when it is done."""
        await self._slots.acquire()
        self._held += 1
        tp = (record.topic, record.partition)
        part = self._partitions.get(tp)
        if tp in self._revoked or (part is not None and part.closing):
            self._release()  # fetched before a revocation: the partition's new owner reads it
            return
        if part is None:
            part = self._partitions[tp] = PartitionState(end=record.offset)
        if record.offset in part.unfinished:
            self._release()  # the same record again while the first copy is not done
            return
        part.unfinished.add(record.offset)
        part.end = max(part.end, record.offset + 1)
        self._queued.append(record)
        self._schedule()

    def done_at_once(self, record: R) -> None:
        """``record`` needs no handling (an event its subscriber has no use for): its offset
        counts as finished without taking a slot, a task or its key's turn. The partition's
        commit still stays below any unfinished record before it."""
        tp = (record.topic, record.partition)
        part = self._partitions.get(tp)
        if tp in self._revoked or (part is not None and part.closing):
            return
        if part is None:
            part = self._partitions[tp] = PartitionState(end=record.offset)
        part.end = max(part.end, record.offset + 1)
        self._progress.set()

    def assigned(self, partitions: Iterable[TopicPartition]) -> None:
        """The group gave these partitions (back) to this consumer."""
        self._revoked.difference_update(partitions)

    # -- running ----------------------------------------------------------------------------

    def _schedule(self) -> None:
        for record in runnable(self._queued, self._partitions, self._running_keys):
            tp = (record.topic, record.partition)
            part = self._partitions[tp]
            if record.key is None:
                part.barrier = True
            else:
                self._running_keys.add(record.key)
            part.running[record.offset] = asyncio.create_task(
                self._run(part, record), name=f"jg-consume-{tp[0]}-{tp[1]}-{record.offset}"
            )

    async def _run(self, part: PartitionState, record: R) -> None:
        finished = False
        try:
            await self._handle_until_done(record)
            finished = True
        finally:
            part.running.pop(record.offset, None)
            if record.key is None:
                part.barrier = False
            else:
                self._running_keys.discard(record.key)
            if finished:
                part.unfinished.discard(record.offset)
                self._progress.set()
            self._release()
            self._schedule()

    async def _handle_until_done(self, record: R) -> None:
        failures = 0
        while True:
            try:
                await self._handle(record)
                return
            except Exception as exc:
                failures += 1
                delay = min(30.0, self._retry_delay * 2.0 ** (failures - 1))
                log.error(
                    "event_processing_failed",
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    retry_in=delay,
                    error=repr(exc)[:500],
                )
                await asyncio.sleep(delay)

    def _release(self) -> None:
        self._held -= 1
        self._slots.release()

    # -- committing -------------------------------------------------------------------------

    def committable(self) -> dict[TopicPartition, int]:
        """The offsets that moved since the last commit (never past an unfinished record)."""
        offsets: dict[TopicPartition, int] = {}
        for tp, part in self._partitions.items():
            offset = part.committable()
            if part.committed is None or offset > part.committed:
                offsets[tp] = offset
        return offsets

    async def flush(self) -> None:
        """Commit the committable offsets now (a failed commit is logged and tried later)."""
        async with self._commit_lock:
            offsets = self.committable()
            if not offsets:
                return
            try:
                await self._commit(offsets)
            except Exception as exc:
                log.warning("offset_commit_failed", error=repr(exc)[:500], offsets=len(offsets))
                self._progress.set()
                return
            for tp, offset in offsets.items():
                part = self._partitions.get(tp)
                if part is not None:
                    part.committed = offset

    async def _commit_loop(self) -> None:
        while True:
            await self._progress.wait()
            self._progress.clear()
            await self.flush()
            await asyncio.sleep(self._commit_interval)

    # -- revocation and close ---------------------------------------------------------------

    async def revoke(self, partitions: Iterable[TopicPartition]) -> None:
        """The group takes these partitions away: finish (bounded), commit, cancel the rest."""
        tps = set(partitions)
        self._revoked.update(tps)
        await self._let_go(tps)

    async def close(self) -> None:
        """Shutting down (the caller stopped fetching): the same as revoking every partition."""
        await self._let_go(set(self._partitions))
        if self._committer is not None:
            self._committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._committer
            self._committer = None

    async def _let_go(self, tps: set[TopicPartition]) -> None:
        parts = {tp: self._partitions[tp] for tp in tps if tp in self._partitions}
        if not parts:
            return
        for part in parts.values():
            part.closing = True
        kept = [r for r in self._queued if (r.topic, r.partition) not in parts]
        for _ in range(len(self._queued) - len(kept)):  # never started: the commit stays below
            self._release()
        self._queued.clear()
        self._queued.extend(kept)
        running = [task for part in parts.values() for task in part.running.values()]
        if running:
            _, late = await asyncio.wait(running, timeout=self._grace)
            if late:
                log.warning("consumer_revocation_cancels_running_events", count=len(late))
        await self.flush()
        late_tasks = [task for part in parts.values() for task in part.running.values()]
        for task in late_tasks:
            task.cancel()
        if late_tasks:
            await asyncio.gather(*late_tasks, return_exceptions=True)
        for tp, part in parts.items():
            if self._partitions.get(tp) is part:
                del self._partitions[tp]
