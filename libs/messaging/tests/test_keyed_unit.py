"""The key-ordered dispatcher on its own: who runs when, and which offsets it commits."""

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from jg_messaging.keyed import KeyedDispatcher

pytestmark = pytest.mark.unit

TOPIC = "jg.checkout.orders"


@dataclass(frozen=True)
class Rec:
    offset: int
    key: bytes | None
    partition: int = 0
    topic: str = TOPIC


class Harness:
    """Handlers that finish when the test says so; every start, end and commit recorded."""

    def __init__(self, concurrency: int = 16, grace: float = 0.2) -> None:
        self.gates: dict[int, asyncio.Event] = {}
        self.started: list[int] = []
        self.finished: list[int] = []
        self.running = 0
        self.most_running = 0
        self.commits: list[dict[tuple[str, int], int]] = []
        self.fail_first: set[int] = set()
        self.dispatcher: KeyedDispatcher[Rec] = KeyedDispatcher(
            self.handle,
            self.commit,
            concurrency=concurrency,
            commit_interval=0.0,
            grace=grace,
            retry_delay=0.01,
        )

    def gate(self, offset: int) -> asyncio.Event:
        return self.gates.setdefault(offset, asyncio.Event())

    async def handle(self, record: Rec) -> None:
        self.started.append(record.offset)
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            if record.offset in self.fail_first:
                self.fail_first.discard(record.offset)
                raise RuntimeError("a bug that escaped the middleware")
            await self.gate(record.offset).wait()
        finally:
            self.running -= 1
        self.finished.append(record.offset)

    async def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        self.commits.append(dict(offsets))

    def committed(self, partition: int = 0) -> int | None:
        for offsets in reversed(self.commits):
            if (TOPIC, partition) in offsets:
                return offsets[(TOPIC, partition)]
        return None

    async def submit(self, *records: Rec) -> None:
        for record in records:
            await self.dispatcher.submit(record)
        await settle()

    async def release(self, *offsets: int) -> None:
        for offset in offsets:
            self.gate(offset).set()
        await settle()


@pytest.fixture
async def make() -> AsyncIterator[Callable[..., Harness]]:
    """Harnesses whose dispatchers are closed (their handlers cancelled) after the test."""
    made: list[Harness] = []

    def harness(**options: Any) -> Harness:
        made.append(Harness(**options))
        return made[-1]

    yield harness
    for h in made:
        h.dispatcher._grace = 0.0
        await h.dispatcher.close()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def eventually(check: Callable[[], bool], timeout: float = 2.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.005)


async def test_different_keys_of_one_partition_run_at_once_and_a_slow_one_delays_no_other(
    make: Callable[..., Harness],
) -> None:
    h = make()
    await h.submit(Rec(0, b"order-a"), Rec(1, b"order-b"), Rec(2, b"order-c"))
    assert sorted(h.started) == [0, 1, 2]
    await h.release(1, 2)
    assert h.finished == [1, 2]  # order-a still runs: it held nobody up


async def test_the_same_key_runs_one_at_a_time_in_offset_order(
    make: Callable[..., Harness],
) -> None:
    h = make()
    await h.submit(Rec(0, b"order-a"), Rec(1, b"order-b"), Rec(2, b"order-a"), Rec(3, b"order-a"))
    assert sorted(h.started) == [0, 1]
    await h.release(2, 3)  # their turn has not come: nothing happens
    assert h.finished == []
    await h.release(0)
    await eventually(lambda: h.finished == [0, 2, 3])
    assert [o for o in h.started if o != 1] == [0, 2, 3]


async def test_the_commit_stops_at_the_oldest_unfinished_message(
    make: Callable[..., Harness],
) -> None:
    h = make()
    await h.submit(Rec(10, b"a"), Rec(11, b"b"), Rec(12, b"c"))
    await h.release(11, 12)
    await h.dispatcher.flush()
    assert h.committed() == 10  # 11 and 12 are done, 10 is not: a crash re-delivers 10 to 12
    await h.release(10)
    await h.dispatcher.flush()
    assert h.committed() == 13


async def test_a_record_done_at_once_moves_the_commit_but_never_past_an_unfinished_one(
    make: Callable[..., Harness],
) -> None:
    h = make(concurrency=1)
    await h.submit(Rec(0, b"a"))
    h.dispatcher.done_at_once(Rec(1, b"b"))  # an event nobody here handles
    h.dispatcher.done_at_once(Rec(2, b"a"))  # same key as the running one: no turn to wait for
    await settle()
    assert h.started == [0]  # neither was handed to the handler nor took the only slot
    await h.dispatcher.flush()
    assert h.committed() == 0  # 0 still runs: a crash re-delivers 0 to 2
    await h.release(0)
    await h.dispatcher.flush()
    assert h.committed() == 3
    h.dispatcher.done_at_once(Rec(3, None))
    await h.dispatcher.flush()
    assert h.committed() == 4
    await h.submit(Rec(4, b"c"))  # the slot is free: nothing was held by the skipped ones
    assert h.started == [0, 4]


