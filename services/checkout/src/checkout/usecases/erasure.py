"""GDPR erasure of a customer's orders (CustomerErasureRequested)."""

from __future__ import annotations

import structlog
from jg_events import CancellationReason, CancelledBy, CustomerErasureRequested, Envelope

from checkout import domain, repository
from checkout.context import Context
from checkout.usecases.common import save

log = structlog.get_logger(__name__)

ERASURE_NOTE = "Suppression des données personnelles demandée"


async def erase_customer(ctx: Context, envelope: Envelope[CustomerErasureRequested]) -> None:
    """Pseudonymise the account's orders (and the guest orders of a proven address); an order
    not yet released is cancelled: nothing may ship to an erased address."""
    p = envelope.payload
    async with ctx.runtime.messaging.handling(envelope) as uow:
        if uow.already_processed:
            return
        # Always the account's orders; guest orders placed with its address only when the
        # customer proved they own it (anyone may sign up with a stranger's address).
        ids = await repository.orders_of_customer(
            uow.conn, p.customer_id, p.email if p.email_verified else None
        )
        now = ctx.clock()
        for order_id in ids:
            order = await repository.get_order(uow.conn, order_id)
            assert order is not None
            erased = domain.pseudonymise(order)
            await repository.update_order(uow.conn, erased)
            if erased.cancellable:  # the hold is released instead
                outcome = domain.cancel(
                    erased,
                    reason=CancellationReason.OTHER,
                    cancelled_by=CancelledBy.SYSTEM,
                    note=ERASURE_NOTE,
                    now=now,
                )
                await save(uow, outcome)
        await repository.mark_erased(uow.conn, ids)
        forgotten = await repository.forget_sent_messages(uow.conn, ids)
        log.info("customer_erased", orders=len(ids), outbox_rows_deleted=forgotten)
