"""Placing orders over HTTP: OrderPlaced on Kafka with exact totals, idempotent replays."""

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from jg_events import OrderPlaced

from .conftest import order_body

pytestmark = pytest.mark.integration


def assert_exact_totals(order: Any) -> None:
    # The matcha is tea (5.5 %), the furoshiki is not (20 %); the 9.90 of shipping is split
    # pro rata of the goods excluding VAT (70.81 and 14.08): 8.26 and 1.64.
    assert order["totals"] == {
        "subtotal": "91.60",
        "shipping": "9.90",
        "total": "101.50",
        "vat": "7.41",
        "total_excl_vat": "94.09",
        "vat_breakdown": [
            {
                "rate": "5.50",
                "goods": "74.70",
                "shipping": "8.26",
                "total_incl_vat": "82.96",
                "total_excl_vat": "78.64",
                "vat": "4.32",
            },
            {
                "rate": "20.00",
                "goods": "16.90",
                "shipping": "1.64",
                "total_incl_vat": "18.54",
                "total_excl_vat": "15.45",
                "vat": "3.09",
            },
        ],
    }


def assert_order_placed(envelope: Any, order: Any) -> None:
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
    ) == ("91.60", "9.90", "101.50", "7.41")
    assert [(str(v.rate), str(v.shipping), str(v.vat)) for v in placed.totals.vat_breakdown] == [
        ("5.50", "8.26", "4.32"),
        ("20.00", "1.64", "3.09"),
    ]
    assert placed.shipping_method.code == "standard"
    assert placed.shipping_address.line2 == "Bâtiment B"


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
    assert_exact_totals(order)

    (envelope,) = await checkout.published(1)
    assert_order_placed(envelope, order)

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


async def test_the_catalogue_sells_tea_at_the_food_rate_and_refuses_a_rate_not_of_the_category(
    start: Any,
) -> None:
    checkout = await start()
    catalogue = {p["sku"]: p for p in (await checkout.http.get("/catalogue")).json()}
    assert (
        catalogue["MATCHA-KYOTO-100"]["category"],
        catalogue["MATCHA-KYOTO-100"]["vat_rate"],
    ) == (
        "tea",
        "5.50",
    )
    assert (
        catalogue["THEIERE-TETSUBIN"]["category"],
        catalogue["THEIERE-TETSUBIN"]["vat_rate"],
    ) == (
        "other",
        "20.00",
    )
    insert = (
        "INSERT INTO catalogue (sku, name, price, vat_rate, category) VALUES ($1, $2, 9.90, $3, $4)"
    )
    # A new tea entered at 20 % (the mistake the sample catalogue made) is refused...
    with pytest.raises(asyncpg.CheckViolationError):
        await checkout.pool.execute(insert, "HOJICHA-50", "Thé hojicha, 50 g", 20, "tea")
    # ...and so is a product without a category.
    with pytest.raises(asyncpg.NotNullViolationError):
        await checkout.pool.execute(
            "INSERT INTO catalogue (sku, name, price, vat_rate) VALUES ('X-1', 'X', 1, 20)"
        )
    await checkout.pool.execute(insert, "HOJICHA-50", "Thé hojicha, 50 g", Decimal("5.50"), "tea")
    order = await checkout.place(order_body(lines=[{"sku": "HOJICHA-50", "quantity": 2}]))
    ((line,), (share,)) = (order["lines"], order["totals"]["vat_breakdown"])
    assert line["vat_rate"] == share["rate"] == "5.50"
    assert share["shipping"] == order["totals"]["shipping"]  # the shipping follows the tea
