"""Every kind of bad input is refused with a machine code and a reason, and writes nothing."""

import json
import uuid
from typing import Any

import pytest

from .conftest import order_body

pytestmark = pytest.mark.integration


def with_address(**changes: Any) -> dict[str, Any]:
    body = order_body()
    body["shipping_address"] = {**body["shipping_address"], **changes}
    return body


def with_lines(*lines: tuple[str, Any]) -> dict[str, Any]:
    return order_body(lines=[{"sku": sku, "quantity": q} for sku, q in lines])


CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown sku", with_lines(("KATANA-REAL-1", 1)), "lines.0.sku", "unknown_sku"),
    ("inactive sku", with_lines(("TAMAGOTCHI-1997", 1)), "lines.0.sku", "inactive_sku"),
    (
        "zero quantity",
        with_lines(("MATCHA-KYOTO-100", 0)),
        "lines.0.quantity",
        "quantity_out_of_range",
    ),
    (
        "negative quantity",
        with_lines(("MATCHA-KYOTO-100", -2)),
        "lines.0.quantity",
        "quantity_out_of_range",
    ),
    (
        "quantity too large",
        with_lines(("MATCHA-KYOTO-100", 11)),
        "lines.0.quantity",
        "quantity_out_of_range",
    ),
    (
        "quantity not an integer",
        with_lines(("MATCHA-KYOTO-100", "3")),
        "lines.0.quantity",
        "invalid_quantity",
    ),
    ("too many lines", with_lines(*[("DARUMA-ROUGE-10", 1)] * 31), "lines", "too_many_lines"),
    ("no lines", order_body(lines=[]), "lines", "no_lines"),
    (
        "malformed email",
        order_body(contact={"email": "camille@", "first_name": "C", "last_name": "D"}),
        "contact.email",
        "invalid_email",
    ),
    (
        "country not a code",
        with_address(country_code="France"),
        "shipping_address.country_code",
        "invalid_country_code",
    ),
    ("missing street", with_address(line1=""), "shipping_address.line1", "missing"),
    (
        "french postal code",
        with_address(postal_code="6900"),
        "shipping_address.postal_code",
        "invalid_postal_code",
    ),
    ("malformed phone", with_address(phone="call me"), "shipping_address.phone", "invalid_phone"),
    (
        "unknown shipping method",
        order_body(shipping_method="teleport"),
        "shipping_method",
        "unknown_shipping_method",
    ),
    (
        "unsupported payment type",
        order_body(payment={"type": "paypal", "stripe_payment_method_id": "pm_x"}),
        "payment.type",
        "unsupported_payment_type",
    ),
    (
        "malformed stripe id",
        order_body(payment={"type": "card", "stripe_payment_method_id": "4242424242424242"}),
        "payment.stripe_payment_method_id",
        "invalid_payment_method_id",
    ),
    (
        "a price sent by the client",
        order_body(lines=[{"sku": "MATCHA-KYOTO-100", "quantity": 1, "unit_price": "0.01"}]),
        "lines.0.unit_price",
        "price_not_accepted",
    ),
    (
        "missing billing address",
        {k: v for k, v in order_body().items() if k != "billing_address"},
        "billing_address",
        "missing",
    ),
]


async def assert_nothing_written(checkout: Any) -> None:
    assert await checkout.pool.fetchval("SELECT count(*) FROM orders") == 0
    assert await checkout.pool.fetchval("SELECT count(*) FROM order_timeline") == 0
    assert await checkout.pool.fetchval("SELECT count(*) FROM idempotency_keys") == 0
    assert await checkout.pool.fetchval("SELECT count(*) FROM messaging_outbox") == 0


async def test_each_kind_of_bad_order_is_refused_with_its_reason_and_leaves_nothing(
    start: Any,
) -> None:
    checkout = await start()
    for name, body, field, code in CASES:
        response = await checkout.http.post(
            "/orders", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        assert response.status_code == 422, (name, response.text)
        answer = response.json()
        assert answer["code"] == "invalid_request", name
        assert answer["message"]
        found = {(e["field"], e["code"]) for e in answer["errors"]}
        assert (field, code) in found, (name, answer["errors"])
        assert all(e["message"] for e in answer["errors"]), name

    # several problems at once are all reported
    body = with_lines(("KATANA-REAL-1", 1), ("MATCHA-KYOTO-100", 50))
    body["shipping_method"] = "teleport"
    response = await checkout.http.post(
        "/orders", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert {e["code"] for e in response.json()["errors"]} == {
        "unknown_sku",
        "quantity_out_of_range",
        "unknown_shipping_method",
    }
    await assert_nothing_written(checkout)
    assert await checkout.published(1, timeout=3, settle=0.5) == []


async def test_transport_level_refusals_have_their_own_status_and_code(start: Any) -> None:
    checkout = await start(max_body_bytes=4096)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    http = checkout.http

    oversized = order_body(contact={"email": "a@b.fr", "first_name": "x" * 5000, "last_name": "y"})
    response = await http.post("/orders", json=oversized, headers=key)
    assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")

    # the same limit holds when the client does not announce the length (chunked upload)
    async def chunks() -> Any:
        for _ in range(10):
            yield b"x" * 1000

    response = await http.post(
        "/orders", content=chunks(), headers={**key, "Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")

    response = await http.post(
        "/orders",
        content=json.dumps(order_body()).encode(),
        headers={**key, "Content-Type": "text/plain"},
    )
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")

    response = await http.post(
        "/orders", content=b"{not json", headers={**key, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "invalid_json"

    response = await http.post("/orders", json=order_body())
    assert (response.status_code, response.json()["code"]) == (400, "idempotency_key_required")

    response = await http.post(
        "/orders", json=order_body(), headers={**key, "Authorization": "Bearer wrong"}
    )
    assert (response.status_code, response.json()["code"]) == (401, "token_malformed")
    assert response.headers["www-authenticate"].startswith("Bearer")
    response = await http.get(f"/orders/{uuid.uuid4()}", headers={"Authorization": ""})
    assert (response.status_code, response.json()["code"]) == (401, "unauthorized")

    response = await http.get(f"/orders/{uuid.uuid4()}")
    assert (response.status_code, response.json()["code"]) == (404, "order_not_found")

    await assert_nothing_written(checkout)
    assert await checkout.published(1, timeout=3, settle=0.5) == []
