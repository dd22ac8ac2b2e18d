"""Races on one order end in one consistent state and one consistent set of events."""

import asyncio
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from checkout.scheduler import release_one
from jg_events import OrderModified

from .conftest import now

pytestmark = pytest.mark.integration

# Releases are driven by the test (the background scheduler polls once a minute here).
QUIET_SCHEDULER = {"release_delay_seconds": 0.1, "release_poll_interval": 60}


async def wait_for_lock_waiters(pool: asyncpg.Pool, count: int, timeout: float = 10.0) -> None:
    """Until ``count`` sessions of this database wait for a row lock."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        waiting = await pool.fetchval(
            """SELECT count(*) FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock'"""
        )
        if waiting >= count:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{waiting} waiters, not {count}"
        await asyncio.sleep(0.05)


async def test_a_cancel_arriving_during_the_release_waits_and_is_refused(start: Any) -> None:
    checkout = await start(**QUIET_SCHEDULER)
    order = await checkout.confirmed()
    await asyncio.sleep(0.2)  # the window (0.1 s) is over
    async with checkout.app.state.runtime.messaging.transaction() as uow:
        assert await release_one(uow, UUID(order["id"]), now())  # not committed yet
        cancel = asyncio.create_task(checkout.http.post(f"/orders/{order['id']}/cancel"))
        await wait_for_lock_waiters(checkout.pool, 1)
        assert not cancel.done()
    response = await cancel
    assert (response.status_code, response.json()["code"]) == (409, "order_released")
    assert (await checkout.get(order["id"]))["status"] == "released"
    events = await checkout.events_of(order["id"], 3, settle=1.0)
    assert [e.type for e in events] == ["OrderPlaced", "OrderConfirmed", "OrderReleased"]


async def test_the_release_skips_an_order_being_cancelled_and_never_releases_it(
    start: Any,
) -> None:
    checkout = await start(**QUIET_SCHEDULER)
    order = await checkout.confirmed()
    await asyncio.sleep(0.2)
    async with checkout.pool.acquire() as conn, conn.transaction():
        # a customer command holds the order
        await conn.execute("SELECT 1 FROM orders WHERE id = $1 FOR UPDATE", UUID(order["id"]))
        started = asyncio.get_running_loop().time()
        assert await checkout.scheduler.release_due_orders() == 0  # skipped, not waiting
        assert asyncio.get_running_loop().time() - started < 2
        cancel = asyncio.create_task(checkout.http.post(f"/orders/{order['id']}/cancel"))
        await wait_for_lock_waiters(checkout.pool, 1)
    response = await cancel
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert await checkout.scheduler.release_due_orders() == 0
    events = await checkout.events_of(order["id"], 3, settle=1.0)
    assert [e.type for e in events] == ["OrderPlaced", "OrderConfirmed", "OrderCancelled"]


async def test_cancels_racing_the_scheduler_end_with_exactly_one_outcome_per_order(
    start: Any,
) -> None:
    checkout = await start(**QUIET_SCHEDULER)
    orders = [await checkout.confirmed() for _ in range(6)]
    await asyncio.sleep(0.2)
    results = await asyncio.gather(
        checkout.scheduler.release_due_orders(),
        *(checkout.http.post(f"/orders/{o['id']}/cancel") for o in orders),
        checkout.scheduler.release_due_orders(),
    )
    responses = results[1:-1]
    events = await checkout.published(6 * 3, settle=1.5)
    for order, response in zip(orders, responses, strict=True):
        final = (await checkout.get(order["id"]))["status"]
        outcome = [e.type for e in events if e.key == order["id"]][2:]
        if response.status_code == 200:
            assert (final, outcome) == ("cancelled", ["OrderCancelled"])
        else:
            assert response.json()["code"] == "order_released"
            assert (final, outcome) == ("released", ["OrderReleased"])
    assert results[0] + results[-1] == sum(r.status_code == 409 for r in responses)


async def test_two_modifications_at_once_are_applied_one_after_the_other(start: Any) -> None:
    checkout = await start()
    order = await checkout.confirmed()
    async with checkout.pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT 1 FROM orders WHERE id = $1 FOR UPDATE", UUID(order["id"]))
        fewer = asyncio.create_task(
            checkout.http.patch(
                f"/orders/{order['id']}",
                json={"lines": [{"sku": "MATCHA-KYOTO-100", "quantity": 1}]},
            )
        )
        faster = asyncio.create_task(
            checkout.http.patch(f"/orders/{order['id']}", json={"shipping_method": "express"})
        )
        await wait_for_lock_waiters(checkout.pool, 2)
    first, second = await fewer, await faster
    assert first.status_code == second.status_code == 200
    assert sorted([first.json()["revision"], second.json()["revision"]]) == [1, 2]

    final = await checkout.get(order["id"])
    assert final["revision"] == 2
    assert final["shipping_method"]["code"] == "express"  # both changes kept
    assert [(li["sku"], li["quantity"]) for li in final["lines"]] == [
        ("MATCHA-KYOTO-100", 1),
        ("FUROSHIKI-SAKURA", 1),
    ]
    assert final["totals"]["total"] == "61.70"

    events = await checkout.events_of(order["id"], 4, settle=1.0)
    modifications = [e.payload for e in events if isinstance(e.payload, OrderModified)]
    assert [m.revision for m in modifications] == [1, 2]
    assert str(modifications[0].previous_total) == "101.50"
    assert modifications[1].previous_total == modifications[0].new_total
    assert str(modifications[1].new_total) == "61.70"

    # a third one based on a stale read is refused instead of silently overwriting
    stale = await checkout.http.patch(
        f"/orders/{order['id']}",
        json={"shipping_method": "standard", "expected_revision": 1},
    )
    assert (stale.status_code, stale.json()["code"]) == (409, "revision_mismatch")
