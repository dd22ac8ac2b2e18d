"""Stripe webhooks for tests: events built and signed exactly as Stripe builds and signs them.

Stripe signs ``f"{t}.{body}"`` with HMAC-SHA256 and the endpoint's secret and sends
``Stripe-Signature: t=<unix time>,v1=<hex digest>``. This module does the same, independently of
the SDK, so a test proves the SDK's verification accepts what Stripe sends (and refuses a forged
or stale signature). End-to-end tests can use it to trigger any payment outcome::

    from jg_devstack.stripe_webhooks import failed_intent, signed_webhook, stripe_event

    event = stripe_event("payment_intent.payment_failed",
                         failed_intent("pi_123", 9937, "card_declined", "insufficient_funds",
                                       order_id=order_id, revision=0))
    body, headers = signed_webhook(event, "whsec_...")
    httpx.post("http://127.0.0.1:8002/webhooks/stripe", content=body, headers=headers)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from uuid import UUID

API_VERSION = "2025-09-30.clover"


def signature_header(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``payload``."""
    text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode("utf-8"), f"{t}.{text}".encode(), hashlib.sha256)
    return f"t={t},v1={digest.hexdigest()}"


def signed_webhook(
    event: dict[str, Any], secret: str, *, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a webhook delivery of ``event``."""
    body = json.dumps(event, indent=2).encode("utf-8")
    return body, {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": signature_header(body, secret, timestamp),
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }


def stripe_event(
    event_type: str,
    obj: dict[str, Any],
    *,
    event_id: str | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    """A v1 snapshot event as Stripe posts it (``data.object`` is the object after the change)."""
    return {
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": API_VERSION,
        "created": created or int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def payment_intent(
    intent_id: str,
    amount: int,
    status: str,
    *,
    order_id: UUID | None = None,
    revision: int | None = None,
    payment_method_type: str = "card",
    amount_received: int | None = None,
    last_payment_error: dict[str, Any] | None = None,
    next_action: dict[str, Any] | None = None,
    cancellation_reason: str | None = None,
) -> dict[str, Any]:
    """A PaymentIntent as Stripe serialises it in an event (the fields payment reads and more)."""
    metadata: dict[str, str] = {}
    if order_id is not None:
        metadata["order_id"] = str(order_id)
    if revision is not None:
        metadata["order_revision"] = str(revision)
    capturable = amount if status == "requires_capture" else 0
    received = amount_received if amount_received is not None else 0
    if status == "succeeded" and amount_received is None:
        received = amount
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": capturable,
        "amount_received": received,
        "capture_method": "manual",
        "cancellation_reason": cancellation_reason,
        "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
        "confirmation_method": "automatic",
        "created": int(time.time()),
        "currency": "eur",
        "last_payment_error": last_payment_error,
        "latest_charge": None,
        "livemode": False,
        "metadata": metadata,
        "next_action": next_action,
        "payment_method": f"pm_{secrets.token_hex(8)}",
        "payment_method_types": [payment_method_type],
        "status": status,
    }


def failed_intent(
    intent_id: str,
    amount: int,
    code: str,
    decline_code: str | None = None,
    *,
    message: str = "Your card was declined.",
    **kwargs: Any,
) -> dict[str, Any]:
    """A PaymentIntent after a failed payment: ``last_payment_error`` carries Stripe's codes."""
    error: dict[str, Any] = {
        "type": "card_error",
        "code": code,
        "message": message,
        "doc_url": f"https://stripe.com/docs/error-codes/{code}",
    }
    if decline_code is not None:
        error["decline_code"] = decline_code
    return payment_intent(
        intent_id, amount, "requires_payment_method", last_payment_error=error, **kwargs
    )


def refund(
    refund_id: str,
    amount: int,
    status: str,
    *,
    payment_intent_id: str,
    refund_request_id: UUID | None = None,
) -> dict[str, Any]:
    """A Refund as Stripe serialises it (``charge.refund.updated``, ``refund.updated``)."""
    metadata = {"refund_request_id": str(refund_request_id)} if refund_request_id else {}
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "currency": "eur",
        "created": int(time.time()),
        "metadata": metadata,
        "payment_intent": payment_intent_id,
        "status": status,
    }
