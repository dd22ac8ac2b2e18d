"""GDPR erasure, and what the running service exposes (health, AsyncAPI, OpenAPI)."""

import json
import uuid

import pytest
from jg_devstack.drivers import eventually
from jg_events import (
    ClaimKind,
    CustomerErasureRequested,
    ErasureRequestedBy,
    ItemCondition,
    ReceivedItem,
    ReturnReceived,
    StockReplenished,
    Topic,
)

from .conftest import Fulfillment, now, released
from .test_claims import JPEG

pytestmark = pytest.mark.integration


def erasure(customer: uuid.UUID, *, email_verified: bool) -> CustomerErasureRequested:
    return CustomerErasureRequested(
        customer_id=customer,
        customer_number="C-004217",
        email="Camille.Durand@example.fr",  # the guest orders' address, in another case
        first_name="Camille",
        requested_at=now(),
        requested_by=ErasureRequestedBy.CUSTOMER,
        email_verified=email_verified,
    )


async def contacts(service: Fulfillment) -> dict[uuid.UUID, dict[str, str]]:
    rows = await service.pool.fetch("SELECT order_id, contact, shipping_address FROM orders")
    return {
        r["order_id"]: {
            "email": json.loads(r["contact"])["email"],
            "name": json.loads(r["contact"])["first_name"],
            "line1": json.loads(r["shipping_address"])["line1"],
        }
        for r in rows
    }


async def erased_contacts(
    service: Fulfillment, *orders: uuid.UUID
) -> dict[uuid.UUID, dict[str, str]]:
    return await eventually(
        lambda: contacts(service),
        lambda c: all(c[o]["email"].endswith("@erased.invalid") for o in orders),
        what="customer pseudonymised",
    )


async def test_an_erasure_of_an_unproven_address_erases_the_accounts_orders_and_their_texts(
    service: Fulfillment,
) -> None:
    """Anyone may sign up with a stranger's address: the guest order placed with it stays;
    the account's orders lose the contact, the claim's and the return's texts, the photos and
    the warehouse's remarks."""
    customer = uuid.uuid4()
    other = uuid.uuid4()
    done = await service.delivered_order(("MATCHA-KYOTO-100", 1), customer_id=customer)
    await service.set_stock("KOKESHI-CERISIER", 0)
    waiting = released(("KOKESHI-CERISIER", 1), customer_id=customer)
    someone_else = released(("MATCHA-KYOTO-100", 1), customer_id=other)
    guest = released(("MATCHA-KYOTO-100", 1))  # no account, the same address
    await service.feed(waiting, someone_else, guest)
    await service.wait_for_status(waiting.order_id, "backordered")
    await service.wait_for_status(someone_else.order_id, "processing")
    await service.wait_for_status(guest.order_id, "processing")
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
    claim_id = claim.json()["claim_id"]
    photo = claim.json()["photos"][0]
    answer = await service.http.post(
        f"/operator/claims/{claim_id}/resolution",
        json={"resolution": "rejected", "message": "Madame Durand, la photo ne montre rien."},
        headers=service.operator,
    )
    assert answer.status_code == 200, answer.text
    withdrawal = await service.http.post(
        f"/orders/{done.order_id}/returns",
        json={"items_unused": True},
        headers=service.customer(customer),
    )
    assert withdrawal.status_code == 201, withdrawal.text
    assert withdrawal.json()["instructions"]
    # A parcel the warehouse cannot match: refused, recorded with its remarks.
    await service.feed(
        ReturnReceived(
            order_id=done.order_id,
            return_id=uuid.uuid4(),
            items=(ReceivedItem(sku="MATCHA-KYOTO-100", quantity=1, condition=ItemCondition.USED),),
            received_at=now(),
            note="Colis de Mme Camille Durand, 12 rue des Lilas, sans bordereau",
        )
    )
    await eventually(service.rejected_reports, what="the refused report")
    # Everything said about these orders so far has gone out.
    await service.events(Topic.FULFILLMENT_ORDERS, "ClaimResolved", 1)
    await service.events(Topic.FULFILLMENT_ORDERS, "ReturnAccepted", 1)
    await service.events(Topic.FULFILLMENT_ORDERS, "Backordered", 1)

    await service.feed(erasure(customer, email_verified=False))

    erased = await erased_contacts(service, done.order_id, waiting.order_id)
    assert erased[done.order_id]["name"] == "Client"
    assert erased[someone_else.order_id]["email"] == "camille.durand@example.fr"
    assert erased[guest.order_id] == {
        "email": "camille.durand@example.fr",
        "name": "Camille",
        "line1": "12 rue des Lilas",
    }
    # The delivered order no longer needs the address; the waiting one does, to be delivered.
    assert erased[done.order_id]["line1"] == "Adresse effacée"
    assert erased[waiting.order_id]["line1"] == "12 rue des Lilas"
    download = await service.http.get(
        f"/operator/claims/{claim_id}/photos/{photo['photo_id']}", headers=service.operator
    )
    assert download.status_code == 404
    texts = await service.pool.fetchrow(
        "SELECT c.message, c.resolution_message, r.message AS return_message"
        " FROM claims c JOIN returns r USING (order_id) WHERE c.order_id = $1",
        done.order_id,
    )
    assert texts is not None and dict(texts) == {
        "message": None,
        "resolution_message": None,
        "return_message": None,
    }
    [report] = await service.rejected_reports()
    assert "Lilas" not in json.dumps(report) and "Camille" not in json.dumps(report)
    assert report["order_id"] == str(done.order_id)  # the refusal itself stays, for operators
    view = await service.order(done.order_id)
    assert view is not None and view["claims"][0]["photos"][0]["erased"] is True
    copies = await service.pool.fetchval(
        "SELECT count(*) FROM messaging_outbox WHERE message_key = ANY($1::text[])",
        [str(done.order_id), str(waiting.order_id)],
    )
    assert copies == 0  # the relayed Shipped, Delivered, ClaimOpened... carried the contact
    kept = await service.pool.fetchval(
        "SELECT count(*) FROM messaging_outbox WHERE message_key = $1", str(guest.order_id)
    )
    assert kept > 0  # the stranger's order's events are not the account's to erase

    # The waiting order still ships, to the address, without the customer's name or email.
    await service.feed(
        StockReplenished(sku="KOKESHI-CERISIER", quantity_added=1, replenished_at=now())
    )
    await service.wait_for_status(waiting.order_id, "processing")
    requests = await service.events(Topic.LOGISTICS_REQUESTS, "OrderProcessing", 4)
    [resumed] = [r for r in requests if r.payload.order_id == waiting.order_id]
    assert resumed.payload.customer.email.endswith("@erased.invalid")
    assert resumed.payload.shipping_address.line1 == "12 rue des Lilas"


