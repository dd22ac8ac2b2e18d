"""The customer's commands during the modification window: modify and cancel an order."""

from __future__ import annotations

from uuid import UUID

from jg_auth import Principal
from jg_events import CancellationReason, CancelledBy

from checkout import domain
from checkout.context import Context
from checkout.domain import ConflictError, ModifyOrder
from checkout.usecases.common import save
from checkout.usecases.ordering import OrderRead, readable, with_timeline


async def modify_order(
    ctx: Context, caller: Principal, order_id: UUID, command: ModifyOrder
) -> OrderRead:
    """Apply the change before the release (409 past the window or on another revision);
    OrderModified when something changed."""
    change = domain.modification(command, ctx.shipping_options, ctx.settings.countries)
    async with ctx.runtime.messaging.transaction() as uow:
        order = await readable(uow.conn, caller, order_id, lock=True)
        expected = command.expected_revision
        if expected is not None and expected != order.revision:
            raise ConflictError(
                "revision_mismatch",
                f"La commande a changé entre-temps (révision {order.revision}, "
                f"{expected} attendue) : relisez-la avant de la modifier.",
            )
        outcome = domain.modify(order, change, limits=ctx.limits, now=ctx.clock())
        order = await save(uow, outcome) or order
    return await with_timeline(ctx, order)


async def cancel_order(
    ctx: Context, caller: Principal, order_id: UUID, note: str | None
) -> OrderRead:
    """Cancel at the customer's request before the release (again: nothing new); OrderCancelled
    lets payment release the hold."""
    async with ctx.runtime.messaging.transaction() as uow:
        order = await readable(uow.conn, caller, order_id, lock=True)
        outcome = domain.cancel(
            order,
            reason=CancellationReason.CUSTOMER_REQUEST,
            cancelled_by=CancelledBy.CUSTOMER,
            note=note,
            now=ctx.clock(),
        )
        order = await save(uow, outcome) or order
    return await with_timeline(ctx, order)
