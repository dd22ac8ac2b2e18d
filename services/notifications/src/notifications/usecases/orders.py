"""Order events with state kept here: a refused payment, and the confirmation that follows it."""

from __future__ import annotations

import structlog
from jg_events import Envelope, OrderConfirmed, PaymentRefused

from notifications import domain, repository
from notifications.context import Context
from notifications.usecases.emails import planned, record_emails

__all__ = ["confirm_order", "record_payment_refusal"]

log = structlog.get_logger(__name__)


async def record_payment_refusal(ctx: Context, envelope: Envelope[PaymentRefused]) -> None:
    """Remember the refused revision (no confirmation of it will follow), tell the customer."""
    event = envelope.payload
    async with ctx.runtime.messaging.handling(envelope) as uow:
        if uow.already_processed:
            return
        plans = planned(ctx, envelope)
        await repository.record_refusal(uow.conn, event.order_id, event.order_revision)
        recorded = await record_emails(ctx, uow.conn, envelope, plans)
    if recorded:
        ctx.wake()


async def confirm_order(ctx: Context, envelope: Envelope[OrderConfirmed]) -> None:
    """The order confirmation, unless a payment of this (or a later) revision was refused."""
    event = envelope.payload
    async with ctx.runtime.messaging.handling(envelope) as uow:
        if uow.already_processed:
            return
        plans = planned(ctx, envelope)
        refused = await repository.order_refused_revision(uow.conn, event.order_id)
        await repository.record_confirmation(uow.conn, event.order_id, event.revision)
        if not domain.confirmation_allowed(event.revision, refused):
            log.warning(
                "confirmation_withheld_payment_refused",
                order_id=str(event.order_id),
                revision=event.revision,
                refused_revision=refused,
            )
            return
        recorded = await record_emails(ctx, uow.conn, envelope, plans)
    if recorded:
        ctx.wake()
