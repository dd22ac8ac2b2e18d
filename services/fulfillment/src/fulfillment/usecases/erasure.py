"""GDPR erasure of a customer (accounts' CustomerErasureRequested)."""

from __future__ import annotations

import structlog
from jg_events import CustomerErasureRequested, Envelope

from fulfillment import repository
from fulfillment.context import Context

log = structlog.get_logger(__name__)


async def erase_customer(ctx: Context, event: Envelope[CustomerErasureRequested]) -> None:
    """Pseudonymise the customer's orders, erase the claim photos and the free text."""
    request = event.payload
    async with ctx.runtime.messaging.handling(event) as uow:
        if uow.already_processed:
            return
        # Always the account's orders; the guest orders placed with its address only when the
        # customer proved they own it (anyone may sign up with a stranger's address).
        counts = await repository.erase_customer(
            uow.conn,
            request.customer_id,
            request.email if request.email_verified else None,
            now=ctx.clock(),
        )
        log.info(
            "customer_erased",
            customer_id=str(request.customer_id),
            by_email=request.email_verified,
            **counts,
        )
