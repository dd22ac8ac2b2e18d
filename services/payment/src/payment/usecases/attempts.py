"""Driving attempts: record the intent to call Stripe, call outside any transaction, record the
answer. No database transaction is ever open while Stripe is called. Each step is idempotent:

1. a short transaction reserves the attempt (a lease, so one worker calls Stripe at a time) and
   decides the call (:func:`payment.domain.call_to_make`);
2. the call is made with an idempotency key derived from the order, its revision and the step;
3. a second transaction locks the attempt, applies Stripe's answer
   (:func:`payment.domain.transition`) and writes the domain event to the outbox
   (:mod:`payment.usecases.outcomes`).

If the process dies between 1 and 3, the lease runs out and the synchronisation pass
(:mod:`payment.sync`) makes the same call again: Stripe answers with the same intent. Webhooks
and read-backs go through the same step 3, so every source of truth converges.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

import structlog
from jg_events import PaymentMethodType, RefusalReason
from jg_messaging import tracing

from payment import domain, repository
from payment.context import Context
from payment.domain import Action, IntentView, Refusal, Source
from payment.repository import AttemptRow, OrderRow
from payment.stripe_gateway import (
    DeclinedError,
    PaymentMethodInfo,
    RejectedError,
    UnavailableError,
)
from payment.usecases.outcomes import Dropped, Observed, Refused, Result, apply_locked

log = structlog.get_logger(__name__)

MAX_STEPS = 12


async def drive(ctx: Context, attempt_ids: Sequence[UUID], *, read_back: bool = False) -> None:
    """Make the Stripe calls these attempts need, one after the other, until none is left.

    Never raises for Stripe being unavailable: the attempt stays recorded and the
    synchronisation pass resumes it.
    """
    queue = list(dict.fromkeys(attempt_ids))
    steps = 0
    while queue and steps < MAX_STEPS * max(1, len(attempt_ids)):
        attempt_id = queue.pop(0)
        steps += 1
        more = await _step(ctx, attempt_id, read_back=read_back)
        for follow in more:
            if follow not in queue:
                queue.append(follow)


async def _reserve(
    ctx: Context, attempt_id: UUID, *, read_back: bool
) -> tuple[AttemptRow, OrderRow, Action] | None:
    """Step 1: lease the attempt and decide the call (None: nothing to do, or another worker)."""
    with tracing.transaction():
        return await _reserve_in_transaction(ctx, attempt_id, read_back=read_back)


async def _reserve_in_transaction(
    ctx: Context, attempt_id: UUID, *, read_back: bool
) -> tuple[AttemptRow, OrderRow, Action] | None:
    async with ctx.pool.acquire() as conn, conn.transaction():
        attempt = await repository.claim_attempt(conn, attempt_id, ctx.settings.stripe_lease)
        if attempt is None:
            return None  # another worker holds it and will carry on
        action = domain.call_to_make(
            attempt.state,
            attempt.wants,
            authorize_sent=attempt.authorize_sent_at is not None,
            has_intent=attempt.payment_intent_id is not None,
            read_back=read_back,
        )
        if action is None:
            await repository.update_attempt(conn, attempt_id, lease_until=None)
            return None
        if action is Action.AUTHORIZE and attempt.authorize_sent_at is None:
            await repository.update_attempt(conn, attempt_id, authorize_sent_at=datetime.now(UTC))
        order = await repository.get_order(conn, attempt.order_id)
        assert order is not None
    return attempt, order, action


async def _step(ctx: Context, attempt_id: UUID, *, read_back: bool) -> list[UUID]:
    reserved = await _reserve(ctx, attempt_id, read_back=read_back)
    if reserved is None:
        return []
    attempt, order, action = reserved
    bound = log.bind(
        order_id=str(attempt.order_id),
        revision=attempt.revision,
        payment_intent_id=attempt.payment_intent_id,
        step=action.value,
    )
    try:
        result = await _call(ctx, action, attempt, order)
    except UnavailableError as exc:
        bound.warning("stripe_unavailable", error=str(exc), code=exc.code, status=exc.status)
        async with ctx.pool.acquire() as conn:
            await repository.update_attempt(
                conn, attempt_id, lease_until=None, last_error=f"{action}: {exc}"[:1000]
            )
        return []
    except RejectedError as exc:
        bound.error("stripe_rejected_call", error=str(exc), code=exc.code, status=exc.status)
        return await _rejected(ctx, attempt, action, exc)
    return await apply_locked(ctx, attempt_id, result)


async def _call(ctx: Context, action: Action, attempt: AttemptRow, order: OrderRow) -> Result:
    """Step 2: the Stripe call, with the step's idempotency key."""
    gateway = ctx.gateway
    if action is Action.DROP:
        return Dropped()
    if action is Action.AUTHORIZE:
        return await _authorize(ctx, attempt, order)
    assert attempt.payment_intent_id is not None
    if action is Action.CAPTURE:
        view = await gateway.capture(
            attempt.payment_intent_id,
            amount_cents=attempt.capture_cents or attempt.amount_cents,
            idempotency_key=domain.idempotency_key(
                attempt.order_id, attempt.revision, domain.Step.CAPTURE
            ),
        )
        return Observed(view, Source.CAPTURE)
    if action is Action.CANCEL:
        view = await gateway.cancel(
            attempt.payment_intent_id,
            idempotency_key=domain.idempotency_key(
                attempt.order_id, attempt.revision, domain.Step.CANCEL
            ),
        )
        return Observed(view, Source.CANCEL)
    view = await gateway.intent(attempt.payment_intent_id)
    return Observed(view, Source.READ_BACK)


