"""GDPR erasure: the customer is pseudonymised in orders; invoices stay as issued (a legal
obligation)."""

from __future__ import annotations

import structlog
from jg_events import CustomerErasureRequested, Envelope
from jg_messaging import utcnow

from payment import repository
from payment.context import Context

log = structlog.get_logger(__name__)


async def erase_customer(ctx: Context, envelope: Envelope[CustomerErasureRequested]) -> None:
    """Pseudonymise the customer in orders: always the account's; the guest orders placed with
    its email too, only when the customer proved they own the address (anyone may sign up with
    a stranger's)."""
    request = envelope.payload
    async with ctx.runtime.messaging.handling(envelope) as uow:
        if uow.already_processed:
            return
        email = request.email if request.email_verified else None
        erased = await repository.pseudonymise_customer(
            uow.conn, request.customer_id, email, utcnow()
        )
    log.info("customer_pseudonymised", orders=len(erased), by_email=request.email_verified)
