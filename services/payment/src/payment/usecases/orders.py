"""The order's events: a revision to authorise (placed, modified), its cancellation (release
every hold) and its release (capture). Each records what the order needs in the event's unit of
work (inbox + state), then drives the attempts once the transaction has committed: a
redelivered event finds its inbox record, skips the recording and drives the same attempts
again, which does nothing once Stripe's answer is recorded."""

from __future__ import annotations

from uuid import UUID, uuid4

import structlog
from jg_events import (
    Envelope,
    OrderCancelled,
    OrderModified,
    OrderPlaced,
    OrderReleased,
    PaymentCancellationReason,
)
from jg_events.orders import OrderSnapshot
from jg_messaging import UnitOfWork

from payment import domain, repository
from payment.context import Context
from payment.domain import CancelStep, Desired, OrderState
from payment.usecases.attempts import drive

log = structlog.get_logger(__name__)


async def authorize_placed_order(ctx: Context, envelope: Envelope[OrderPlaced]) -> None:
    """Authorise the order's total (a manual-capture PaymentIntent)."""
    placed = envelope.payload
    async with ctx.runtime.messaging.handling(envelope) as uow:
        if not uow.already_processed:
            await record_revision(uow, placed, placed.stripe_payment_method_id, amount_changed=True)
        attempt = await repository.attempt_of_revision(uow.conn, placed.order_id, placed.revision)
    if attempt is not None:
        await drive(ctx, [attempt.id])


async def authorize_modification(ctx: Context, envelope: Envelope[OrderModified]) -> None:
    """A new total needs a new authorisation; the old hold goes once it is granted."""
    modified = envelope.payload
    async with ctx.runtime.messaging.handling(envelope) as uow:
        if not uow.already_processed:
            order = await repository.get_order(uow.conn, modified.order_id, for_update=True)
            if order is None:
                log.error("modified_order_unknown", order_id=str(modified.order_id))
                return
            await record_revision(
                uow,
                modified,
                order.stripe_payment_method_id,
                amount_changed=modified.amount_changed,
                restores_revision=modified.restores_authorized_revision,
            )
        attempt = await repository.attempt_of_revision(
            uow.conn, modified.order_id, modified.revision
        )
    if attempt is not None:
        await drive(ctx, [attempt.id])


async def record_revision(
    uow: UnitOfWork,
    snapshot: OrderSnapshot,
    stripe_payment_method_id: str,
    amount_changed: bool,
    restores_revision: int | None = None,
) -> UUID | None:
    """Record an order revision; returns the attempt to authorise, if it needs one.

    A revision that restores an earlier one whose hold still stands (checkout undid a
    modification left unauthenticated) needs none: that hold covers it.
    """
    conn = uow.conn
    if await repository.insert_order(conn, snapshot, stripe_payment_method_id):
        needs_authorization = True
        await repository.erase_if_customer_erased(conn, snapshot.order_id)
    else:
        newer = await repository.update_order_snapshot(conn, snapshot)
        needs_authorization = newer and amount_changed
    if not needs_authorization:
        return None
    order = await repository.get_order(conn, snapshot.order_id, for_update=True)
    assert order is not None
    if order.state is not OrderState.OPEN:
        log.warning("order_not_open", order_id=str(order.order_id), state=order.state.value)
        return None
    total = domain.to_cents(snapshot.totals.total)
    if restores_revision is not None:
        held = await repository.attempt_of_revision(conn, order.order_id, restores_revision)
        if domain.covered_by_hold(held, total):
            log.info(
                "revision_covered_by_standing_hold",
                order_id=str(order.order_id),
                revision=snapshot.revision,
                held_revision=restores_revision,
            )
            return None
    attempt_id = uuid4()
    await repository.insert_attempt(
        conn,
        attempt_id=attempt_id,
        order_id=snapshot.order_id,
        revision=snapshot.revision,
        amount_cents=total,
        payment_method_type=order.payment_method_type,
        stripe_payment_method_id=order.stripe_payment_method_id,
        correlation_id=uow.correlation_id,
        causation_id=uow.causation_id,
    )
    return attempt_id


async def cancel_order(ctx: Context, envelope: Envelope[OrderCancelled]) -> None:
    """Release every hold of the order (nothing was captured: nothing is refunded)."""
    cancelled = envelope.payload
    async with ctx.runtime.messaging.handling(envelope) as uow:
        order = await repository.get_order(uow.conn, cancelled.order_id, for_update=True)
        if order is None:
            log.warning("cancelled_order_unknown", order_id=str(cancelled.order_id))
            return
        if not uow.already_processed:
            await repository.set_order_state(uow.conn, order.order_id, OrderState.CANCELLED)
            attempts = await repository.attempts_of_order(uow.conn, order.order_id, for_update=True)
            for attempt in attempts:
                step = domain.on_order_cancelled(attempt.state, attempt.wants)
                if step is CancelStep.TOO_LATE:
                    log.error("cancel_after_capture", order_id=str(order.order_id))
                if step is not CancelStep.CANCEL:
                    continue
                await repository.update_attempt(
                    uow.conn,
                    attempt.id,
                    desired=Desired.CANCELLED.value,
                    cancel_reason=PaymentCancellationReason.ORDER_CANCELLED.value,
                    causation_id=uow.causation_id,
                )
        to_drive = [
            a.id
            for a in await repository.attempts_of_order(uow.conn, order.order_id)
            if not a.state.final
        ]
    await drive(ctx, to_drive)


async def capture_released_order(ctx: Context, envelope: Envelope[OrderReleased]) -> None:
    """Capture the held amount (capture does not wait for stock: a hold lasts ~7 days)."""
    released = envelope.payload
    async with ctx.runtime.messaging.handling(envelope) as uow:
        order = await repository.get_order(uow.conn, released.order_id, for_update=True)
        if order is None:
            log.error("released_order_unknown", order_id=str(released.order_id))
            return
        if not uow.already_processed:
            await repository.update_order_snapshot(uow.conn, released)
            await repository.set_order_state(uow.conn, order.order_id, OrderState.RELEASED)
            await _want_capture(uow, released)
        to_drive = [
            a.id
            for a in await repository.attempts_of_order(uow.conn, order.order_id)
            if a.wants is Desired.CAPTURED and not a.state.final
        ]
    await drive(ctx, to_drive)


async def _want_capture(uow: UnitOfWork, released: OrderReleased) -> None:
    """Mark the hold that covers the released revision to be captured (the released total,
    never more than the hold)."""
    attempts = await repository.attempts_of_order(uow.conn, released.order_id, for_update=True)
    attempt = domain.hold_to_capture(attempts, released.revision)
    if attempt is None:
        log.error(
            "released_without_authorization",
            order_id=str(released.order_id),
            revision=released.revision,
        )
        return
    total = domain.to_cents(released.totals.total)
    if total > attempt.amount_cents:
        log.error(
            "released_total_above_hold",
            order_id=str(released.order_id),
            total_cents=total,
            held_cents=attempt.amount_cents,
        )
    await repository.update_attempt(
        uow.conn,
        attempt.id,
        desired=Desired.CAPTURED.value,
        capture_cents=domain.capture_amount(total, attempt.amount_cents),
        causation_id=uow.causation_id,
    )
