"""Hand-off of released orders: in stock, backordered then replenished, and under concurrency."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
from fulfillment.handlers import on_order_released
from jg_devstack.drivers import eventually
from jg_events import (
    Backordered,
    Envelope,
    OrderProcessing,
    StockReplenished,
    Topic,
)

from .conftest import Fulfillment, now, released

pytestmark = pytest.mark.integration


async def test_a_released_order_in_stock_reaches_the_logistics_team_with_its_pick_list(
    service: Fulfillment,
) -> None:
    order = released(("MATCHA-KYOTO-100", 3), ("FUROSHIKI-SAKURA", 1))
    await service.feed(order)

    [request] = await service.events(Topic.LOGISTICS_REQUESTS, "OrderProcessing", 1)
    processing = request.payload
    assert isinstance(processing, OrderProcessing)
    assert request.key == str(order.order_id)
    assert processing.order_number == order.order_number
    assert processing.shipping_address == order.shipping_address
    assert processing.shipping_method == order.shipping_method
    assert processing.delivery_estimate == order.delivery_estimate
    lines = {line.sku: line for line in processing.lines}
    assert lines["MATCHA-KYOTO-100"].quantity == 3
    assert lines["MATCHA-KYOTO-100"].name == "Thé matcha de Kyoto, 100 g"
    assert lines["MATCHA-KYOTO-100"].name_ja == "京都産 抹茶 100g"
    assert lines["MATCHA-KYOTO-100"].name_romaji == "Kyōto-san matcha 100 g"
    assert lines["FUROSHIKI-SAKURA"].quantity == 1
    assert request.causation_id is not None  # caused by the OrderReleased

    matcha = await service.stock("MATCHA-KYOTO-100")
    assert (matcha["on_hand"], matcha["reserved"], matcha["available"]) == (120, 3, 117)
    view = await service.order(order.order_id)
    assert view is not None and view["status"] == "processing"


async def test_a_stock_out_is_backordered_and_proceeds_oldest_first_after_replenishment(
    service: Fulfillment,
) -> None:
    await service.set_stock("KOKESHI-CERISIER", 1)
    oldest = released(("KOKESHI-CERISIER", 2), ("DARUMA-ROUGE-10", 1))
    newest = released(("KOKESHI-CERISIER", 1))
    await service.feed(oldest)
    await service.wait_for_status(oldest.order_id, "backordered")
    await service.feed(newest)
    await service.wait_for_status(newest.order_id, "backordered")

    backorders = await service.events(Topic.FULFILLMENT_ORDERS, "Backordered", 2)
    by_order = {e.payload.order_id: e.payload for e in backorders}
    first = by_order[oldest.order_id]
    assert isinstance(first, Backordered)
    assert [(m.sku, m.quantity_ordered, m.quantity_missing) for m in first.missing_lines] == [
        ("KOKESHI-CERISIER", 2, 1)
    ]
    assert first.delivery_estimate.earliest > oldest.delivery_estimate.earliest
    assert [(m.sku, m.quantity_missing) for m in by_order[newest.order_id].missing_lines] == [
        ("KOKESHI-CERISIER", 1)
    ]
    # The oldest holds the last kokeshi; the newest could not take it.
    kokeshi = await service.stock("KOKESHI-CERISIER")
    assert (kokeshi["on_hand"], kokeshi["reserved"], kokeshi["available"]) == (1, 1, 0)
    queue = (await service.http.get("/operator/backorders", headers=service.operator)).json()
    assert [o["order_id"] for o in queue] == [str(oldest.order_id), str(newest.order_id)]

    # One item arrives: it goes to the oldest order, which now has everything.
    await service.feed(
        StockReplenished(sku="KOKESHI-CERISIER", quantity_added=1, replenished_at=now())
    )
    await service.wait_for_status(oldest.order_id, "processing")
    newest_view = await service.order(newest.order_id)
    assert newest_view is not None and newest_view["status"] == "backordered"
    [first_request] = await service.events(Topic.LOGISTICS_REQUESTS, "OrderProcessing", 1)
    assert first_request.payload.order_id == oldest.order_id
    assert {(line.sku, line.quantity) for line in first_request.payload.lines} == {
        ("KOKESHI-CERISIER", 2),
        ("DARUMA-ROUGE-10", 1),
    }

    # The next item goes to the newest.
    await service.feed(
        StockReplenished(sku="KOKESHI-CERISIER", quantity_added=3, replenished_at=now())
    )
    await service.wait_for_status(newest.order_id, "processing")
    requests = await service.events(Topic.LOGISTICS_REQUESTS, "OrderProcessing", 2)
    assert {r.payload.order_id for r in requests} == {oldest.order_id, newest.order_id}
    kokeshi = await service.stock("KOKESHI-CERISIER")
    assert (kokeshi["on_hand"], kokeshi["reserved"], kokeshi["available"]) == (5, 3, 2)
    queue = (await service.http.get("/operator/backorders", headers=service.operator)).json()
    assert queue == []


async def test_an_operator_restock_also_resumes_backorders(service: Fulfillment) -> None:
    await service.set_stock("BOL-MATCHA-RAKU", 0)
    order = released(("BOL-MATCHA-RAKU", 2))
    await service.feed(order)
    await service.wait_for_status(order.order_id, "backordered")

    response = await service.http.post(
        "/operator/stock/BOL-MATCHA-RAKU/adjustments",
        json={"delta": 5, "note": "found a carton in aisle 4"},
        headers=service.operator,
    )
    assert response.status_code == 200, response.text
    change = response.json()
    assert change["resumed_orders"] == [str(order.order_id)]
    assert change["stock"]["reserved"] == 2 and change["stock"]["available"] == 3
    await service.wait_for_status(order.order_id, "processing")


async def test_stock_can_never_go_below_what_is_reserved(service: Fulfillment) -> None:
    await service.set_stock("THEIERE-TETSUBIN", 2)
    order = released(("THEIERE-TETSUBIN", 2))
    await service.feed(order)
    await service.wait_for_status(order.order_id, "processing")

    removal = await service.http.post(
        "/operator/stock/THEIERE-TETSUBIN/adjustments",
        json={"delta": -1, "note": "broken teapot"},
        headers=service.operator,
    )
    assert removal.status_code == 409
    assert removal.json()["code"] == "stock_below_reserved"
    count = await service.http.put(
        "/operator/stock/THEIERE-TETSUBIN",
        json={"name_fr": "Théière en fonte tetsubin, 0,8 L", "on_hand": 1},
        headers=service.operator,
    )
    assert count.status_code == 409
    teapot = await service.stock("THEIERE-TETSUBIN")
    assert (teapot["on_hand"], teapot["reserved"]) == (2, 2)
    unauthorised = await service.http.post(
        "/operator/stock/THEIERE-TETSUBIN/adjustments",
        json={"delta": 10, "note": "x"},
        headers=service.storefront,
    )
    assert unauthorised.status_code == 401


async def test_concurrent_hand_offs_never_oversell(service: Fulfillment) -> None:
    """Thirty released orders handled at once on a real PostgreSQL, for 10 daruma in stock."""
    await service.set_stock("DARUMA-ROUGE-10", 10)
    orders = [released(("DARUMA-ROUGE-10", 1 + i % 2), ("MATCHA-KYOTO-100", 1)) for i in range(30)]
    envelopes = [Envelope.wrap(o, correlation_id=f"test-{uuid.uuid4()}") for o in orders]
    ctx = service.context

    await asyncio.gather(*(on_order_released(ctx, e) for e in envelopes))

    rows = await service.pool.fetch(
        "SELECT o.status, i.quantity, i.reserved FROM orders o JOIN order_items i "
        "USING (order_id) WHERE i.sku = 'DARUMA-ROUGE-10'"
    )
    assert len(rows) == 30
    daruma = await service.stock("DARUMA-ROUGE-10")
    assert daruma["on_hand"] == 10
    assert daruma["available"] >= 0
    assert daruma["reserved"] == sum(r["reserved"] for r in rows) == 10
    processing = [r for r in rows if r["status"] == "processing"]
    assert sum(r["quantity"] for r in processing) <= 10
    assert all(r["reserved"] == r["quantity"] for r in processing)
    # Every order was answered: OrderProcessing or Backordered, never both, never none.
    handed = await service.events(Topic.LOGISTICS_REQUESTS, "OrderProcessing", len(processing))
    waiting = await service.events(Topic.FULFILLMENT_ORDERS, "Backordered", 30 - len(processing))
    assert {e.payload.order_id for e in handed} | {e.payload.order_id for e in waiting} == {
        o.order_id for o in orders
    }
    assert len(handed) + len(waiting) == 30


async def test_two_instances_consuming_releases_never_oversell(
    start: Callable[..., Awaitable[Fulfillment]], fresh_database: Callable[..., str]
) -> None:
    """Two fulfillment instances in one consumer group, one database, through Kafka."""
    dsn = fresh_database()
    first = await start(database_url=dsn)
    second = await start(database_url=dsn)
    await first.set_stock("DARUMA-ROUGE-10", 7)
    orders = [released(("DARUMA-ROUGE-10", 1)) for _ in range(20)]
    await first.feed(*orders)

    async def answered() -> int:
        return int(await first.pool.fetchval("SELECT count(*) FROM orders"))

    await eventually(answered, lambda n: n == 20, timeout=60, what="20 orders handled")
    daruma = await second.stock("DARUMA-ROUGE-10")
    assert (daruma["on_hand"], daruma["reserved"], daruma["available"]) == (7, 7, 0)
    statuses = await first.pool.fetch("SELECT status, count(*) AS n FROM orders GROUP BY 1")
    assert {r["status"]: r["n"] for r in statuses} == {"processing": 7, "backordered": 13}
