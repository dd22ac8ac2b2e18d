"""Refunds: one Stripe refund per RefundRequested (same idempotency key every time), taken
from the order's capture; RefundIssued and a credit note once Stripe confirms it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from jg_events import Envelope, RefundCause, RefundIssued, RefundRequested
from jg_messaging import UnitOfWork

from payment import domain, repository
from payment.context import Context
from payment.domain import AttemptStatus, OrderState, RefundCall, RefundMove, RefundStatus
from payment.repository import RefundRow
from payment.stripe_gateway import RefundView, RejectedError, UnavailableError
from payment.usecases.invoices import issue_credit_note

log = structlog.get_logger(__name__)


async def request_refund(ctx: Context, envelope: Envelope[RefundRequested]) -> None:
    """Refund the amount from the captured payment, once per refund request."""
    request = envelope.payload
    async with ctx.runtime.messaging.handling(envelope) as uow:
        if not uow.already_processed:
            await _record_refund(uow, request)
        refund = await repository.get_refund(uow.conn, request.refund_request_id)
    if refund is not None and refund.state is RefundStatus.REQUESTED:
        await drive_refund(ctx, refund.refund_request_id)


async def _record_refund(uow: UnitOfWork, request: RefundRequested) -> None:
    conn = uow.conn
    order = await repository.get_order(conn, request.order_id, for_update=True)
    if order is None:
        # Nothing can be refunded for an order payment never saw: retry, then dead-letter.
        raise LookupError(f"refund requested for order {request.order_id} unknown to payment")
    attempts = await repository.attempts_of_order(conn, request.order_id)
    captured = next((a for a in reversed(attempts) if a.state is AttemptStatus.CAPTURED), None)
    amount = domain.to_cents(request.amount)
    status, problem = domain.refund_decision(
        amount,
        None if captured is None else captured.captured_cents or captured.amount_cents,
        0 if captured is None else await repository.refunded_cents(conn, captured.id),
        order_cancelled=order.state is OrderState.CANCELLED,
    )
    if problem is not None:
        log.error("refund_rejected", order_id=str(request.order_id), problem=problem)
    elif status is RefundStatus.AWAITING_CAPTURE:
        log.info("refund_awaits_capture", order_id=str(request.order_id))
    await repository.insert_refund(
        conn,
        refund_request_id=request.refund_request_id,
        order_id=request.order_id,
        attempt_id=captured.id if captured else None,
        payment_intent_id=captured.payment_intent_id if captured else None,
        amount_cents=amount,
        cause=request.cause.value,
        reference_id=request.reference_id,
        request_json=request.model_dump_json(include={"lines", "shipping_refund", "amount"}),
        status=status,
        problem=problem,
        correlation_id=uow.correlation_id,
        causation_id=uow.causation_id,
    )


async def _reserve(
    ctx: Context, refund_request_id: UUID, *, read_back: bool
) -> tuple[RefundRow, RefundCall] | None:
    """Lease the refund request and decide the call (None: nothing to do, or another worker)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        refund = await repository.claim_refund(conn, refund_request_id, ctx.settings.stripe_lease)
        if refund is None:
            return None
        call = domain.refund_call(refund.state, read_back=read_back)
        if call is None:
            await repository.update_refund(conn, refund_request_id, lease_until=None)
            return None
        if call is RefundCall.CREATE:
            await repository.update_refund(conn, refund_request_id, sent_at=datetime.now(UTC))
    return refund, call


async def _call(ctx: Context, refund: RefundRow, call: RefundCall) -> RefundView:
    if call is RefundCall.READ_BACK:
        assert refund.stripe_refund_id is not None
        return await ctx.gateway.refund(refund.stripe_refund_id)
    assert refund.payment_intent_id is not None
    return await ctx.gateway.create_refund(
        payment_intent_id=refund.payment_intent_id,
        amount_cents=refund.amount_cents,
        metadata={
            "order_id": str(refund.order_id),
            "refund_request_id": str(refund.refund_request_id),
            "cause": refund.cause,
            "reference_id": str(refund.reference_id),
        },
        idempotency_key=domain.refund_idempotency_key(refund.order_id, refund.refund_request_id),
    )


