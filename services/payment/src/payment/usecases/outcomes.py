"""Applying what Stripe says of an attempt's intent: update the attempt, publish its event,
release the refunds waiting for its capture and the older holds it makes useless."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from jg_events import (
    PaymentActionRequired,
    PaymentAuthorized,
    PaymentCancellationReason,
    PaymentCancelled,
    PaymentCaptured,
    PaymentMethodType,
    PaymentRefused,
    RefusalReason,
)
from jg_messaging import tracing

from payment import domain, repository
from payment.context import Context
from payment.domain import AttemptStatus, Desired, IntentView, Outcome, Refusal, Source, Transition
from payment.repository import AttemptRow, OrderRow
from payment.stripe_gateway import PaymentMethodInfo

log = structlog.get_logger(__name__)

PaymentEvent = (
    PaymentAuthorized | PaymentActionRequired | PaymentRefused | PaymentCaptured | PaymentCancelled
)


@dataclass(frozen=True)
class Observed:
    """Stripe's view of the intent (a reply, a webhook or a read-back)."""

    view: IntentView
    source: Source
    method: PaymentMethodInfo | None = None


@dataclass(frozen=True)
class Refused:
    """The authorisation was declined (or refused before Stripe was asked)."""

    refusal: Refusal
    payment_intent_id: str | None
    method: PaymentMethodInfo | None = None


@dataclass(frozen=True)
class Dropped:
    """Cancelled before anything reached Stripe."""


Result = Observed | Refused | Dropped


async def apply_locked(ctx: Context, attempt_id: UUID, result: Result) -> list[UUID]:
    """Apply a call's answer in its own transaction and release the attempt's lease."""
    with tracing.transaction():
        return await _apply_locked(ctx, attempt_id, result)


async def _apply_locked(ctx: Context, attempt_id: UUID, result: Result) -> list[UUID]:
    async with ctx.pool.acquire() as conn, conn.transaction():
        attempt = await repository.get_attempt(conn, attempt_id, for_update=True)
        assert attempt is not None
        return await apply_result(ctx, conn, attempt, result, release_lease=True, causation_id=None)


async def apply_result(
    ctx: Context,
    conn: asyncpg.Connection,
    attempt: AttemptRow,
    result: Result,
    *,
    release_lease: bool,
    causation_id: str | None,
) -> list[UUID]:
    """Apply an answer to a locked attempt: update it, publish its event, plan follow-ups."""
    transition, values = _changes(ctx, attempt, result)
    if release_lease:
        values["lease_until"] = None
        values["last_error"] = None
    if causation_id is not None:
        values["causation_id"] = causation_id
    if values:
        await repository.update_attempt(conn, attempt.id, **values)
    updated = await repository.get_attempt(conn, attempt.id)
    assert updated is not None
    if transition.outcome is None:
        return [attempt.id] if transition.status is not attempt.state else []
    log.info(
        "payment_attempt_moved",
        order_id=str(attempt.order_id),
        revision=attempt.revision,
        payment_intent_id=updated.payment_intent_id,
        status_from=attempt.status,
        status_to=updated.status,
        outcome=transition.outcome.value,
    )
    order = await repository.get_order(conn, attempt.order_id)
    assert order is not None
    if domain.publishes_outcome(transition.outcome, updated.wants):
        uow = ctx.unit_of_work(conn, updated.correlation_id, updated.causation_id)
        await uow.publish(payment_event(ctx, transition.outcome, updated, order))
    if transition.outcome is Outcome.CAPTURED:
        await _refunds_after_capture(conn, updated)
    return [attempt.id, *await _supersede(conn, updated, transition.outcome)]


def _changes(
    ctx: Context, attempt: AttemptRow, result: Result
) -> tuple[Transition, dict[str, Any]]:
    """The attempt's move and the columns it changes."""
    values: dict[str, Any] = {}
    method = None if isinstance(result, Dropped) else result.method
    if method is not None and method.card_brand:
        values["card_brand"] = method.card_brand
        values["card_last4"] = method.card_last4
    intent_id: str | None = None
    if isinstance(result, Dropped):
        transition = Transition(AttemptStatus.CANCELLED)
    elif isinstance(result, Refused):
        transition = domain.refused(attempt.state, result.refusal)
        intent_id = result.payment_intent_id
    else:
        transition = domain.transition(attempt.state, result.view, result.source)
        intent_id = result.view.id
        values.update(_observed_values(ctx, attempt, result.view, transition))
    if intent_id and attempt.payment_intent_id is None:
        values["payment_intent_id"] = intent_id
    if transition.refusal is not None:
        values["refusal_reason"] = transition.refusal.reason.value
        values["stripe_error_code"] = transition.refusal.error_code
        values["stripe_decline_code"] = transition.refusal.decline_code
        values["stripe_message"] = transition.refusal.message
    if transition.status is not attempt.state:
        values["status"] = transition.status.value
        if transition.status is not AttemptStatus.REQUIRES_ACTION and attempt.client_secret:
            values["client_secret"] = None  # only shown while the authentication is pending
    return transition, values


