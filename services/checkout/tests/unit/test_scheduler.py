"""The scheduler's own decision: an order whose failure could not be recorded on it is held
back in memory, with the same backoff, and forgotten once it is no longer due.

The database work (``due_orders``, ``release_order``) is replaced by stand-ins here; the
integration tests release real orders (test_release_failures, test_concurrency)."""

from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import uuid4

import pytest
from checkout import domain, scheduler
from checkout.context import Context
from checkout.repository import DueOrder
from checkout.scheduler import ReleaseScheduler

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Settings:
    release_poll_interval = 60.0


class Ctx:
    settings = Settings()

    @staticmethod
    def clock() -> datetime:
        return NOW


async def test_a_held_back_order_waits_for_its_retry_time_then_is_forgotten_when_not_due(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held, other = DueOrder(uuid4(), "corr-held"), DueOrder(uuid4(), "corr-other")
    due = [held, other]
    attempted: list[DueOrder] = []

    async def due_orders(ctx: Any, now: datetime) -> list[DueOrder]:
        return list(due)

    async def release_order(ctx: Any, order: DueOrder, now: datetime, memory: Any) -> bool:
        attempted.append(order)
        memory.pop(order.order_id, None)
        return True

    monkeypatch.setattr(scheduler, "due_orders", due_orders)
    monkeypatch.setattr(scheduler, "release_order", release_order)
    poller = ReleaseScheduler(cast(Context, Ctx()))
    failure = domain.release_failed(2, now=NOW, first_delay=5, max_delay=300)  # retry in 20 s
    poller._unrecorded[held.order_id] = failure

    assert await poller.release_due_orders(NOW) == 1  # the other one only
    assert attempted == [other]
    assert held.order_id in poller._unrecorded

    attempted.clear()
    assert await poller.release_due_orders(NOW + timedelta(seconds=20)) == 2
    assert attempted == [held, other]

    poller._unrecorded[held.order_id] = failure
    due.remove(held)  # released or cancelled elsewhere: no longer due
    await poller.release_due_orders(NOW)
    assert poller._unrecorded == {}
