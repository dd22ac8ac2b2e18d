"""Placing orders over HTTP: OrderPlaced on Kafka with exact totals, idempotent replays."""

import asyncio
import uuid
from typing import Any

import pytest
from jg_events import OrderPlaced

from .conftest import order_body

pytestmark = pytest.mark.integration


async def test_an_order_is_placed_and_order_placed_is_published_with_exact_totals(
    start: Any,
) -> None:
    checkout = await start()
    key = str(uuid.uuid4())
    response = await checkout.http.post(
        "/orders",
        json=order_body(),
        headers={"Idempotency-Key": key, "X-Correlation-ID": "storefront-req-42"},
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert response.headers["location"] == f"/orders/{order['id']}"
    assert order["status"] == "pending_payment"
    assert order["number"].startswith("JG-20") and len(order["number"]) == len("JG-2026-000001")
    assert [
        (li["sku"], li["quantity"], li["unit_price"], li["line_total"]) for li in order["lines"]
    ] == [
        ("MATCHA-KYOTO-100", 3, "24.90", "74.70"),
        ("FUROSHIKI-SAKURA", 1, "16.90", "16.90"),
    ]
    assert order["totals"] == {
        "subtotal": "91.60",
        "shipping": "9.90",
        "total": "101.50",
        "vat": "16.92",
        "total_excl_vat": "84.58",
        "vat_breakdown": [
            {"rate": "20.00", "total_incl_vat": "101.50", "total_excl_vat": "84.58", "vat": "16.92"}
        ],
    }

    (envelope,) = await checkout.published(1)
    assert envelope.type == "OrderPlaced" and envelope.schema_version == 1
    assert envelope.key == order["id"]
    assert envelope.correlation_id == "storefront-req-42"
    placed = envelope.payload
    assert isinstance(placed, OrderPlaced)
    assert placed.order_number == order["number"]
    assert placed.revision == 0
    assert placed.stripe_payment_method_id == "pm_card_visa"
    assert placed.customer.email == "camille.durand@example.fr"
    assert (
        str(placed.totals.subtotal),
        str(placed.totals.shipping),
        str(placed.totals.total),
        str(placed.totals.vat),
    ) == ("91.60", "9.90", "101.50", "16.92")
    assert placed.shipping_method.code == "standard"
    assert placed.shipping_address.line2 == "Bâtiment B"

    # the storefront can read it back, with its timeline
    read = await checkout.get(order["id"])
    assert read["number"] == order["number"]
    assert [e["kind"] for e in read["timeline"]] == ["placed"]


async def test_a_replay_with_the_same_key_returns_the_same_order_and_creates_nothing(
    start: Any,
) -> None:
    checkout = await start()
    key = str(uuid.uuid4())
    first = await checkout.http.post("/orders", json=order_body(), headers={"Idempotency-Key": key})
    assert first.status_code == 201
    again = await checkout.http.post("/orders", json=order_body(), headers={"Idempotency-Key": key})
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["number"] == first.json()["number"]

    other = order_body(lines=[{"sku": "DARUMA-ROUGE-10", "quantity": 1}])
    reused = await checkout.http.post("/orders", json=other, headers={"Idempotency-Key": key})
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["code"] == "idempotency_key_reused"

    # two identical requests at the same time with a new key: one order
    twin_key = str(uuid.uuid4())
    twins = await asyncio.gather(
        *(
            checkout.http.post("/orders", json=order_body(), headers={"Idempotency-Key": twin_key})
            for _ in range(2)
        )
    )
    assert sorted(r.status_code for r in twins) == [200, 201]
    assert twins[0].json()["id"] == twins[1].json()["id"]

    assert await checkout.pool.fetchval("SELECT count(*) FROM orders") == 2
    events = await checkout.published(2, settle=1.5)
    assert [e.type for e in events].count("OrderPlaced") == 2
    assert {e.key for e in events} == {first.json()["id"], twins[0].json()["id"]}


async def test_order_numbers_are_unique_and_follow_each_other(start: Any) -> None:
    checkout = await start()
    orders = [await checkout.place() for _ in range(3)]
    numbers = [o["number"] for o in orders]
    assert len(set(numbers)) == 3
    sequence = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert sequence == sorted(sequence)
