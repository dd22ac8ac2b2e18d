"""Event handlers: record what the order needs (inbox + state in one transaction), then drive it.

The Stripe calls happen after the transaction has committed (:mod:`payment.workflow`): a
redelivered event finds its inbox record, skips the recording and drives the same attempt again,
which does nothing once Stripe's answer is recorded.
"""

from __future__ import annotations

from uuid import UUID

import structlog
from jg_events import (
    CustomerErasureRequested,
    Envelope,
    OrderCancelled,
    OrderModified,
    OrderPlaced,
    OrderReleased,
    PaymentCancellationReason,
    RefundRequested,
    Shipped,
    Topic,
)
from jg_messaging import ServiceRuntime, UnitOfWork, handles, subscribe

from payment import domain, repository
from payment.domain import AttemptStatus, Desired, RefundStatus
from payment.workflow import PaymentWorkflow

log = structlog.get_logger(__name__)

SERVICE = "payment"
CONSUMED = (Topic.CHECKOUT_ORDERS, Topic.FULFILLMENT_ORDERS, Topic.ACCOUNTS_CUSTOMERS)


def register_handlers(runtime: ServiceRuntime, workflow: PaymentWorkflow) -> None:
    events = subscribe(
        runtime.broker,
        *CONSUMED,
        service=SERVICE,
        topic_prefix=runtime.settings.platform.topic_prefix,
    )

    @events(filter=handles(OrderPlaced))
    async def on_order_placed(event: Envelope[OrderPlaced]) -> None:
        """Authorise the order's total (a manual-capture PaymentIntent)."""
        placed = event.payload
        async with runtime.messaging.handling(event) as uow:
            if not uow.already_processed:
                await workflow.record_order(
                    uow, placed, placed.stripe_payment_method_id, amount_changed=True
                )
            attempt = await repository.attempt_of_revision(
                uow.conn, placed.order_id, placed.revision
            )
        if attempt is not None:
            await workflow.drive([attempt.id])

    @events(filter=handles(OrderModified))
    async def on_order_modified(event: Envelope[OrderModified]) -> None:
        """A new total needs a new authorisation; the old hold goes once it is granted."""
        modified = event.payload
        async with runtime.messaging.handling(event) as uow:
            if not uow.already_processed:
                order = await repository.get_order(uow.conn, modified.order_id, for_update=True)
                if order is None:
                    log.error("modified_order_unknown", order_id=str(modified.order_id))
                    return
                await workflow.record_order(
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
            await workflow.drive([attempt.id])

    @events(filter=handles(OrderCancelled))
    async def on_order_cancelled(event: Envelope[OrderCancelled]) -> None:
        """Release every hold of the order (nothing was captured: nothing is refunded)."""
        cancelled = event.payload
        to_drive: list[UUID] = []
        async with runtime.messaging.handling(event) as uow:
            order = await repository.get_order(uow.conn, cancelled.order_id, for_update=True)
            if order is None:
                log.warning("cancelled_order_unknown", order_id=str(cancelled.order_id))
                return
            if not uow.already_processed:
                await repository.set_order_state(uow.conn, order.order_id, "cancelled")
                for attempt in await repository.attempts_of_order(
                    uow.conn, order.order_id, for_update=True
                ):
                    if attempt.state.final or attempt.wants is Desired.CANCELLED:
                        continue
                    if attempt.state in (AttemptStatus.CAPTURING, AttemptStatus.CAPTURED):
                        log.error("cancel_after_capture", order_id=str(order.order_id))
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
        await workflow.drive(to_drive)

    @events(filter=handles(OrderReleased))
    async def on_order_released(event: Envelope[OrderReleased]) -> None:
        """Capture the held amount (capture does not wait for stock: a hold lasts ~7 days)."""
        released = event.payload
        to_drive: list[UUID] = []
        async with runtime.messaging.handling(event) as uow:
            order = await repository.get_order(uow.conn, released.order_id, for_update=True)
            if order is None:
                log.error("released_order_unknown", order_id=str(released.order_id))
                return
            if not uow.already_processed:
                await repository.update_order_snapshot(uow.conn, released)
                await repository.set_order_state(uow.conn, order.order_id, "released")
                live = [
                    a
                    for a in await repository.attempts_of_order(
                        uow.conn, order.order_id, for_update=True
                    )
                    if a.revision <= released.revision
                    and a.wants is not Desired.CANCELLED
                    and (a.state.pending_outcome or a.state is AttemptStatus.AUTHORIZED)
                ]
                if not live:
                    log.error(
                        "released_without_authorization",
                        order_id=str(order.order_id),
                        revision=released.revision,
                    )
                else:
                    attempt = live[-1]
                    total = domain.to_cents(released.totals.total)
                    if total > attempt.amount_cents:
                        log.error(
                            "released_total_above_hold",
                            order_id=str(order.order_id),
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
            to_drive = [
                a.id
                for a in await repository.attempts_of_order(uow.conn, order.order_id)
                if a.wants is Desired.CAPTURED and not a.state.final
            ]
        await workflow.drive(to_drive)

    @events(filter=handles(RefundRequested))
    async def on_refund_requested(event: Envelope[RefundRequested]) -> None:
        """Refund the amount from the captured payment, once per refund request."""
        request = event.payload
        async with runtime.messaging.handling(event) as uow:
            if not uow.already_processed:
                await _record_refund(uow, request)
            refund = await repository.get_refund(uow.conn, request.refund_request_id)
        if refund is not None and refund.state is RefundStatus.REQUESTED:
            await workflow.drive_refund(refund.refund_request_id)

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
            order_cancelled=order.state == "cancelled",
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

    @events(filter=handles(Shipped))
    async def on_shipped(event: Envelope[Shipped]) -> None:
        """Issue the order's invoice (next number of the series, PDF stored) and announce it."""
        shipped = event.payload
        async with runtime.messaging.handling(event) as uow:
            if uow.already_processed:
                return
            order = await repository.get_order(uow.conn, shipped.order_id)
            if order is None:
                # Payment must know the order to invoice it: retry, then dead-letter.
                raise LookupError(f"shipped order {shipped.order_id} is unknown to payment")
            await workflow.issue_invoice(uow.conn, uow, order, shipped.shipped_at)

    @events(filter=handles(CustomerErasureRequested))
    async def on_customer_erasure_requested(event: Envelope[CustomerErasureRequested]) -> None:
        """Pseudonymise the customer in orders (the account's; guest orders with its address
        only when proven); invoices stay as issued (legal obligation)."""
        async with runtime.messaging.handling(event) as uow:
            if uow.already_processed:
                return
            erased = await workflow.erase_customer(uow.conn, event.payload)
            log.info(
                "customer_pseudonymised",
                orders=len(erased),
                by_email=event.payload.email_verified,
            )
