"""Stripe's webhooks: ``POST /webhooks/stripe`` (verified on the raw body, applied once)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field

from payment.context import Context
from payment.routes.dependencies import context
from payment.routes.errors import ErrorBody
from payment.usecases import webhooks

router = APIRouter(tags=["stripe"])


class WebhookReceipt(BaseModel):
    received: bool = Field(description="Always true: the event was verified and accepted.")
    event_id: str = Field(description="Stripe's event id ('evt_...').")
    event_type: str = Field(description="Stripe's event type, e.g. 'payment_intent.succeeded'.")
    outcome: str = Field(
        description="What payment did with it: 'applied', 'no_change', 'duplicate' (this event "
        "id was handled before), 'ignored' (a type payment does not use), 'unknown_intent', "
        "'unknown_refund', 'read_back'."
    )


# What Stripe posts: an Event (https://docs.stripe.com/api/events/object), read as raw bytes
# for the signature, so documented here rather than by a model.
STRIPE_EVENT_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["id", "type", "data"],
                "properties": {
                    "id": {
                        "type": "string",
                        "minLength": 1,
                        "description": "Stripe's event id, 'evt_...'.",
                    },
                    "object": {"type": "string", "enum": ["event"]},
                    "type": {
                        "type": "string",
                        "description": "The event type; payment_intent.*, charge.refund.*, "
                        "charge.refunded and refund.* are applied, any other is ignored.",
                        "enum": [
                            "payment_intent.amount_capturable_updated",
                            "payment_intent.succeeded",
                            "payment_intent.payment_failed",
                            "payment_intent.canceled",
                            "payment_intent.requires_action",
                            "charge.refunded",
                            "charge.refund.updated",
                            "refund.updated",
                            "refund.failed",
                        ],
                    },
                    "created": {"type": "integer", "description": "Unix time."},
                    "data": {
                        "type": "object",
                        "required": ["object"],
                        "properties": {
                            "object": {
                                "type": "object",
                                "description": "The payment intent, charge or refund.",
                                "properties": {
                                    "id": {"type": "string", "minLength": 1},
                                    "object": {
                                        "type": "string",
                                        "enum": ["payment_intent", "charge", "refund"],
                                    },
                                    "status": {"type": "string"},
                                    "amount": {"type": "integer"},
                                    "payment_intent": {"type": "string"},
                                    "metadata": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string"},
                                    },
                                },
                            }
                        },
                    },
                },
            }
        }
    },
}


@router.post(
    "/webhooks/stripe",
    summary="Stripe webhook endpoint (payment_intent.* and charge.refund.* events)",
    description="Verifies the `Stripe-Signature` header on the raw body with Stripe's SDK "
    "(a missing, forged or stale signature is refused with 400 and never processed), then "
    "applies the event once per Stripe event id.",
    response_model=WebhookReceipt,
    responses={
        400: {"model": ErrorBody, "description": "Bad or stale signature, or not an event"},
        413: {
            "model": ErrorBody,
            "description": "Body larger than PAYMENT_MAX_WEBHOOK_BODY_BYTES",
        },
    },
    openapi_extra={"requestBody": STRIPE_EVENT_BODY},
)
async def stripe_webhook(
    request: Request,
    ctx: Annotated[Context, Depends(context)],
    stripe_signature: Annotated[
        str | None,
        Header(
            alias="Stripe-Signature",
            description="Stripe's signature header: 't=<timestamp>,v1=<HMAC-SHA256>'.",
        ),
    ] = None,
) -> WebhookReceipt:
    payload = await request.body()  # capped by jg_web's BodyLimit (413), see app.py
    receipt = await webhooks.receive_stripe_webhook(ctx, payload, stripe_signature)
    return WebhookReceipt(
        received=True,
        event_id=receipt.event_id,
        event_type=receipt.event_type,
        outcome=receipt.outcome.value,
    )
