"""After the hand-off: fulfillment's events move the status; GDPR erasure pseudonymises orders."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from jg_devstack.drivers import eventually
from jg_events import (
    CustomerErasureRequested,
    Delivered,
    ErasureRequestedBy,
    OrderCancelled,
    OrderProcessing,
    Shipped,
    Topic,
)
from jg_events.examples import example

from .conftest import contact_of, order_body

pytestmark = pytest.mark.integration


def about(event: Any, order: Any, **changes: Any) -> Any:
    return event.model_copy(
        update={
            "order_id": uuid.UUID(order["id"]),
            "order_number": order["number"],
            "customer": contact_of(order),
            **changes,
        }
    )


async def test_processing_shipment_and_delivery_show_in_status_timeline_and_tracking(
    start: Any,
) -> None:
    checkout = await start(release_delay_seconds=0.5)
    order = await checkout.confirmed()
    await checkout.wait_for_status(order["id"], "released")

    shipped = about(example(Shipped), order, shipped_at=datetime.now(UTC))
    # the shipment is reported before the processing it follows (two topics, no order)
    await checkout.feed(Topic.FULFILLMENT_ORDERS, shipped)
    await checkout.wait_for_status(order["id"], "shipped")
    await checkout.feed(Topic.LOGISTICS_REQUESTS, about(example(OrderProcessing), order))
    await checkout.wait_for(order["id"], lambda o: o["timeline"][-1]["kind"] == "processing")
    current = await checkout.get(order["id"])
    assert current["status"] == "shipped"
    assert current["tracking"] == {
        "carrier": shipped.carrier.value,
        "tracking_number": shipped.tracking_number,
        "tracking_url": shipped.tracking_url,
    }

    await checkout.feed(
        Topic.FULFILLMENT_ORDERS, about(example(Delivered), order, delivered_at=datetime.now(UTC))
    )
    delivered = await checkout.wait_for_status(order["id"], "delivered")
    assert delivered["status_label"] == "Livrée"
    assert delivered["tracking"]["tracking_url"] == shipped.tracking_url
    kinds = [e["kind"] for e in delivered["timeline"]]
    assert kinds[:3] == ["placed", "confirmed", "released"]
    assert set(kinds[3:]) == {"shipped", "processing", "delivered"}


PERSONAL = ("Camille", "Durand", "camille", "Lilas", "69003", "+336", "Lyon")


def erasure_of(customer_id: str, *, email_verified: bool) -> CustomerErasureRequested:
    return CustomerErasureRequested(
        customer_id=uuid.UUID(customer_id),
        customer_number="C-000042",
        email="Camille.Durand@example.fr",  # the guest orders' address, in another case
        first_name="Camille",
        requested_at=datetime.now(UTC),
        requested_by=ErasureRequestedBy.CUSTOMER,
        email_verified=email_verified,
    )


async def erased_count(checkout: Any, count: int) -> None:
    async def erased() -> int:
        return int(
            await checkout.pool.fetchval("SELECT count(*) FROM orders WHERE erased_at IS NOT NULL")
        )

    await eventually(erased, lambda n: n >= count, "the orders to be erased")


def assert_erased(order: Any) -> None:
    text = str(order)
    for personal in PERSONAL:
        assert personal not in text, (personal, order)
    assert order["customer"]["customer_id"] is None
    assert order["totals"]["total"] == "101.50"  # what was sold stays


async def test_an_erasure_of_an_unproven_address_erases_the_accounts_orders_only(
    start: Any,
) -> None:
    """Anyone may sign up with a stranger's address: the stranger's guest orders stay as they
    are (not pseudonymised, not cancelled); the account's own orders are erased, free text
    included."""
    checkout = await start(release_delay_seconds=300)
    customer_id = str(uuid.uuid4())
    mine = order_body()
    mine["contact"] = {**mine["contact"], "customer_id": customer_id}
    cancelled = await checkout.confirmed(mine)
    response = await checkout.http.post(
        f"/orders/{cancelled['id']}/cancel",
        json={"note": "Camille : je me suis trompée d'adresse, rue des Lilas"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["cancellation"]["note"].startswith("Camille")
    open_one = await checkout.confirmed(mine)
    guest = await checkout.confirmed()  # a guest order with the same address, still open

    await checkout.feed(Topic.ACCOUNTS_CUSTOMERS, erasure_of(customer_id, email_verified=False))
    await erased_count(checkout, 2)

    for erased_id in (cancelled["id"], open_one["id"]):
        assert_erased(await checkout.get(erased_id))
    was_cancelled = await checkout.get(cancelled["id"])
    assert was_cancelled["cancellation"]["note"] is None  # the customer's words are gone
    assert was_cancelled["cancellation"]["cancelled_by"] == "customer"
    assert (await checkout.get(open_one["id"]))["status"] == "cancelled"  # nothing ships
    stored = await checkout.pool.fetchval(
        "SELECT cancellation::text FROM orders WHERE id = $1", uuid.UUID(cancelled["id"])
    )
    assert "Lilas" not in stored and "trompée" not in stored
    stranger = await checkout.get(guest["id"])
    assert stranger["status"] == "confirmed"
    assert stranger["customer"]["email"] == "camille.durand@example.fr"
    assert stranger["shipping_address"]["line1"] == "12 rue des Lilas"
    assert await checkout.pool.fetchval(
        "SELECT erased_at IS NULL FROM orders WHERE id = $1", uuid.UUID(guest["id"])
    )

    # the copies of the erased orders' events leave the outbox (the published ones at once,
    # the waiting ones once relayed); the guest order's stay
    async def copies_with_the_words(order_ids: list[str]) -> int:
        return int(
            await checkout.pool.fetchval(
                "SELECT count(*) FROM messaging_outbox WHERE message_key = ANY($1::text[])"
                " AND (position('Camille' in convert_from(body, 'UTF8')) > 0"
                "      OR position('trompée' in convert_from(body, 'UTF8')) > 0)",
                order_ids,
            )
        )

    await eventually(
        lambda: copies_with_the_words([cancelled["id"], open_one["id"]]),
        lambda n: n == 0,
        "the copies to be forgotten",
    )
    assert await copies_with_the_words([guest["id"]]) > 0


async def test_an_erasure_of_a_proven_address_also_erases_the_guest_orders_placed_with_it(
    start: Any,
) -> None:
    checkout = await start(release_delay_seconds=0.5)
    customer_id = str(uuid.uuid4())
    mine = order_body()
    mine["contact"] = {**mine["contact"], "customer_id": customer_id}
    released = await checkout.confirmed(mine)
    await checkout.wait_for_status(released["id"], "released")
    guest = await checkout.place()  # a guest order with the same email, still open
    other = order_body()
    other["contact"] = {"email": "paul.martin@example.fr", "first_name": "Paul", "last_name": "M"}
    other["shipping_address"] = {**other["shipping_address"], "first_name": "Paul"}
    someone_else = await checkout.place(other)

    await checkout.feed(Topic.ACCOUNTS_CUSTOMERS, erasure_of(customer_id, email_verified=True))
    await erased_count(checkout, 2)

    for erased_id in (released["id"], guest["id"]):
        assert_erased(await checkout.get(erased_id))
    assert (await checkout.get(released["id"]))["status"] == "released"
    assert (await checkout.get(guest["id"]))["status"] == "cancelled"
    untouched = await checkout.get(someone_else["id"])
    assert untouched["customer"]["email"] == "paul.martin@example.fr"

    async def copies_with_the_name() -> int:
        return int(
            await checkout.pool.fetchval(
                "SELECT count(*) FROM messaging_outbox WHERE message_key = ANY($1::text[])"
                " AND position('Camille' in convert_from(body, 'UTF8')) > 0",
                [released["id"], guest["id"]],
            )
        )

    await eventually(copies_with_the_name, lambda n: n == 0, "the copies to be forgotten")
    events = await checkout.events_of(guest["id"], 6)
    cancelled = events[-1].payload
    assert isinstance(cancelled, OrderCancelled)
    assert cancelled.cancelled_by.value == "system"
    assert "Camille" not in cancelled.model_dump_json()
