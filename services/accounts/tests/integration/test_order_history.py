"""'Mes commandes et factures': status, timeline, tracking link and invoices, own orders only."""

from typing import Any

import pytest
from jg_devstack.drivers import eventually
from jg_events import (
    Delivered,
    Envelope,
    InvoiceIssued,
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    OrderProcessing,
    Shipped,
    Topic,
)
from jg_events.examples import example

from .conftest import Accounts, bearer
from .orders import TOPIC_OF, Order

pytestmark = pytest.mark.integration


async def feed(accounts: Accounts, order: Order, *classes: type) -> list[Envelope[Any]]:
    sent = []
    for cls in classes:
        sent += await accounts.feed(TOPIC_OF[cls], order.event(cls))
    return sent


async def order_of(accounts: Accounts, tokens: dict[str, Any], order: Order) -> Any:
    response = await accounts.http.get(f"/me/orders/{order.id}", headers=bearer(tokens))
    return response.json() if response.status_code == 200 else None


async def test_customers_see_status_tracking_and_invoices_of_their_own_orders_only(
    accounts: Accounts,
) -> None:
    alice = await accounts.sign_up(email="alice@example.fr", first_name="Alice")
    bob = await accounts.sign_up(email="bob@example.fr", first_name="Bob")
    alice_id, bob_id = alice["customer"]["customer_id"], bob["customer"]["customer_id"]
    delivered = Order(alice_id, "JG-2026-000101")
    cancelled = Order(alice_id, "JG-2026-000102")
    bobs = Order(bob_id, "JG-2026-000201")
    guest = Order(None, "JG-2026-000301")

    # The topics are read independently: the shipment may arrive before the order itself.
    shipped = await feed(accounts, delivered, Shipped)
    await feed(accounts, delivered, OrderPlaced, OrderConfirmed, OrderProcessing, InvoiceIssued)
    await feed(accounts, delivered, Delivered)
    await accounts.feed_envelopes(Topic.FULFILLMENT_ORDERS, *shipped)  # a redelivery
    await feed(accounts, cancelled, OrderPlaced, OrderCancelled)
    await feed(accounts, bobs, OrderPlaced, Shipped, InvoiceIssued)
    [guest_placed] = await feed(accounts, guest, OrderPlaced)

    async def alice_done() -> Any:
        order = await order_of(accounts, alice, delivered)
        return order if order and order["invoices"] and order["delivered_at"] else None

    detail = await eventually(alice_done)
    # each topic is read on its own: wait for every event of each order, not only the first
    await eventually(
        lambda: order_of(accounts, alice, cancelled),
        lambda order: bool(order and order["status"] == "cancelled"),
        "Alice's cancelled order",
    )
    await eventually(
        lambda: order_of(accounts, bob, bobs),
        lambda order: bool(order and order["invoices"] and order["tracking"]),
        "Bob's shipped and invoiced order",
    )

    assert detail["order_number"] == "JG-2026-000101"
    assert (detail["status"], detail["status_label"]) == ("delivered", "Livrée")
    assert detail["tracking"]["tracking_url"] == example_shipped().tracking_url
    assert detail["tracking"]["tracking_number"] == example_shipped().tracking_number
    [invoice] = detail["invoices"]
    assert invoice["invoice_number"] == "F-2026-000101"
    assert invoice["download_url"] == "http://127.0.0.1:8002/invoices/F-2026-000101.pdf"
    assert detail["total"] == str(example_placed().totals.total)
    assert [line["sku"] for line in detail["lines"]] == [
        line.sku for line in example_placed().lines
    ]
    steps = [entry["step"] for entry in detail["timeline"]]
    assert sorted(steps) == sorted(
        ["placed", "confirmed", "processing", "shipped", "invoice_issued", "delivered"]
    )  # the redelivered Shipped appears once
    assert all(entry["label"] for entry in detail["timeline"])
    assert detail["withdrawal_deadline"] is not None

    mine = (await accounts.http.get("/me/orders", headers=bearer(alice))).json()
    assert mine["total"] == 2
    by_number = {o["order_number"]: o for o in mine["orders"]}
    assert set(by_number) == {"JG-2026-000101", "JG-2026-000102"}
    assert by_number["JG-2026-000102"]["status"] == "cancelled"
    assert by_number["JG-2026-000101"]["tracking_url"] == example_shipped().tracking_url
    assert by_number["JG-2026-000101"]["invoice_count"] == 1

    # Nobody sees another customer's order, invoice or tracking link.
    for tokens, other in ((alice, bobs), (bob, delivered), (bob, cancelled)):
        response = await accounts.http.get(f"/me/orders/{other.id}", headers=bearer(tokens))
        assert response.status_code == 404
        assert response.json()["code"] == "order_not_found"
    bobs_list = (await accounts.http.get("/me/orders", headers=bearer(bob))).json()
    assert [o["order_number"] for o in bobs_list["orders"]] == ["JG-2026-000201"]
    assert bobs_list["orders"][0]["invoice_count"] == 1
    assert (await accounts.http.get("/me/orders")).status_code == 401

    # A guest's order belongs to nobody until an account proves it owns the address (see
    # test_email_verification): kept without an owner, its address only as a keyed hash.
    async def handled(event_id: Any) -> bool:
        async with accounts.pool.acquire() as conn:
            sql = "SELECT true FROM messaging_inbox WHERE event_id = $1"
            return bool(await conn.fetchval(sql, event_id))

    await eventually(lambda: handled(guest_placed.event_id))
    async with accounts.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM order_history WHERE order_id = $1", guest.id)
    assert row["customer_id"] is None and row["guest_email_hash"] is not None
    assert guest.contact.email.encode() not in row["guest_email_hash"]
    for tokens in (alice, bob):
        listed = (await accounts.http.get("/me/orders", headers=bearer(tokens))).json()
        assert guest.number not in [o["order_number"] for o in listed["orders"]]


def example_shipped() -> Shipped:
    return example(Shipped)


def example_placed() -> OrderPlaced:
    return example(OrderPlaced)
