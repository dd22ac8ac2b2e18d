"""GDPR erasure, and what the running service exposes (health, AsyncAPI, OpenAPI)."""

import json
import uuid

import pytest
from jg_devstack.drivers import eventually
from jg_events import (
    ClaimKind,
    CustomerErasureRequested,
    ErasureRequestedBy,
    StockReplenished,
    Topic,
)

from .conftest import Fulfillment, now, released
from .test_claims import JPEG

pytestmark = pytest.mark.integration


async def test_an_erasure_request_pseudonymises_the_customer_and_erases_claim_photos(
    service: Fulfillment,
) -> None:
    customer = uuid.uuid4()
    other = uuid.uuid4()
    done = await service.delivered_order(("MATCHA-KYOTO-100", 1), customer_id=customer)
    await service.set_stock("KOKESHI-CERISIER", 0)
    waiting = released(("KOKESHI-CERISIER", 1), customer_id=customer)
    someone_else = released(("MATCHA-KYOTO-100", 1), customer_id=other)
    await service.feed(waiting, someone_else)
    await service.wait_for_status(waiting.order_id, "backordered")
    await service.wait_for_status(someone_else.order_id, "processing")
    claim = await service.http.post(
        f"/orders/{done.order_id}/claims",
        data={
            "kind": ClaimKind.DAMAGED_ITEM.value,
            "order_number": done.order_number,
            "items": json.dumps([{"sku": "MATCHA-KYOTO-100", "quantity": 1}]),
            "message": "Boîte écrasée, voir photo avec mon adresse.",
        },
        files=[("photos", ("boite.jpg", JPEG, "image/jpeg"))],
        headers=service.customer(customer),
    )
    assert claim.status_code == 201, claim.text
    photo = claim.json()["photos"][0]
    # Everything said about these orders so far has gone out.
    await service.events(Topic.FULFILLMENT_ORDERS, "ClaimOpened", 1)
    await service.events(Topic.FULFILLMENT_ORDERS, "Backordered", 1)

    await service.feed(
        CustomerErasureRequested(
            customer_id=customer,
            customer_number="C-004217",
            email="camille.durand@example.fr",
            first_name="Camille",
            requested_at=now(),
            requested_by=ErasureRequestedBy.CUSTOMER,
        )
    )

    async def contacts() -> dict[uuid.UUID, dict[str, str]]:
        rows = await service.pool.fetch("SELECT order_id, contact, shipping_address FROM orders")
        return {
            r["order_id"]: {
                "email": json.loads(r["contact"])["email"],
                "line1": json.loads(r["shipping_address"])["line1"],
            }
            for r in rows
        }

    erased = await eventually(
        contacts,
        lambda c: c[done.order_id]["email"] != "camille.durand@example.fr",
        what="customer pseudonymised",
    )
    assert erased[done.order_id]["email"].endswith("@erased.invalid")
    assert erased[waiting.order_id]["email"].endswith("@erased.invalid")
    assert erased[someone_else.order_id]["email"] == "camille.durand@example.fr"
    # The delivered order no longer needs the address; the waiting one does, to be delivered.
    assert erased[done.order_id]["line1"] == "Adresse effacée"
    assert erased[waiting.order_id]["line1"] == "12 rue des Lilas"
    download = await service.http.get(
        f"/operator/claims/{claim.json()['claim_id']}/photos/{photo['photo_id']}",
        headers=service.operator,
    )
    assert download.status_code == 404
    stored = await service.pool.fetchrow("SELECT message FROM claims")
    assert stored is not None and stored["message"] is None
    view = await service.order(done.order_id)
    assert view is not None and view["claims"][0]["photos"][0]["erased"] is True
    copies = await service.pool.fetchval(
        "SELECT count(*) FROM messaging_outbox WHERE message_key = ANY($1::text[])",
        [str(done.order_id), str(waiting.order_id)],
    )
    assert copies == 0  # the relayed Shipped, Delivered, ClaimOpened... carried the contact

    # The waiting order still ships, to the address, without the customer's name or email.
    await service.feed(
        StockReplenished(sku="KOKESHI-CERISIER", quantity_added=1, replenished_at=now())
    )
    await service.wait_for_status(waiting.order_id, "processing")
    requests = await service.events(Topic.LOGISTICS_REQUESTS, "OrderProcessing", 3)
    [resumed] = [r for r in requests if r.payload.order_id == waiting.order_id]
    assert resumed.payload.customer.email.endswith("@erased.invalid")
    assert resumed.payload.shipping_address.line1 == "12 rue des Lilas"


async def test_the_service_reports_health_and_documents_its_api_and_events(
    service: Fulfillment,
) -> None:
    health = await service.http.get("/health")
    ready = await service.http.get("/ready")
    openapi = await service.http.get("/openapi.json")
    asyncapi = await service.http.get("/asyncapi.json")

    assert health.status_code == 200 and ready.status_code == 200
    checks = ready.json()["checks"]
    assert (checks["database"], checks["kafka"]) == ("ok", "ok")
    assert checks["outbox"]["parked"] == 0
    paths = openapi.json()["paths"]
    assert "/orders/{order_id}/returns" in paths and "/orders/{order_id}/claims" in paths
    document = asyncapi.json()
    addresses = {channel["address"] for channel in document["channels"].values()}
    prefix = service.prefix
    assert {
        f"{prefix}jg.checkout.orders",
        f"{prefix}jg.logistics.reports",
        f"{prefix}jg.accounts.customers",
        f"{prefix}jg.logistics.requests",
        f"{prefix}jg.fulfillment.orders",
    } <= addresses
    schemas = set(document["components"]["schemas"])
    assert {"OrderProcessing v1", "ParcelPickedUp v1", "StockReplenished v1"} <= schemas
