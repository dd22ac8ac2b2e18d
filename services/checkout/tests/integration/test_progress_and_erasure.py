"""After the hand-off: fulfillment's events move the status; GDPR erasure pseudonymises orders."""

import asyncio
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


async def test_erasure_pseudonymises_the_customers_orders_and_cancels_the_open_ones(
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

    erasure = CustomerErasureRequested(
        customer_id=uuid.UUID(customer_id),
        customer_number="C-000042",
        email="Camille.Durand@example.fr",
        first_name="Camille",
        requested_at=datetime.now(UTC),
        requested_by=ErasureRequestedBy.CUSTOMER,
    )
    await checkout.feed(Topic.ACCOUNTS_CUSTOMERS, erasure)
    deadline = asyncio.get_running_loop().time() + 20
    while (
        await checkout.pool.fetchval("SELECT count(*) FROM orders WHERE erased_at IS NOT NULL") < 2
    ):
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.1)

    for erased_id in (released["id"], guest["id"]):
        erased = await checkout.get(erased_id)
        text = str(erased)
        for personal in ("Camille", "Durand", "camille", "Lilas", "69003", "+336", "Lyon"):
            assert personal not in text, (personal, erased)
        assert erased["customer"]["customer_id"] is None
        assert erased["totals"]["total"] == "101.50"  # what was sold stays
    assert (await checkout.get(released["id"]))["status"] == "released"
    assert (await checkout.get(guest["id"]))["status"] == "cancelled"
    untouched = await checkout.get(someone_else["id"])
    assert untouched["customer"]["email"] == "paul.martin@example.fr"

    # the copies of the erased orders' events leave the outbox: the published ones at once,
    # the ones still waiting as soon as the relay has published them
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
