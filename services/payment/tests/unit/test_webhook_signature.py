"""Webhooks signed as Stripe signs them pass the SDK's own verification; others do not."""

import json
import time

import pytest
import stripe
from jg_devstack.stripe_webhooks import (
    failed_intent,
    signature_header,
    signed_webhook,
    stripe_event,
)

pytestmark = pytest.mark.unit

SECRET = "whsec_unit_test_secret"


def _event() -> dict:
    return stripe_event(
        "payment_intent.payment_failed",
        failed_intent("pi_123", 9937, "card_declined", "insufficient_funds"),
    )


def test_the_sdk_accepts_a_webhook_signed_like_stripe_does() -> None:
    body, headers = signed_webhook(_event(), SECRET)
    event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET)
    data = event.to_dict()
    assert data["type"] == "payment_intent.payment_failed"
    assert data["data"]["object"]["last_payment_error"]["decline_code"] == "insufficient_funds"


def test_our_header_is_the_one_the_sdk_would_compute() -> None:
    payload = json.dumps(_event())
    t = int(time.time())
    expected = stripe.WebhookSignature.generate_signature_header(payload, SECRET, timestamp=t)
    assert signature_header(payload, SECRET, t) == expected


def test_the_sdk_refuses_another_secret_a_changed_body_and_a_stale_timestamp() -> None:
    body, headers = signed_webhook(_event(), "whsec_someone_else")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET)

    body, headers = signed_webhook(_event(), SECRET)
    tampered = body.replace(b"insufficient_funds", b"generic_decline")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, headers["Stripe-Signature"], SECRET)

    body, headers = signed_webhook(_event(), SECRET, timestamp=int(time.time()) - 3600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET, tolerance=300)
