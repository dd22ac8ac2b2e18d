"""Stripe webhooks: signed as Stripe signs them, verified by the SDK, applied once."""

import time

import pytest
from jg_devstack.stripe_webhooks import (
    failed_intent,
    payment_intent,
    signature_header,
    stripe_event,
)
from jg_events import RefusalReason

from .conftest import THREE_D_SECURE, WEBHOOK_SECRET, Payment, placed

pytestmark = pytest.mark.integration


async def pending_order(payment: Payment) -> tuple[object, str]:
    """An order waiting for the customer (3-D Secure): its outcome will come by webhook."""
    order = placed(await payment.card(THREE_D_SECURE))
    await payment.feed(order)
    (action,) = await payment.events.wait_for(order.order_id, "PaymentActionRequired")
    return order, action.payload.payment_intent_id


@pytest.mark.parametrize(
    ("code", "decline_code", "reason"),
    [
        ("card_declined", "insufficient_funds", RefusalReason.INSUFFICIENT_FUNDS),
        ("card_declined", "card_velocity_exceeded", RefusalReason.LIMIT_REACHED),
        ("incorrect_number", None, RefusalReason.INCORRECT_CARD_DETAILS),
        ("incorrect_cvc", None, RefusalReason.INCORRECT_CARD_DETAILS),
        ("expired_card", None, RefusalReason.INCORRECT_CARD_DETAILS),
        ("card_declined", "authentication_required", RefusalReason.AUTHENTICATION_FAILED),
    ],
)
async def test_the_faq_refusal_reasons_arrive_as_signed_payment_failed_webhooks(
    payment: Payment, code: str, decline_code: str | None, reason: RefusalReason
) -> None:
    order, intent_id = await pending_order(payment)
    event = stripe_event(
        "payment_intent.payment_failed",
        failed_intent(
            intent_id,
            9937,
            code,
            decline_code,
            order_id=order.order_id,
            revision=0,
        ),
    )
    response = await payment.webhook(event)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "applied"

    (refused,) = await payment.events.wait_for(order.order_id, "PaymentRefused")
    assert refused.payload.reason is reason
    assert refused.payload.stripe_error_code == code  # Stripe's raw codes are kept
    assert refused.payload.stripe_decline_code == decline_code
    assert refused.payload.payment_intent_id == intent_id
    assert refused.causation_id == f"stripe:{event['id']}"


async def test_forged_stale_or_missing_signatures_are_refused_and_never_processed(
    payment: Payment,
) -> None:
    order, intent_id = await pending_order(payment)
    event = stripe_event(
        "payment_intent.payment_failed",
        failed_intent(intent_id, 9937, "card_declined", "insufficient_funds"),
    )

    forged = await payment.webhook(event, secret="whsec_not_the_endpoint_secret")
    stale = await payment.webhook(event, timestamp=int(time.time()) - 3600)
    body = b'{"id": "evt_x", "object": "event"}'
    missing = await payment.http.post("/webhooks/stripe", content=body)
    garbage = await payment.http.post(
        "/webhooks/stripe", content=body, headers={"Stripe-Signature": "t=1,v1=00"}
    )
    for response in (forged, stale, missing, garbage):
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_signature"

    # Nothing was recorded or applied: the order is still waiting for the customer.
    assert (
        await payment.pool.fetchval(
            "SELECT count(*) FROM stripe_webhook_events WHERE event_id = $1", event["id"]
        )
        == 0
    )
    assert (await payment.attempt(order.order_id))["status"] == "requires_action"
    assert await payment.events.quiet(order.order_id, 1.5) == ["PaymentActionRequired"]

    # The same event, correctly signed, is accepted.
    accepted = await payment.webhook(event)
    assert accepted.status_code == 200
    await payment.events.wait_for(order.order_id, "PaymentRefused")


async def test_each_stripe_event_is_handled_once(payment: Payment) -> None:
    order, intent_id = await pending_order(payment)
    event = stripe_event(
        "payment_intent.payment_failed",
        failed_intent(intent_id, 9937, "card_declined", "insufficient_funds"),
    )
    first = await payment.webhook(event)
    again = await payment.webhook(event)  # Stripe retries a delivery
    assert first.json()["outcome"] == "applied"
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"

    # Another event saying the same thing (or a late success) changes nothing either.
    late = stripe_event(
        "payment_intent.amount_capturable_updated",
        payment_intent(intent_id, 9937, "requires_capture"),
    )
    assert (await payment.webhook(late)).json()["outcome"] == "no_change"
    assert await payment.events.quiet(order.order_id, 1.5) == [
        "PaymentActionRequired",
        "PaymentRefused",
    ]


async def test_a_webhook_can_complete_a_pending_authorisation(payment: Payment) -> None:
    order, intent_id = await pending_order(payment)
    event = stripe_event(
        "payment_intent.amount_capturable_updated",
        payment_intent(intent_id, 9937, "requires_capture", order_id=order.order_id, revision=0),
    )
    assert (await payment.webhook(event)).json()["outcome"] == "applied"
    (authorized,) = await payment.events.wait_for(order.order_id, "PaymentAuthorized")
    assert authorized.payload.payment_intent_id == intent_id


async def test_events_payment_does_not_use_are_acknowledged_and_ignored(payment: Payment) -> None:
    other = stripe_event("customer.created", {"id": "cus_123", "object": "customer"})
    response = await payment.webhook(other)
    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    stranger = stripe_event(
        "payment_intent.succeeded", payment_intent("pi_not_ours", 1000, "succeeded")
    )
    response = await payment.webhook(stranger)
    assert response.status_code == 200 and response.json()["outcome"] == "unknown_intent"


@pytest.mark.parametrize(
    ("event_type", "obj"),
    [
        ("refund.updated", {"object": "refund", "amount": 100, "status": "succeeded"}),  # no id
        ("payment_intent.succeeded", {"id": 42, "object": "payment_intent"}),
        ("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent", "amount": "x"}),
        ("payment_intent.canceled", {"id": "pi_1", "object": "payment_intent", "metadata": ["k"]}),
        ("charge.refunded", {"id": "ch_1", "object": "charge", "refunds": ["re_1"]}),
        ("charge.refund.updated", {"id": "ch_1", "object": "charge", "refunds": {"data": [{}]}}),
    ],
)
async def test_a_signed_event_not_shaped_like_stripes_objects_is_acknowledged_as_malformed(
    payment: Payment, event_type: str, obj: dict[str, object]
) -> None:
    event = stripe_event(event_type, obj)
    response = await payment.webhook(event)
    # 200, not 500: a retry by Stripe would not make it readable.
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "malformed"
    assert (
        await payment.pool.fetchval(
            "SELECT count(*) FROM stripe_webhook_events WHERE event_id = $1", event["id"]
        )
        == 0
    )


async def test_a_signed_event_whose_data_is_not_an_object_is_acknowledged_as_malformed(
    payment: Payment,
) -> None:
    event = stripe_event("payment_intent.succeeded", {}) | {"data": ["not", "an", "object"]}
    response = await payment.webhook(event)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "malformed"


@pytest.mark.parametrize("body", [b"[]", b'"evt_1"', b"42", b"null", b"true"])
async def test_a_signed_body_that_is_json_but_not_an_object_is_refused_as_not_an_event(
    payment: Payment, body: bytes
) -> None:
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": signature_header(body, WEBHOOK_SECRET),
    }
    response = await payment.http.post("/webhooks/stripe", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_payload"
