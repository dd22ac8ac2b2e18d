"""Customer service (the console's staff, or the operator token): find an order, read it as
the customer sees it, cancel it on the customer's behalf within the same window."""

from __future__ import annotations

from uuid import UUID

import structlog
from jg_auth import Storefront
from jg_events import CancellationReason, CancelledBy

from checkout import domain, repository
from checkout.context import Context
from checkout.domain import Order
from checkout.domain.search import MAX_RESULTS, order_search
from checkout.usecases.common import save
from checkout.usecases.ordering import OrderRead, readable, with_timeline

log = structlog.get_logger(__name__)

_ANYONE = Storefront()  # customer service reads and acts for any customer


async def search_orders(ctx: Context, query: str) -> list[Order]:
    """Orders matching an exact number, an exact email or part of a name; newest first."""
    search = order_search(query)
    if search is None:
        return []
    async with ctx.runtime.pool.acquire() as conn:
        return await repository.search_orders(conn, search, MAX_RESULTS)


async def read_order(ctx: Context, order_id: UUID) -> OrderRead:
    async with ctx.runtime.pool.acquire() as conn:
        order = await readable(conn, _ANYONE, order_id, lock=False)
    return await with_timeline(ctx, order)


async def cancel_on_behalf(ctx: Context, order_id: UUID, note: str | None, actor: str) -> OrderRead:
    """The customer's cancellation, by customer service: same window (409 once released),
    ``cancelled_by`` customer_service, the actor in the timeline's detail."""
    async with ctx.runtime.messaging.transaction() as uow:
        order = await readable(uow.conn, _ANYONE, order_id, lock=True)
        outcome = domain.cancel(
            order,
            reason=CancellationReason.CUSTOMER_REQUEST,
            cancelled_by=CancelledBy.CUSTOMER_SERVICE,
            note=note,
            now=ctx.clock(),
            actor=actor,
        )
        order = await save(uow, outcome) or order
    log.info("order_cancelled_by_customer_service", order_id=str(order_id))
    return await with_timeline(ctx, order)
