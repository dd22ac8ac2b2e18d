"""The end of the modification window: release a due order, or record why it failed.

Each order is released in its own transaction, locked with ``FOR UPDATE SKIP LOCKED`` (a
release never waits behind a command, nor two instances release one order twice). The release
runs in a savepoint: when it fails for a reason of the order's own, the savepoint is rolled
back and the failure is recorded on the order, with the next attempt pushed back
(:func:`checkout.domain.release_failed`). A database that is unreachable is not the order's
failure: it raises, and nothing is recorded.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime
from uuid import UUID

import structlog
from jg_messaging import UnitOfWork, classify
from jg_messaging.consumer import describe_error

from checkout import domain, repository
from checkout.context import Context
from checkout.domain import ReleaseFailure
from checkout.repository import DueOrder
from checkout.usecases.common import save

log = structlog.get_logger(__name__)

HeldBack = MutableMapping[UUID, ReleaseFailure]
"""Failures that could not be written on their order: the instance holds those orders back."""


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database is unreachable (a transient failure, see
    :mod:`jg_messaging.failures`), not that this order cannot be released."""
    return classify(exc).transient


async def due_orders(ctx: Context, now: datetime) -> list[DueOrder]:
    async with ctx.runtime.pool.acquire() as conn:
        return await repository.due_for_release(conn, now)


async def release_one(uow: UnitOfWork, order_id: UUID, now: datetime) -> bool:
    """Release the order in the unit's transaction if it is due and nobody holds it."""
    order = await repository.lock_if_free(uow.conn, order_id)
    if order is None:
        return False
    saved = await save(uow, domain.release(order, now=now))
    if saved is not None:
        log.info("order_released", order_id=str(order_id), order_number=saved.number)
    return saved is not None


async def release_order(ctx: Context, due: DueOrder, now: datetime, held: HeldBack) -> bool:
    """Release one due order, or record its failure on it (or in ``held``, should the cause
    refuse that write too). Raises only when the database is unreachable."""
    async with ctx.runtime.messaging.transaction(correlation_id=due.correlation_id) as uow:
        failures = await repository.lock_for_release(uow.conn, due.order_id, now)
        if failures is None:  # held by a command or another instance, or not due again yet
            return False
        unrecorded = held.pop(due.order_id, None)
        if unrecorded is not None:
            failures = max(failures, unrecorded.attempts)
        try:
            async with uow.conn.transaction():  # a savepoint: a failure undoes the release only
                released = await release_one(uow, due.order_id, now)
        except Exception as exc:
            if database_unavailable(exc):
                raise
            await _record_failure(ctx, uow, due.order_id, failures, exc, now, held)
            return False
        if released and failures:
            await repository.clear_release_failure(uow.conn, due.order_id)
            log.info("order_released_after_failures", failed_attempts=failures)
        return released


async def _record_failure(
    ctx: Context,
    uow: UnitOfWork,
    order_id: UUID,
    failures: int,
    exc: Exception,
    now: datetime,
    held: HeldBack,
) -> None:
    failure = domain.release_failed(
        failures,
        now=now,
        first_delay=ctx.settings.release_retry_first_delay,
        max_delay=ctx.settings.release_retry_max_delay,
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
        held[order_id] = failure
        log.error("order_release_failure_not_recorded", error=describe_error(record_exc))
