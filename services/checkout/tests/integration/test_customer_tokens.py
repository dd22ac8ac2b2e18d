"""A logged-in customer uses accounts' access token: their own orders only."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from jg_devstack.tokens import authorization, mint_token

from .conftest import order_body

pytestmark = pytest.mark.integration


async def test_a_customer_places_reads_and_cancels_their_own_orders_only(start: Any) -> None:
    checkout = await start()
    camille, paul = uuid.uuid4(), uuid.uuid4()
    as_camille = authorization(camille)

    response = await checkout.http.post(
        "/orders",
        json=order_body(),
        headers={**as_camille, "Idempotency-Key": "camille-cart-1"},
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["customer"]["customer_id"] == str(camille)  # from the token, not the body

    # another customer may not claim to be Camille, nor see her order
    claimed = order_body()
    claimed["contact"] = {**claimed["contact"], "customer_id": str(camille)}
    response = await checkout.http.post(
        "/orders", json=claimed, headers={**authorization(paul), "Idempotency-Key": "paul-1"}
    )
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    response = await checkout.http.get(f"/orders/{order['id']}", headers=authorization(paul))
    assert (response.status_code, response.json()["code"]) == (404, "order_not_found")
    response = await checkout.http.post(
        f"/orders/{order['id']}/cancel", headers=authorization(paul)
    )
    assert response.status_code == 404

    # an idempotency key is per caller: Paul's "camille-cart-1" is another order
    response = await checkout.http.post(
        "/orders",
        json=order_body(),
        headers={**authorization(paul), "Idempotency-Key": "camille-cart-1"},
    )
    assert response.status_code == 201 and response.json()["id"] != order["id"]

    expired = {"Authorization": f"Bearer {mint_token(camille, lifetime=timedelta(minutes=-5))}"}
    response = await checkout.http.get(f"/orders/{order['id']}", headers=expired)
    assert (response.status_code, response.json()["code"]) == (401, "token_expired")

    response = await checkout.http.get(f"/orders/{order['id']}", headers=as_camille)
    assert response.status_code == 200 and response.json()["number"] == order["number"]
    response = await checkout.http.post(f"/orders/{order['id']}/cancel", headers=as_camille)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
