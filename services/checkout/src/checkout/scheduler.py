"""The durable release scheduler: the end of the modification window, from the database.

There is no timer in memory: the due time is the order's ``release_at`` column. Every instance
polls for due orders and releases each in its own transaction, locking the order with
``FOR UPDATE SKIP LOCKED``: two instances never release one order twice, a release never waits
behind a customer's modification or cancellation (it retries at the next poll, and sees the
order as that command left it), and a restarted service releases what came due while it was
down. OrderReleased goes through the outbox in the same transaction, keyed by the order id, so it
follows any OrderModified/OrderCancelled of that order on its partition.

One order's failure is that order's only. The release runs in a savepoint inside the
transaction that holds the order's lock: when it fails (a constraint, a row that no longer
reads, an outbox row that cannot be written...), the savepoint is rolled back and the failure
is recorded on the order in the same transaction (``release_attempts``, ``release_failed_at``,
``release_retry_at``, ``release_error``), then the poll goes on with the next due order. The
due query leaves the order out until ``release_retry_at`` (exponential backoff from
``release_retry_first_delay`` to ``release_retry_max_delay``, see
:func:`checkout.domain.release_retry_delay`); a successful release clears the record. Each
failure is logged (``order_release_failed``, level error) with the order id and its
correlation id. Should the cause refuse that write too, the instance holds the order back in
memory with the same backoff. A database that is unreachable is not an order's failure:
nothing is recorded, the poll stops and the loop tries again at the next one
(``release_poll_failed``).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from uuid import UUID

import structlog
from jg_messaging import ServiceRuntime, UnitOfWork, classify
from jg_messaging.consumer import describe_error

from checkout import domain, repository, store

log = structlog.get_logger(__name__)


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database is unreachable (a transient failure, see
    :mod:`jg_messaging.failures`), not that this order cannot be released."""
    return classify(exc).transient


async def release_one(uow: UnitOfWork, order_id: UUID, now: datetime) -> bool:
    """Release the order in the unit's transaction if it is due and nobody holds it."""
    order = await repository.lock_if_free(uow.conn, order_id)
    if order is None:
        return False
    saved = await store.save(uow, domain.release(order, now=now))
    if saved is not None:
        log.info("order_released", order_id=str(order_id), order_number=saved.number)
    return saved is not None


class ReleaseScheduler:
    def __init__(
        self,
        runtime: ServiceRuntime,
        poll_interval: float,
        *,
        retry_first_delay: float = 5.0,
        retry_max_delay: float = 300.0,
    ) -> None:
        self.runtime = runtime
        self.poll_interval = poll_interval
        self.retry_first_delay = retry_first_delay
        self.retry_max_delay = retry_max_delay
        self._unrecorded: dict[UUID, domain.ReleaseFailure] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="release-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.release_due_orders()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: not an order's failure
                log.warning("release_poll_failed", error=describe_error(exc))
            await asyncio.sleep(self.poll_interval)

    async def release_due_orders(self, now: datetime | None = None) -> int:
        """Release every order due at ``now``; returns how many were released.

        An order whose release fails is recorded and skipped; an unreachable database raises.
        """
        now = now or domain.utcnow()
        async with self.runtime.pool.acquire() as conn:
            due = await repository.due_for_release(conn, now)
        # failures that could not be written on their order: held back here, while still due
        due_ids = {order_id for order_id, _ in due}
        self._unrecorded = {o: f for o, f in self._unrecorded.items() if o in due_ids}
        released = 0
        for order_id, correlation_id in due:
            unrecorded = self._unrecorded.get(order_id)
            if unrecorded is not None and unrecorded.retry_at > now:
                continue
            with structlog.contextvars.bound_contextvars(
                correlation_id=correlation_id, order_id=str(order_id)
            ):
                released += await self._release(order_id, correlation_id, now)
        return released

    async def _release(self, order_id: UUID, correlation_id: str, now: datetime) -> bool:
        async with self.runtime.messaging.transaction(correlation_id=correlation_id) as uow:
            failures = await repository.lock_for_release(uow.conn, order_id, now)
            if failures is None:  # held by a command or another instance, or not due again yet
                return False
            unrecorded = self._unrecorded.pop(order_id, None)
            if unrecorded is not None:
                failures = max(failures, unrecorded.attempts)
            try:
                async with uow.conn.transaction():  # a savepoint: a failure undoes the release only
                    released = await release_one(uow, order_id, now)
            except Exception as exc:
                if database_unavailable(exc):
                    raise
                await self._record_failure(uow, order_id, failures, exc, now)
                return False
            if released and failures:
                await repository.clear_release_failure(uow.conn, order_id)
                log.info("order_released_after_failures", failed_attempts=failures)
            return released

    async def _record_failure(
        self, uow: UnitOfWork, order_id: UUID, failures: int, exc: Exception, now: datetime
    ) -> None:
        failure = domain.release_failed(
            failures, now=now, first_delay=self.retry_first_delay, max_delay=self.retry_max_delay
        )
        error = describe_error(exc)
        log.error(
            "order_release_failed",
            attempt=failure.attempts,
            retry_at=failure.retry_at.isoformat(),
            retry_in=(failure.retry_at - now).total_seconds(),
            error=error,
        )
        try:
            async with uow.conn.transaction():  # the cause may refuse this write too
                await repository.record_release_failure(uow.conn, order_id, failure, error)
        except Exception as record_exc:
            if database_unavailable(record_exc):
                raise
            # e.g. a trigger refusing every update of this order: this instance holds it back
            self._unrecorded[order_id] = failure
            log.error("order_release_failure_not_recorded", error=describe_error(record_exc))
