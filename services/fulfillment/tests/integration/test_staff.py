"""Customer service with staff tokens: an order's file, the returns queue, who counted stock."""

import uuid

import pytest
from jg_devstack.tokens import staff_authorization
from jg_events import ClaimKind

from .conftest import Fulfillment
from .test_claims import claim_form, png

pytestmark = pytest.mark.integration

AGENT = staff_authorization("agent", email="hugo@japangoodz.test")


async def test_an_agent_reads_an_orders_file_with_tracking_returns_and_claims(
    service: Fulfillment,
) -> None:
    customer = uuid.uuid4()
    order = await service.delivered_order(("BOL-MATCHA-RAKU", 2), customer_id=customer)
    opened = await service.http.post(
        f"/orders/{order.order_id}/claims",
        data=claim_form(
            order.order_number,
            ClaimKind.DAMAGED_ITEM,
            [{"sku": "BOL-MATCHA-RAKU", "quantity": 1}],
            message="Un bol est arrivé fêlé.",
        ),
        files=[("photos", ("bol.png", png(8), "image/png"))],
        headers=service.customer(customer),
    )
    assert opened.status_code == 201, opened.text
    returned = await service.http.post(
        f"/orders/{order.order_id}/returns",
        json={"items_unused": True},
        headers=service.customer(customer),
    )
    assert returned.status_code == 201, returned.text

    file = await service.http.get(f"/operator/orders/{order.order_id}", headers=AGENT)
    assert file.status_code == 200, file.text
    body = file.json()
    assert body["order_number"] == order.order_number
    assert body["status"] == "delivered"
    [parcel] = body["parcels"]
    assert parcel["tracking_url"].startswith("https://")
    assert parcel["tracking_number"] in parcel["tracking_url"]
    assert [c["claim_id"] for c in body["claims"]] == [opened.json()["claim_id"]]
    assert [r["return_id"] for r in body["returns"]] == [returned.json()["return_id"]]

    accepted = await service.http.get("/operator/returns?status=accepted", headers=AGENT)
    assert [r["return_id"] for r in accepted.json()] == [returned.json()["return_id"]]
    received = await service.http.get("/operator/returns?status=received", headers=AGENT)
    assert received.json() == []
    unknown = await service.http.get(f"/operator/orders/{uuid.uuid4()}", headers=AGENT)
    assert unknown.status_code == 404

    claim_id = opened.json()["claim_id"]
    decision = await service.http.post(
        f"/operator/claims/{claim_id}/resolution",
        json={"resolution": "refund", "message": "Nous vous remboursons le bol abîmé."},
        headers=AGENT,
    )
    assert decision.status_code == 200, decision.text
    async with service.pool.acquire() as conn:
        resolved_by = await conn.fetchval(
            "SELECT resolved_by FROM claims WHERE claim_id = $1", uuid.UUID(claim_id)
        )
    assert resolved_by == "hugo@japangoodz.test"


async def test_staff_and_the_operator_token_pass_customers_do_not(service: Fulfillment) -> None:
    counted = await service.http.put(
        "/operator/stock/TASSE-KINTSUGI",
        json={"name_fr": "Tasse kintsugi", "on_hand": 7, "note": "inventaire"},
        headers=AGENT,
    )
    assert counted.status_code == 200, counted.text
    async with service.pool.acquire() as conn:
        reference = await conn.fetchval(
            "SELECT reference FROM stock_movements WHERE sku = 'TASSE-KINTSUGI' "
            "ORDER BY id DESC LIMIT 1"
        )
    assert reference == "hugo@japangoodz.test"
    static = await service.http.get("/operator/backorders", headers=service.operator)
    assert static.status_code == 200
    customer = await service.http.get(
        "/operator/backorders", headers=service.customer(uuid.uuid4())
    )
    assert customer.status_code == 401
