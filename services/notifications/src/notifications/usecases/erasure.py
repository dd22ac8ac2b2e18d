"""GDPR erasure: suppress the account (and its address, once proven), forget what we hold.

The acknowledgement (``CustomerErasureRequested``) and the final confirmation
(``CustomerErased``) are exempt from the suppression and forget their own address once sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import structlog
from jg_events import CustomerErased, CustomerErasureRequested, Envelope

from notifications import repository
from notifications.context import Context
from notifications.usecases.emails import planned, record_emails

__all__ = ["record_erasure", "record_erasure_request"]

log = structlog.get_logger(__name__)


async def record_erasure_request(
    ctx: Context, envelope: Envelope[CustomerErasureRequested]
) -> None:
    """Suppress and forget the customer, then acknowledge the request."""
    event = envelope.payload
    await _erase(ctx, envelope, event, event.requested_at, proven=event.email_verified)


async def record_erasure(ctx: Context, envelope: Envelope[CustomerErased]) -> None:
    """Suppress and forget again (what came meanwhile), then confirm the erasure.

    Whether the address was proven is the request's, recorded first (same partition key).
    """
    await _erase(ctx, envelope, envelope.payload, envelope.occurred_at, proven=False)


async def _erase(
    ctx: Context,
    envelope: Envelope[Any],
    event: CustomerErasureRequested | CustomerErased,
    requested_at: datetime,
    *,
    proven: bool,
) -> None:
    async with ctx.runtime.messaging.handling(envelope) as uow:
        if uow.already_processed:
            return
        plans = planned(ctx, envelope)
        await _forget(ctx, uow.conn, event, requested_at, proven=proven)
        recorded = await record_emails(ctx, uow.conn, envelope, plans)
    if recorded:
        ctx.wake()


async def _forget(
    ctx: Context,
    conn: asyncpg.Connection,
    event: CustomerErasureRequested | CustomerErased,
    requested_at: datetime,
    *,
    proven: bool,
) -> None:
    """Suppress first, then forget what we hold. Always the account (its id); the address
    itself only when the customer proved they own it: anyone may sign up with a stranger's
    address, and the stranger's mail (their guest orders) is not theirs to stop or erase."""
    await repository.record_erased_customer(conn, event.customer_id, requested_at, proven)
    verified = await repository.erasure_verified(conn, event.customer_id)
    address_hash = ctx.hash(event.email) if verified else None
    if address_hash is not None:
        await repository.add_suppression(conn, address_hash, event.customer_id, requested_at)
    forgotten = await repository.forget_customer(conn, address_hash, event.customer_id)
    log.info(
        "customer_forgotten",
        emails=forgotten,
        erasure_event=event.event_type,
        by_address=verified,
    )