async def test_an_erasure_of_a_proven_address_also_erases_the_guest_orders_placed_with_it(
    service: Fulfillment,
) -> None:
    customer = uuid.uuid4()
    mine = await service.delivered_order(("MATCHA-KYOTO-100", 1), customer_id=customer)
    guest = await service.delivered_order(("DARUMA-ROUGE-10", 1))  # no account, same address
    other_account = released(("MATCHA-KYOTO-100", 1), customer_id=uuid.uuid4())
    await service.feed(other_account)
    await service.wait_for_status(other_account.order_id, "processing")

    await service.feed(erasure(customer, email_verified=True))

    erased = await erased_contacts(service, mine.order_id, guest.order_id)
    assert erased[guest.order_id]["line1"] == "Adresse effacée"  # delivered: not needed
    # another account's order is that account's, whatever address it was placed with
    assert erased[other_account.order_id]["email"] == "camille.durand@example.fr"
    copies = await service.pool.fetchval(
        "SELECT count(*) FROM messaging_outbox WHERE message_key = ANY($1::text[])",
        [str(mine.order_id), str(guest.order_id)],
    )
    assert copies == 0


async def test_an_order_released_after_its_customers_erasure_is_handed_off_erased(
    service: Fulfillment,
) -> None:
    """OrderReleased and the erasure travel on two topics: the erasure may come first. The
    order still ships (it was paid), to its address, under the pseudonym."""
    customer = uuid.uuid4()
    await service.feed(erasure(customer, email_verified=False))
    await eventually(
        lambda: service.pool.fetchval(
            "SELECT true FROM fulfillment_erased_customers WHERE customer_id = $1", customer
        ),
        what="the erasure applied",
    )
    late = released(("MATCHA-KYOTO-100", 1), customer_id=customer)
    await service.feed(late)
    await service.wait_for_status(late.order_id, "processing")
    [processing] = [
        r
        for r in await service.events(Topic.LOGISTICS_REQUESTS, "OrderProcessing", 1)
        if r.payload.order_id == late.order_id
    ]
    assert processing.payload.customer.email.endswith("@erased.invalid")
    assert processing.payload.customer.first_name == "Client"
    assert processing.payload.shipping_address.line1 == "12 rue des Lilas"
    stored = (await contacts(service))[late.order_id]
    assert stored["email"].endswith("@erased.invalid")


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