def _observed_values(
    ctx: Context, attempt: AttemptRow, view: IntentView, transition: Transition
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if transition.outcome is Outcome.CAPTURED:
        values["captured_cents"] = view.amount_received or (
            attempt.capture_cents or attempt.amount_cents
        )
    if transition.outcome is Outcome.ACTION_REQUIRED:
        action = view.next_action
        values["client_secret"] = domain.usable_client_secret(view.client_secret, view.id)
        values["action_required_at"] = datetime.now(UTC)
        values["next_action_type"] = action.type if action else "unknown"
        values["next_action_url"] = domain.next_action_url(
            action,
            ctx.settings.authentication_url_template,
            order_id=attempt.order_id,
            payment_intent_id=view.id,
        )
    if transition.outcome is Outcome.CANCELLED and attempt.cancel_reason is None:
        values["cancel_reason"] = domain.cancellation_reason(None, view.cancellation_reason).value
    return values


async def _refunds_after_capture(conn: asyncpg.Connection, attempt: AttemptRow) -> None:
    """Refund requests that came before this capture can be made now (the synchronisation
    pass sends them to Stripe), or are refused if they exceed what was captured."""
    captured = attempt.captured_cents or attempt.amount_cents
    for refund in await repository.refunds_awaiting_capture(conn, attempt.order_id):
        status, problem = domain.refund_decision(
            refund.amount_cents,
            captured,
            await repository.refunded_cents(conn, attempt.id),
            order_cancelled=False,
        )
        await repository.update_refund(
            conn,
            refund.refund_request_id,
            status=status.value,
            problem=problem,
            attempt_id=attempt.id,
            payment_intent_id=attempt.payment_intent_id,
        )
        log.info(
            "refund_released_by_capture",
            order_id=str(attempt.order_id),
            refund_request_id=str(refund.refund_request_id),
            status=status.value,
        )


async def _supersede(conn: asyncpg.Connection, attempt: AttemptRow, outcome: Outcome) -> list[UUID]:
    """Older holds of the order that this outcome makes useless are released."""
    reason = domain.superseding_reason(outcome, attempt.wants)
    if reason is None:
        return []
    attempts = await repository.attempts_of_order(conn, attempt.order_id, for_update=True)
    follow: list[UUID] = []
    for other in domain.superseded(attempts, attempt.revision):
        await repository.update_attempt(
            conn,
            other.id,
            desired=Desired.CANCELLED.value,
            cancel_reason=reason.value,
            causation_id=attempt.causation_id,
        )
        follow.append(other.id)
    return follow


def intent_of(attempt: AttemptRow) -> str:
    assert attempt.payment_intent_id is not None
    return attempt.payment_intent_id


def payment_event(
    ctx: Context, outcome: Outcome, attempt: AttemptRow, order: OrderRow
) -> PaymentEvent:
    """The domain event of an attempt's outcome."""
    common: dict[str, Any] = {
        "order_id": order.order_id,
        "order_number": order.order_number,
        "customer": order.contact,
    }
    amount = domain.from_cents(attempt.amount_cents)
    method = PaymentMethodType(attempt.payment_method_type)
    match outcome:
        case Outcome.AUTHORIZED:
            return PaymentAuthorized(
                **common,
                payment_intent_id=intent_of(attempt),
                amount=amount,
                order_revision=attempt.revision,
                payment_method_type=method,
                card_brand=attempt.card_brand,
                card_last4=attempt.card_last4,
            )
        case Outcome.ACTION_REQUIRED:
            return _action_required(ctx, attempt, order, common)
        case Outcome.REFUSED:
            return PaymentRefused(
                **common,
                payment_intent_id=attempt.payment_intent_id,
                amount=amount,
                order_revision=attempt.revision,
                payment_method_type=method,
                reason=RefusalReason(attempt.refusal_reason or RefusalReason.OTHER),
                stripe_error_code=attempt.stripe_error_code,
                stripe_decline_code=attempt.stripe_decline_code,
                stripe_message=attempt.stripe_message,
            )
        case Outcome.CAPTURED:
            return PaymentCaptured(
                **common,
                payment_intent_id=intent_of(attempt),
                amount=domain.from_cents(attempt.captured_cents or attempt.amount_cents),
            )
        case Outcome.CANCELLED:
            return PaymentCancelled(
                **common,
                payment_intent_id=intent_of(attempt),
                amount=amount,
                reason=PaymentCancellationReason(
                    attempt.cancel_reason or PaymentCancellationReason.OTHER
                ),
                order_revision=attempt.revision,
            )


def _action_required(
    ctx: Context, attempt: AttemptRow, order: OrderRow, common: dict[str, Any]
) -> PaymentActionRequired:
    """The customer must authenticate: where (Stripe's URL, else the storefront's page)."""
    return PaymentActionRequired(
        **common,
        payment_intent_id=intent_of(attempt),
        amount=domain.from_cents(attempt.amount_cents),
        order_revision=attempt.revision,
        next_action_type=attempt.next_action_type or "unknown",
        next_action_url=attempt.next_action_url
        or ctx.settings.authentication_url_template.format(
            order_id=order.order_id, payment_intent_id=intent_of(attempt)
        ),
        client_secret=attempt.client_secret,
    )