async def test_offsets_are_committed_per_partition(make: Callable[..., Harness]) -> None:
    h = make()
    await h.submit(Rec(5, b"a", partition=0), Rec(7, b"b", partition=1))
    await h.release(7)
    await h.dispatcher.flush()
    assert h.committed(partition=1) == 8
    assert h.committed(partition=0) == 5


async def test_the_committer_commits_after_progress(make: Callable[..., Harness]) -> None:
    h = make()
    h.dispatcher.open()
    await h.submit(Rec(0, b"a"), Rec(1, b"b"))
    await h.release(0)
    await eventually(lambda: h.committed() == 1)
    await h.release(1)
    await eventually(lambda: h.committed() == 2)
    await h.dispatcher.close()


async def test_submit_waits_while_the_bound_is_reached(make: Callable[..., Harness]) -> None:
    h = make(concurrency=2)
    await h.submit(Rec(0, b"a"), Rec(1, b"b"))
    third = asyncio.create_task(h.dispatcher.submit(Rec(2, b"c")))
    await settle()
    assert not third.done()  # the consumer does not fetch the next record
    assert h.started == [0, 1]
    await h.release(1)
    await asyncio.wait_for(third, 1)
    await settle()
    assert h.started == [0, 1, 2]
    await h.release(0, 2)
    assert h.most_running == 2


async def test_records_queued_behind_their_key_count_against_the_bound(
    make: Callable[..., Harness],
) -> None:
    h = make(concurrency=2)
    await h.submit(Rec(0, b"a"), Rec(1, b"a"))
    blocked = asyncio.create_task(h.dispatcher.submit(Rec(2, b"b")))
    await settle()
    assert not blocked.done()
    await h.release(0)
    await asyncio.wait_for(blocked, 1)
    await h.release(1, 2)
    assert h.finished == [0, 1, 2]


async def test_concurrency_one_handles_one_message_at_a_time_in_offset_order(
    make: Callable[..., Harness],
) -> None:
    h = make(concurrency=1)
    for offset in range(4):
        h.gate(offset).set()
    await h.submit(Rec(0, b"a"), Rec(1, b"b"), Rec(2, None), Rec(3, b"c"))
    await eventually(lambda: len(h.finished) == 4)
    assert h.started == [0, 1, 2, 3]
    assert h.most_running == 1


async def test_a_message_without_a_key_waits_for_its_partition_and_holds_it(
    make: Callable[..., Harness],
) -> None:
    h = make()
    await h.submit(Rec(0, b"a"), Rec(1, None), Rec(2, b"b"), Rec(3, b"c", partition=1))
    assert sorted(h.started) == [0, 3]  # the other partition is not held
    await h.release(0)
    assert 1 in h.started and 2 not in h.started
    await h.release(1)
    assert 2 in h.started


async def test_one_key_never_runs_twice_at_once_even_from_two_partitions(
    make: Callable[..., Harness],
) -> None:
    """Checkout reads an order's payments and its shipments (two topics): its handlers of one
    order must not race on the order's row."""
    h = make()
    await h.submit(Rec(0, b"order-a", partition=0), Rec(0, b"order-a", partition=1))
    assert h.started == [0]
    await h.release(0)
    await eventually(lambda: h.finished == [0, 0])


async def test_a_handler_error_retries_the_message_and_holds_its_key(
    make: Callable[..., Harness],
) -> None:
    h = make()
    h.fail_first.add(0)
    await h.submit(Rec(0, b"a"), Rec(1, b"a"))
    await h.release(0, 1)
    await eventually(lambda: h.finished == [0, 1])
    assert h.started == [0, 0, 1]  # tried again, never skipped


async def test_revocation_commits_what_finished_and_cancels_what_outlives_the_grace(
    make: Callable[..., Harness],
) -> None:
    h = make(grace=0.05)
    await h.submit(Rec(0, b"a"), Rec(1, b"b"), Rec(2, b"a"), Rec(100, b"x", partition=1))
    await h.release(1)
    await h.dispatcher.revoke([(TOPIC, 0)])
    assert h.committed() == 0  # 0 never finished (cancelled), 2 never started
    assert 2 not in h.started
    assert h.dispatcher.in_flight == 1  # only partition 1's record still holds a slot
    # Records of the revoked partition fetched before the revocation are not handled...
    await h.submit(Rec(3, b"c"))
    assert 3 not in h.started
    # ...until the group gives the partition back.
    h.dispatcher.assigned([(TOPIC, 0)])
    await h.submit(Rec(0, b"a"))
    assert h.started.count(0) == 2  # offset 0 again, for its new turn


async def test_close_waits_for_running_messages_and_commits_them(
    make: Callable[..., Harness],
) -> None:
    h = make(grace=2.0)
    await h.submit(Rec(0, b"a"), Rec(1, b"b"))
    await h.release(1)
    closing = asyncio.create_task(h.dispatcher.close())
    await settle()
    assert not closing.done()  # offset 0 is given its grace
    await h.release(0)
    await asyncio.wait_for(closing, 1)
    assert h.committed() == 2
    assert h.dispatcher.in_flight == 0
