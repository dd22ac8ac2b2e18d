"""Customer service's order API: find, read and cancel on the customer's behalf (staff tokens)."""

from typing import Any
from uuid import uuid4

import pytest
from jg_devstack.tokens import authorization, staff_authorization
from jg_events import OrderCancelled

from .conftest import order_body

pytestmark = pytest.mark.integration

AGENT = staff_authorization("agent", email="hugo@japangoodz.test")
OPERATOR = "test-checkout-operator-token"


def body_for(email: str, first: str, last: str) -> dict[str, Any]:
    return order_body(contact={"email": email, "first_name": first, "last_name": last})


async def test_orders_are_found_by_number_email_or_part_of_a_name_newest_first(
    start: Any,
) -> None:
    checkout = await start()
    older = await checkout.place(body_for("camille.durand@example.fr", "Camille", "Durand"))
    newer = await checkout.place(body_for("camille.durand@example.fr", "Camille", "Durand"))
    other = await checkout.place(body_for("hiro@example.jp", "Hiro", "Tanaka"))

    async def found(q: str) -> list[str]:
        answer = await checkout.http.get("/operator/orders", params={"q": q}, headers=AGENT)
        assert answer.status_code == 200, answer.text
        return [o["number"] for o in answer.json()]

    assert await found(other["number"]) == [other["number"]]
    assert await found(other["number"].lower()) == [other["number"]]
    assert await found("Camille.Durand@Example.FR") == [newer["number"], older["number"]]
    assert await found("amille dur") == [newer["number"], older["number"]]
    assert await found("tanaka") == [other["number"]]
    assert await found("camille") == [newer["number"], older["number"]]
    assert await found("%") == []  # a wildcard is a character, not "everything"
    assert await found("") == []
    answer = await checkout.http.get("/operator/orders", params={"q": "hiro"}, headers=AGENT)
    row = answer.json()[0]
    assert row["email"] == "hiro@example.jp"
    assert row["customer_name"] == "Hiro Tanaka"
    assert row["status"] == "pending_payment"
    assert row["status_label"] == "En attente de l'autorisation du paiement"
    assert row["total"] == other["totals"]["total"]


async def test_only_staff_or_the_operator_token_reach_the_operator_routes(start: Any) -> None:
    checkout = await start(operator_token=OPERATOR)
    order = await checkout.place()
    path = f"/operator/orders/{order['id']}"
    staff = await checkout.http.get(path, headers=AGENT)
    assert staff.status_code == 200
    assert staff.json()["number"] == order["number"]
    assert staff.json()["timeline"] == order["timeline"]
    static = await checkout.http.get(path, headers={"Authorization": f"Bearer {OPERATOR}"})
    assert static.status_code == 200
    customer = await checkout.http.get(path, headers=authorization(uuid4()))
    storefront = await checkout.http.get(path)  # the client's default: the storefront token
    assert customer.status_code == storefront.status_code == 401
    # and a staff token is no customer: the customers' routes refuse it
    as_customer = await checkout.http.get(f"/orders/{order['id']}", headers=AGENT)
    assert as_customer.status_code == 401


async def test_customer_service_cancels_within_the_window_and_is_refused_after(
    start: Any,
) -> None:
    checkout = await start(release_delay_seconds=2)
    kept = await checkout.confirmed()
    dropped = await checkout.confirmed()
    cancelled = await checkout.http.post(
        f"/operator/orders/{dropped['id']}/cancel",
        json={"note": "Demande par téléphone"},
        headers=AGENT,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    events = await checkout.events_of(dropped["id"], 5, settle=1.0)
    cancellation = events[-1].payload
    assert isinstance(cancellation, OrderCancelled)
    assert cancellation.cancelled_by.value == "customer_service"
    assert cancellation.note == "Demande par téléphone"
    async with checkout.pool.acquire() as conn:
        detail = await conn.fetchval(
            "SELECT detail FROM order_timeline WHERE order_id = $1 AND kind = 'cancelled'",
            dropped["id"],
        )
    assert "hugo@japangoodz.test" in str(detail)

    await checkout.wait_for_status(kept["id"], "released")
    late = await checkout.http.post(f"/operator/orders/{kept['id']}/cancel", json={}, headers=AGENT)
    assert late.status_code == 409
    assert late.json()["code"] == "order_released"
