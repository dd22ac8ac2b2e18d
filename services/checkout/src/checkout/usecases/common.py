"""What the use cases share: persisting a domain outcome, applying an event to its order once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from jg_events import Envelope
from jg_messaging import PermanentError, UnitOfWork
from jg_web.http import ApiError

from checkout import repository
from checkout.context import Context
from checkout.domain import Order, Outcome

log = structlog.get_logger(__name__)


async def save(uow: UnitOfWork, outcome: Outcome, *, new: bool = False) -> Order | None:
    """Write ``outcome`` in the unit's transaction (outbox rows included); None if no change."""
    if outcome.order is None:
        return None
    if new:
        await repository.insert_order(uow.conn, outcome.order)
    else:
        await repository.update_order(uow.conn, outcome.order)
    await repository.add_timeline(uow.conn, outcome.order.id, outcome.timeline)
    for event in outcome.events:
        await uow.publish(event)
    return outcome.order


async def apply(ctx: Context, envelope: Envelope[Any], decide: Callable[[Order], Outcome]) -> None:
    """Apply an event to its order once (inbox), under the order's row lock, in one transaction
    with the events the decision publishes (outbox). An unknown order is a permanent failure
    (the message goes to the dead-letter topic)."""
    async with ctx.runtime.messaging.handling(envelope) as uow:
        if uow.already_processed:
            return
        order_id = envelope.payload.order_id
        order = await repository.get_order(uow.conn, order_id, for_update=True)
        if order is None:
            raise PermanentError(f"unknown order {order_id}")
        outcome = decide(order)
        if outcome.order is None:
            log.info("event_changes_nothing", order_id=str(order.id), status=order.status)
        await save(uow, outcome)


def order_not_found() -> ApiError:
    return ApiError(404, "order_not_found", "Commande introuvable.")