async def drive_refund(ctx: Context, refund_request_id: UUID, *, read_back: bool = False) -> None:
    """Create the Stripe refund of a request (same key every time), or read a pending one."""
    reserved = await _reserve(ctx, refund_request_id, read_back=read_back)
    if reserved is None:
        return
    refund, call = reserved
    bound = log.bind(order_id=str(refund.order_id), refund_request_id=str(refund_request_id))
    try:
        view = await _call(ctx, refund, call)
    except UnavailableError as exc:
        bound.warning("stripe_unavailable", error=str(exc), step="refund")
        async with ctx.pool.acquire() as conn:
            await repository.update_refund(
                conn, refund_request_id, lease_until=None, last_error=str(exc)
            )
        return
    except RejectedError as exc:
        bound.error("stripe_refund_rejected", error=str(exc), code=exc.code)
        async with ctx.pool.acquire() as conn:
            await repository.update_refund(
                conn,
                refund_request_id,
                status=RefundStatus.FAILED.value,
                problem=f"Stripe refused the refund: {exc}"[:1000],
                lease_until=None,
            )
        return
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await repository.get_refund(conn, refund_request_id, for_update=True)
        assert row is not None
        await apply_refund(ctx, conn, row, view, causation_id=None)
        await repository.update_refund(conn, refund_request_id, lease_until=None)


async def apply_refund(
    ctx: Context,
    conn: asyncpg.Connection,
    refund: RefundRow,
    view: RefundView,
    *,
    causation_id: str | None,
) -> bool:
    """Apply what Stripe says of a refund; on success publish RefundIssued and a credit note.
    Returns whether anything changed."""
    status = domain.refund_status_of(view.status)
    move = domain.refund_move(refund.state, status)
    if move is RefundMove.FAILED_AFTER_SUCCESS:
        # The money did not reach the customer; customer service must act (reconciliation).
        log.error("refund_failed_after_success", refund_id=view.id, reason=view.failure_reason)
        await repository.update_refund(
            conn,
            refund.refund_request_id,
            status=RefundStatus.FAILED.value,
            problem=f"Stripe reported the refund failed after success: {view.failure_reason}",
        )
        return True
    if move is RefundMove.NONE:
        return False
    values: dict[str, Any] = {"status": status.value}
    if refund.stripe_refund_id is None:
        values["stripe_refund_id"] = view.id
    if status is RefundStatus.FAILED:
        values["problem"] = f"Stripe reports the refund {view.status}: {view.failure_reason}"
    await repository.update_refund(conn, refund.refund_request_id, **values)
    if status is not RefundStatus.SUCCEEDED:
        if status is RefundStatus.FAILED:
            log.error("refund_failed", refund_id=view.id, reason=view.failure_reason)
        return status is not refund.state
    await _issued(ctx, conn, refund, view, causation_id)
    return True


async def _issued(
    ctx: Context,
    conn: asyncpg.Connection,
    refund: RefundRow,
    view: RefundView,
    causation_id: str | None,
) -> None:
    """Announce a refund Stripe made (RefundIssued) and issue its credit note."""
    order = await repository.get_order(conn, refund.order_id)
    assert order is not None
    uow = ctx.unit_of_work(conn, refund.correlation_id, causation_id or refund.causation_id)
    await uow.publish(
        RefundIssued(
            order_id=order.order_id,
            order_number=order.order_number,
            customer=order.contact,
            payment_intent_id=refund.payment_intent_id or view.payment_intent_id or "unknown",
            amount=domain.from_cents(refund.amount_cents),
            refund_request_id=refund.refund_request_id,
            refund_id=view.id,
            cause=RefundCause(refund.cause),
            reference_id=refund.reference_id,
        )
    )
    log.info("refund_issued", order_id=str(order.order_id), refund_id=view.id)
    await issue_credit_note(ctx, conn, uow, order, refund)
