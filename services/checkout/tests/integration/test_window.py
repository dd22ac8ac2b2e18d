"""The modification window: modify and cancel until release, refused afterwards."""

import asyncio
from datetime import datetime
from typing import Any

import pytest
from jg_events import OrderCancelled, OrderModified, OrderReleased

from .conftest import now

pytestmark = pytest.mark.integration


def assert_events_of_the_kept_and_dropped_orders(events: Any, kept: Any, dropped: Any) -> None:
    kept_events = [e for e in events if e.key == kept["id"]]
    assert [e.type for e in kept_events] == [
        "OrderPlaced",
        "OrderConfirmed",
        "OrderModified",
        "OrderReleased",
    ]
    change = kept_events[2].payload
    assert isinstance(change, OrderModified)
    assert (str(change.previous_total), str(change.new_total), change.amount_changed) == (
        "101.50",
        "61.70",
        True,
    )
    assert change.revision == 1
    release = kept_events[3].payload
    assert isinstance(release, OrderReleased)
    assert release.revision == 1 and str(release.totals.total) == "61.70"
    assert release.shipping_method.code == "express"

    dropped_events = [e for e in events if e.key == dropped["id"]]
    assert [e.type for e in dropped_events] == ["OrderPlaced", "OrderConfirmed", "OrderCancelled"]
    cancellation = dropped_events[2].payload
    assert isinstance(cancellation, OrderCancelled)
    assert str(cancellation.total) == "101.50"
    assert cancellation.cancelled_by.value == "customer"


async def test_modify_and_cancel_work_before_release_and_are_refused_after(start: Any) -> None:
    checkout = await start(release_delay_seconds=3)
    kept = await checkout.confirmed()
    dropped = await checkout.confirmed()

    # modify: fewer matcha tins, express shipping -> new total, payment must re-authorise
    response = await checkout.http.patch(
        f"/orders/{kept['id']}",
        json={
            "lines": [{"sku": "MATCHA-KYOTO-100", "quantity": 1}],
            "shipping_method": "express",
            "expected_revision": 0,
        },
    )
    assert response.status_code == 200, response.text
    modified = response.json()
    assert modified["revision"] == 1
    assert modified["totals"]["subtotal"] == "41.80"  # 24.90 + 16.90
    assert modified["totals"]["shipping"] == "19.90"
    assert modified["totals"]["total"] == "61.70"
    # tea 24.90 at 5.5 %, furoshiki 16.90 at 20 %; the shipping split 12.46 / 7.44
    assert modified["totals"]["vat"] == "6.01"  # 1.95 + 4.06
    assert modified["payment"]["authorized"] is False
    assert modified["status"] == "confirmed"

    # cancel the other one
    response = await checkout.http.post(
        f"/orders/{dropped['id']}/cancel", json={"note": "Je me suis trompée de couleur."}
    )
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellation"]["reason"] == "customer_request"
    assert cancelled["cancellation"]["note"] == "Je me suis trompée de couleur."
    again = await checkout.http.post(f"/orders/{dropped['id']}/cancel")
    assert again.status_code == 200 and again.json()["status"] == "cancelled"

    # the window is over, but the new amount is not held yet: the order waits for it
    window_end = datetime.fromisoformat(kept["modifiable_until"])
    await asyncio.sleep(max(0.0, (window_end - now()).total_seconds()) + 1.0)  # 5 polls
    assert (await checkout.get(kept["id"]))["status"] == "confirmed"
    await checkout.authorize(kept, revision=1)
    released = await checkout.wait_for_status(kept["id"], "released", timeout=20)
    assert released["payment"]["authorized"] is True
    assert released["modifiable"] is False and released["cancellable"] is False

    response = await checkout.http.patch(
        f"/orders/{kept['id']}", json={"shipping_method": "standard"}
    )
    assert (response.status_code, response.json()["code"]) == (409, "order_released")
    assert "transmise" in response.json()["message"]
    response = await checkout.http.post(f"/orders/{kept['id']}/cancel")
    assert (response.status_code, response.json()["code"]) == (409, "order_released")
    response = await checkout.http.patch(
        f"/orders/{dropped['id']}", json={"shipping_method": "standard"}
    )
    assert (response.status_code, response.json()["code"]) == (409, "order_cancelled")

    events = await checkout.published(7, settle=1.0)
    assert_events_of_the_kept_and_dropped_orders(events, kept, dropped)


async def test_a_modification_is_refused_before_confirmation_but_a_cancel_is_not(
    start: Any,
) -> None:
    checkout = await start()
    order = await checkout.place()
    response = await checkout.http.patch(
        f"/orders/{order['id']}", json={"shipping_method": "express"}
    )
    assert (response.status_code, response.json()["code"]) == (409, "payment_pending")
    response = await checkout.http.patch(
        f"/orders/{order['id']}", json={"lines": [{"sku": "DARUMA-ROUGE-10", "quantity": 1}]}
    )
    assert response.status_code == 409  # the window rule comes first
    response = await checkout.http.post(f"/orders/{order['id']}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    # an authorisation arriving after the cancellation changes nothing
    await checkout.authorize(order)
    events = await checkout.events_of(order["id"], 2, settle=1.5)
    assert [e.type for e in events] == ["OrderPlaced", "OrderCancelled"]
    assert (await checkout.get(order["id"]))["status"] == "cancelled"


async def test_bad_modifications_are_refused_with_their_reason_and_change_nothing(
    start: Any,
) -> None:
    checkout = await start()
    order = await checkout.confirmed()
    cases = [
        ({"lines": [{"sku": "DARUMA-ROUGE-10", "quantity": 1}]}, "sku_not_in_order"),
        ({"lines": [{"sku": "MATCHA-KYOTO-100", "quantity": 11}]}, "quantity_out_of_range"),
        (
            {
                "lines": [
                    {"sku": "MATCHA-KYOTO-100", "quantity": 0},
                    {"sku": "FUROSHIKI-SAKURA", "quantity": 0},
                ]
            },
            "order_would_be_empty",
        ),
        ({"shipping_method": "teleport"}, "unknown_shipping_method"),
        ({"billing_address": {"first_name": "A"}}, "missing"),
        ({"total": "1.00"}, "price_not_accepted"),
    ]
    for body, code in cases:
        response = await checkout.http.patch(f"/orders/{order['id']}", json=body)
        assert response.status_code == 422, (body, response.text)
        assert code in {e["code"] for e in response.json()["errors"]}, (body, response.json())
    response = await checkout.http.patch(
        f"/orders/{order['id']}", json={"shipping_method": "express", "expected_revision": 3}
    )
    assert (response.status_code, response.json()["code"]) == (409, "revision_mismatch")
    # a change that changes nothing publishes nothing
    response = await checkout.http.patch(
        f"/orders/{order['id']}", json={"shipping_method": "standard"}
    )
    assert response.status_code == 200 and response.json()["revision"] == 0
    events = await checkout.events_of(order["id"], 2, settle=1.0)
    assert [e.type for e in events] == ["OrderPlaced", "OrderConfirmed"]
    assert (await checkout.get(order["id"]))["totals"]["total"] == "101.50"
