"""The durable release scheduler: the end of the modification window, from the database.

There is no timer in memory: the due time is the order's ``release_at`` column. Every instance
polls for due orders and releases each in its own transaction
(:func:`checkout.usecases.release.release_order`), locking the order with
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
from jg_messaging.consumer import describe_error

from checkout import domain
from checkout.context import Context
from checkout.usecases.release import (
    database_unavailable,
    due_orders,
    release_one,
    release_order,
)

__all__ = ["ReleaseScheduler", "database_unavailable", "release_one"]

log = structlog.get_logger(__name__)


class ReleaseScheduler:
    """The poll loop (one task per instance) and the failures it holds back in memory."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.poll_interval = ctx.settings.release_poll_interval
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
        now = now or self.ctx.clock()
        due = await due_orders(self.ctx, now)
        # failures that could not be written on their order: held back here, while still due
        due_ids = {d.order_id for d in due}
        self._unrecorded = {o: f for o, f in self._unrecorded.items() if o in due_ids}
        released = 0
        for order in due:
            unrecorded = self._unrecorded.get(order.order_id)
            if unrecorded is not None and unrecorded.retry_at > now:
                continue
            with structlog.contextvars.bound_contextvars(
                correlation_id=order.correlation_id, order_id=str(order.order_id)
            ):
                released += await release_order(self.ctx, order, now, self._unrecorded)
        return released