async def _authorize(ctx: Context, attempt: AttemptRow, order: OrderRow) -> Observed | Refused:
    settings = ctx.settings
    method_type = PaymentMethodType(attempt.payment_method_type)
    method: PaymentMethodInfo | None = None
    try:
        if method_type is PaymentMethodType.CARD:
            # The brand is only known from the PaymentMethod: check it before holding money.
            method = await ctx.gateway.payment_method(attempt.stripe_payment_method_id)
            refusal = domain.check_payment_method(
                method_type, method.type, method.card_brand, settings.accepted_card_brands
            )
            if refusal is not None:
                return Refused(refusal, None, method)
        customer_id = order.stripe_customer_id
        if method_type is PaymentMethodType.CARD and customer_id is None:
            customer_id = await _customer(ctx, attempt, order, method)
        redirects = method_type is not PaymentMethodType.CARD or settings.stripe_card_redirects
        view = await ctx.gateway.authorize(
            customer_id=customer_id,
            amount_cents=attempt.amount_cents,
            payment_method_id=attempt.stripe_payment_method_id,
            payment_method_type=method_type.value,
            metadata={
                "order_id": str(attempt.order_id),
                "order_number": order.order_number,
                "order_revision": str(attempt.revision),
            },
            return_url=settings.stripe_return_url if redirects else None,
            idempotency_key=domain.idempotency_key(
                attempt.order_id, attempt.revision, domain.Step.AUTHORIZE
            ),
        )
    except DeclinedError as exc:
        return Refused(exc.refusal, exc.payment_intent_id, method)
    except RejectedError as exc:
        # A request Stripe will never accept (amount too small, bad parameter...): the
        # order must not wait forever; the raw code tells support what happened.
        log.error("stripe_authorization_rejected", error=str(exc), code=exc.code)
        refusal = Refusal(RefusalReason.OTHER, exc.code or "invalid_request", None, str(exc))
        return Refused(refusal, None, method)
    return Observed(view, Source.AUTHORIZE, method)


async def _customer(
    ctx: Context, attempt: AttemptRow, order: OrderRow, method: PaymentMethodInfo | None
) -> str:
    """The Stripe Customer the order's card is attached to, so that a modification raising
    the total can authorise the same card again (recorded once it holds the card)."""
    if method is not None and method.customer_id is not None:
        customer_id = method.customer_id  # the storefront attached it to its own Customer
    else:
        customer_id = await ctx.gateway.customer_for(
            payment_method_id=attempt.stripe_payment_method_id,
            metadata={"order_id": str(order.order_id), "order_number": order.order_number},
            idempotency_key=f"jg-payment:{order.order_id}",
        )
    async with ctx.pool.acquire() as conn:
        await repository.set_stripe_customer(conn, order.order_id, customer_id)
    return customer_id


async def _rejected(
    ctx: Context, attempt: AttemptRow, action: Action, exc: RejectedError
) -> list[UUID]:
    """A capture or cancellation Stripe refused: read the intent back and apply what it says."""
    view: IntentView | None = None
    if attempt.payment_intent_id is not None:
        try:
            view = await ctx.gateway.intent(attempt.payment_intent_id)
        except (UnavailableError, RejectedError):
            view = None
    follow: list[UUID] = []
    if view is not None:
        follow = await apply_locked(ctx, attempt.id, Observed(view, Source.READ_BACK))
    async with ctx.pool.acquire() as conn, conn.transaction():
        current = await repository.get_attempt(conn, attempt.id, for_update=True)
        assert current is not None
        still_needed = domain.next_action(
            current.state,
            current.wants,
            authorize_sent=True,
            has_intent=current.payment_intent_id is not None,
        ) in (Action.CAPTURE, Action.CANCEL)
        await repository.update_attempt(
            conn,
            attempt.id,
            lease_until=None,
            last_error=f"{action}: {exc}"[:1000],
            stuck=still_needed,
        )
    if still_needed:
        log.error(
            "payment_attempt_stuck",
            order_id=str(attempt.order_id),
            payment_intent_id=attempt.payment_intent_id,
            step=action.value,
            error=str(exc),
        )
    return follow
