"""Withdrawal: a customer returns items within 14 days of delivery; refund on receipt."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from jg_devstack.drivers import eventually
from jg_events import (
    ItemCondition,
    ReceivedItem,
    RefundCause,
    RefundRequested,
    ReturnAccepted,
    ReturnReceived,
    ReturnRejected,
    ReturnRejectionReason,
    Topic,
)

from .conftest import EXPRESS, Fulfillment, now, released

pytestmark = pytest.mark.integration


async def test_a_return_inside_the_window_is_accepted_and_refunded_once_received(
    service: Fulfillment,
) -> None:
    customer = uuid.uuid4()
    order = await service.delivered_order(
        ("MATCHA-KYOTO-100", 2), ("FUROSHIKI-SAKURA", 1), customer_id=customer, shipping=EXPRESS
    )

    response = await service.http.post(
        f"/orders/{order.order_id}/returns",
        json={"items_unused": True},  # every item
        headers=service.customer(customer),
    )

    assert response.status_code == 201, response.text
    accepted = response.json()
    assert accepted["status"] == "accepted" and accepted["kind"] == "withdrawal"
    # 2 x 24.90 + 16.90 (a sale item: covered by the legal withdrawal) + the standard delivery
    # price (9.90), not the express price paid (L221-24).
    assert accepted["expected_refund"] == "76.60"
    assert accepted["shipping_refund"] == "9.90"
    assert accepted["return_id"] in accepted["instructions"]
    assert "non utilisés" in accepted["instructions"]
    [event] = await service.events(Topic.FULFILLMENT_ORDERS, "ReturnAccepted", 1)
    assert isinstance(event.payload, ReturnAccepted)
    assert str(event.payload.return_id) == accepted["return_id"]
    assert event.payload.expected_refund == Decimal("76.60")
    assert {(i.sku, i.quantity) for i in event.payload.items} == {
        ("MATCHA-KYOTO-100", 2),
        ("FUROSHIKI-SAKURA", 1),
    }
    stock_before = await service.stock("MATCHA-KYOTO-100")

    # The parcel arrives: the matcha is intact, the furoshiki was used.
    await service.feed(
        ReturnReceived(
            order_id=order.order_id,
            return_id=uuid.UUID(accepted["return_id"]),
            items=(
                ReceivedItem(sku="MATCHA-KYOTO-100", quantity=2, condition=ItemCondition.UNUSED),
                ReceivedItem(sku="FUROSHIKI-SAKURA", quantity=1, condition=ItemCondition.USED),
            ),
            received_at=now(),
        )
    )

    [refund] = await service.events(Topic.FULFILLMENT_ORDERS, "RefundRequested", 1)
    assert isinstance(refund.payload, RefundRequested)
    assert refund.payload.cause is RefundCause.RETURN
    assert str(refund.payload.reference_id) == accepted["return_id"]
    assert refund.payload.amount == Decimal("49.80")  # not the whole order: no delivery refund
    assert refund.payload.shipping_refund == Decimal("0.00")
    assert [(line.sku, line.quantity, line.amount) for line in refund.payload.lines] == [
        ("MATCHA-KYOTO-100", 2, Decimal("49.80"))
    ]
    [refused] = await service.events(Topic.FULFILLMENT_ORDERS, "ReturnRejected", 1)
    assert refused.payload.reason is ReturnRejectionReason.ITEM_USED_OR_DAMAGED
    assert [(i.sku, i.quantity) for i in refused.payload.items] == [("FUROSHIKI-SAKURA", 1)]
    matcha = await service.stock("MATCHA-KYOTO-100")
    assert matcha["on_hand"] == stock_before["on_hand"] + 2  # back on the shelf
    view = await service.order(order.order_id)
    assert view is not None and view["returns"][0]["status"] == "received"
    assert view["returns"][0]["refunded_amount"] == "49.80"
    again = await service.http.post(
        f"/orders/{order.order_id}/returns",
        json={"items": [{"sku": "FUROSHIKI-SAKURA", "quantity": 1}], "items_unused": True},
        headers=service.customer(customer),
    )
    assert again.status_code == 422 and again.json()["code"] == "already_returned"


async def test_a_full_withdrawal_received_unused_refunds_the_standard_delivery_too(
    service: Fulfillment,
) -> None:
    customer = uuid.uuid4()
    order = await service.delivered_order(("DARUMA-ROUGE-10", 1), customer_id=customer)
    response = await service.http.post(
        f"/orders/{order.order_id}/returns",
        json={"items": [{"sku": "DARUMA-ROUGE-10", "quantity": 1}], "items_unused": True},
        headers=service.storefront,  # the storefront acts for the customer
    )
    assert response.status_code == 201, response.text
    return_id = uuid.UUID(response.json()["return_id"])
    await service.feed(
        ReturnReceived(
            order_id=order.order_id,
            return_id=return_id,
            items=(
                ReceivedItem(sku="DARUMA-ROUGE-10", quantity=1, condition=ItemCondition.UNUSED),
            ),
            received_at=now(),
        )
    )
    [refund] = await service.events(Topic.FULFILLMENT_ORDERS, "RefundRequested", 1)
    assert refund.payload.amount == Decimal("22.80")  # 12.90 + 9.90 standard delivery
    assert refund.payload.shipping_refund == Decimal("9.90")

    # The warehouse reports the same return twice: the second report is refused.
    await service.feed(
        ReturnReceived(
            order_id=order.order_id,
            return_id=return_id,
            items=(
                ReceivedItem(sku="DARUMA-ROUGE-10", quantity=1, condition=ItemCondition.UNUSED),
            ),
            received_at=now(),
        )
    )
    refused = await eventually(service.rejected_reports, lambda r: len(r) == 1, what="refusal")
    assert refused[0]["reason"] == "return_not_expected"
    again = await service.published(Topic.FULFILLMENT_ORDERS, 0, timeout=5, settle=1.0)
    assert len([e for e in again if e.type == "RefundRequested"]) == 1


async def test_a_return_after_the_window_is_rejected_with_the_reason(service: Fulfillment) -> None:
    customer = uuid.uuid4()
    order = await service.delivered_order(
        ("MATCHA-KYOTO-100", 1), customer_id=customer, delivered_at=now() - timedelta(days=20)
    )

    response = await service.http.post(
        f"/orders/{order.order_id}/returns",
        json={"items_unused": True},
        headers=service.customer(customer),
    )

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "withdrawal_period_expired"
    assert "délai de rétractation de 14 jours" in body["message"]
    [event] = await service.events(Topic.FULFILLMENT_ORDERS, "ReturnRejected", 1)
    assert isinstance(event.payload, ReturnRejected)
    assert event.payload.reason is ReturnRejectionReason.WITHDRAWAL_PERIOD_EXPIRED
    assert str(event.payload.return_id) == body["return_id"]
    assert event.payload.message == body["message"]
    view = await service.order(order.order_id)
    assert view is not None
    assert [(r["status"], r["rejection_reason"]) for r in view["returns"]] == [
        ("rejected", "withdrawal_period_expired")
    ]


async def test_only_the_customer_may_return_and_only_after_delivery(service: Fulfillment) -> None:
    customer = uuid.uuid4()
    order = released(("MATCHA-KYOTO-100", 1), customer_id=customer)
    await service.feed(order)
    await service.wait_for_status(order.order_id, "processing")
    path = f"/orders/{order.order_id}/returns"

    nobody = await service.http.post(path, json={"items_unused": True})
    stranger = await service.http.post(
        path, json={"items_unused": True}, headers=service.customer(uuid.uuid4())
    )
    invalid = await service.http.post(
        path, json={"items_unused": "maybe", "items": [{"sku": "X"}]}, headers=service.storefront
    )
    early = await service.http.post(
        path, json={"items_unused": True}, headers=service.customer(customer)
    )

    assert nobody.status_code == 401
    assert stranger.status_code == 404 and stranger.json()["code"] == "order_not_found"
    assert invalid.status_code == 422 and invalid.json()["code"] == "invalid_request"
    assert {d["field"] for d in invalid.json()["details"]} == {"items_unused", "items.0.quantity"}
    assert early.status_code == 422 and early.json()["code"] == "not_delivered"
