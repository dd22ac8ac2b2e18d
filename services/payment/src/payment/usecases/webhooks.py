"""Stripe's webhooks: verified on the raw body, applied once per Stripe event id through the
same step as the answers to our own calls (:mod:`payment.usecases.outcomes`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from jg_web.http import ApiError

from payment import repository
from payment.context import Context
from payment.domain import IntentView, RefundStatus, Source, WebhookOutcome
from payment.repository import AttemptRow
from payment.stripe_gateway import RefundView
from payment.usecases.attempts import drive
from payment.usecases.outcomes import Observed, apply_result
from payment.usecases.refunds import apply_refund, drive_refund

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Receipt:
    """What payment did with a verified event."""

    event_id: str
    event_type: str
    outcome: WebhookOutcome


async def receive_stripe_webhook(ctx: Context, payload: bytes, signature: str | None) -> Receipt:
    """Verify the signature of a webhook's raw body (400 when missing, forged or stale, or not
    an event) and apply the event once."""
    import stripe  # the SDK, loaded by the first Stripe call or webhook

    try:
        event = ctx.gateway.verify_webhook(payload, signature)
    except stripe.SignatureVerificationError as exc:
        log.warning(
            "stripe_webhook_refused",
            reason=str(exc).split("\n")[0],
            has_signature=signature is not None,
            body_bytes=len(payload),
        )
        raise ApiError(
            400, "invalid_signature", "The Stripe signature is missing, invalid or stale."
        ) from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # e.g. JSON, not an object
        log.warning("stripe_webhook_unreadable", error=repr(exc))
        raise ApiError(400, "invalid_payload", "The body is not a Stripe event.") from exc
    outcome = await handle_stripe_event(ctx, event)
    receipt = Receipt(str(event.get("id")), str(event.get("type")), outcome)
    log.info(
        "stripe_webhook_handled",
        stripe_event_id=receipt.event_id,
        stripe_event_type=receipt.event_type,
        outcome=outcome.value,
    )
    return receipt


async def handle_stripe_event(ctx: Context, event: dict[str, Any]) -> WebhookOutcome:
    """Apply a verified Stripe event once; returns what was done (for the log and reply)."""
    event_id = str(event.get("id") or "")
    event_type = str(event.get("type") or "")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not event_id or not isinstance(obj, dict):
        return WebhookOutcome.MALFORMED
    try:
        intent_view, refund_views = stripe_views(event_type, obj)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # Signed by Stripe yet not shaped like its objects: nothing to apply, no retry.
        log.warning("stripe_event_malformed", stripe_event_id=event_id, error=repr(exc))
        return WebhookOutcome.MALFORMED
    causation = f"stripe:{event_id}"
    follow: list[UUID] = []
    refunds_to_read: list[UUID] = []
    async with ctx.pool.acquire() as conn, conn.transaction():
        fresh = await repository.record_webhook_event(
            conn, event_id, event_type, obj.get("id"), WebhookOutcome.RECEIVED.value
        )
        if not fresh:
            return WebhookOutcome.DUPLICATE
        if intent_view is not None:
            outcome, follow = await _intent_event(ctx, conn, intent_view, causation)
        elif refund_views is not None:
            outcome, refunds_to_read = await _refund_event(ctx, conn, obj, refund_views, causation)
        else:
            outcome = WebhookOutcome.IGNORED
        await repository.set_webhook_outcome(conn, event_id, outcome.value)
    if follow:
        await drive(ctx, follow)
    for refund_request_id in refunds_to_read:
        await drive_refund(ctx, refund_request_id, read_back=True)
    return outcome


async def _intent_event(
    ctx: Context, conn: asyncpg.Connection, view: IntentView, causation: str
) -> tuple[WebhookOutcome, list[UUID]]:
    attempt = await _attempt_for(conn, view)
    if attempt is None:
        return WebhookOutcome.UNKNOWN_INTENT, []
    before = attempt.status
    follow = await apply_result(
        ctx,
        conn,
        attempt,
        Observed(view, Source.WEBHOOK),
        release_lease=False,
        causation_id=causation,
    )
    after = await repository.get_attempt(conn, attempt.id)
    assert after is not None
    changed = after.status != before
    return (WebhookOutcome.APPLIED if changed else WebhookOutcome.NO_CHANGE), follow


async def _attempt_for(conn: asyncpg.Connection, view: IntentView) -> AttemptRow | None:
    attempt = await repository.attempt_of_intent(conn, view.id, for_update=True)
    if attempt is not None:
        return attempt
    # The webhook may beat the reply to our own call: find the attempt by its metadata.
    order_id, revision = view.meta("order_id"), view.meta("order_revision")
    if order_id is None or revision is None or not revision.isdigit():
        return None
    try:
        attempt = await repository.attempt_of_revision(
            conn, UUID(order_id), int(revision), for_update=True
        )
    except ValueError:
        return None
    if attempt is None or attempt.payment_intent_id not in (None, view.id):
        return None
    return attempt


async def _refund_event(
    ctx: Context,
    conn: asyncpg.Connection,
    obj: dict[str, Any],
    views: list[RefundView],
    causation: str,
) -> tuple[WebhookOutcome, list[UUID]]:
    to_read: list[UUID] = []
    if obj.get("object") == "charge" and not views and isinstance(obj.get("payment_intent"), str):
        # Recent API versions leave the refunds out of charge events: read them back.
        for known in await repository.refunds_of_intent(conn, obj["payment_intent"]):
            if known.state in (RefundStatus.REQUESTED, RefundStatus.PENDING):
                to_read.append(known.refund_request_id)
    applied = 0
    for view in views:
        row = await repository.refund_of_stripe_id(conn, view.id, for_update=True)
        if row is None and view.meta("refund_request_id"):
            try:
                row = await repository.get_refund(
                    conn, UUID(str(view.meta("refund_request_id"))), for_update=True
                )
            except ValueError:
                row = None
        if row is None:
            continue
        if await apply_refund(ctx, conn, row, view, causation_id=causation):
            applied += 1
    if applied:
        return WebhookOutcome.APPLIED, to_read
    return (WebhookOutcome.READ_BACK if to_read else WebhookOutcome.UNKNOWN_REFUND), to_read


def stripe_views(
    event_type: str, obj: dict[str, Any]
) -> tuple[IntentView | None, list[RefundView] | None]:
    """What a webhook's object says, read before anything is written: the payment intent of a
    ``payment_intent.*`` event, or the refunds of a refund event (none: a charge whose refunds
    must be read back). Raises KeyError, TypeError, ValueError or AttributeError for an object
    that is not shaped like Stripe's."""
    object_id = obj.get("id")
    if object_id is not None and not isinstance(object_id, str):
        raise TypeError(f"object id {object_id!r} is not a string")
    if event_type.startswith("payment_intent.") and obj.get("object") == "payment_intent":
        return IntentView.from_stripe(obj), None
    if event_type.startswith(("charge.refund", "refund.")):
        if obj.get("object") == "refund":
            return None, [RefundView.from_stripe(obj)]
        if obj.get("object") == "charge":
            refunds = (obj.get("refunds") or {}).get("data")
            if isinstance(refunds, list):
                return None, [RefundView.from_stripe(r) for r in refunds if isinstance(r, dict)]
        return None, []
    return None, None
