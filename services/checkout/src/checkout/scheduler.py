"""The durable release scheduler: the end of the modification window, from the database.

There is no timer in memory: the due time is the order's ``release_at`` column. Every instance
polls for due orders and releases each in its own transaction, locking the order with
``FOR UPDATE SKIP LOCKED``: two instances never release one order twice, a release never waits
behind a customer's modification or cancellation (it retries at the next poll, and sees the
order as that command left it), and a restarted service releases what came due while it was
down. OrderReleased goes through the outbox in the same transaction, keyed by the order id, so it
follows any OrderModified/OrderCancelled of that order on its partition.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from uuid import UUID

import structlog
from jg_messaging import ServiceRuntime, UnitOfWork

from checkout import domain, repository, store

log = structlog.get_logger(__name__)


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
    def __init__(self, runtime: ServiceRuntime, poll_interval: float) -> None:
        self.runtime = runtime
        self.poll_interval = poll_interval
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
            except Exception as exc:  # a database hiccup must not stop the scheduler
                log.warning("release_poll_failed", error=repr(exc))
            await asyncio.sleep(self.poll_interval)

    async def release_due_orders(self, now: datetime | None = None) -> int:
        """Release every order due at ``now``; returns how many were released."""
        now = now or domain.utcnow()
        async with self.runtime.pool.acquire() as conn:
            due = await repository.due_for_release(conn, now)
        released = 0
        for order_id, correlation_id in due:
            with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
                async with self.runtime.messaging.transaction(correlation_id=correlation_id) as uow:
                    released += await release_one(uow, order_id, now)
        return released
