"""Payment's bodies are capped as they are read; path and query values follow the text rule."""

import json
from collections.abc import AsyncIterator

import pytest
from jg_devstack.stripe_webhooks import payment_intent, signed_webhook, stripe_event

from .conftest import WEBHOOK_SECRET, Payment

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


async def test_a_webhook_has_its_own_cap_counted_on_the_bytes(payment: Payment) -> None:
    # a real, signed event far above the 64 KiB of other routes is read and applied
    event = stripe_event(
        "payment_intent.created", payment_intent("pi_big", 1000, "requires_payment_method")
    )
    event["data"]["object"]["metadata"] = {f"note_{i}": "x" * 400 for i in range(40)}
    event["padding"] = "x" * (200 * 1024)
    body, headers = signed_webhook(event, WEBHOOK_SECRET)
    assert 200 * 1024 < len(body) < MIB
    response = await payment.http.post("/webhooks/stripe", content=body, headers=headers)
    assert response.status_code == 200, response.text

    # past PAYMENT_MAX_WEBHOOK_BODY_BYTES (1 MiB), sent without a length: 413 as it arrives
    async def endless() -> AsyncIterator[bytes]:
        yield b'{"id": "evt_1", "padding": "'
        for _ in range(64):
            yield b"x" * 64 * 1024

    response = await payment.http.post(
        "/webhooks/stripe", content=endless(), headers={"Stripe-Signature": "t=1,v1=x"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert response.json()["message"] == (
        "Le corps de la requête est trop volumineux (1 Mo au plus)."
    )


async def test_path_and_query_values_with_control_characters_are_named(
    payment: Payment,
) -> None:
    response = await payment.http.get(
        "/invoices/F-2026-000001.pdf?download=1%00", headers={"Authorization": "Bearer x"}
    )
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["code"] == "invalid_request"
    assert [(d["field"], d["type"]) for d in answer["details"]] == [
        ("query.download", "invalid_characters")
    ]
    assert json.loads(response.text)["details"][0]["message"].startswith("Ce champ contient")
