"""Persist what the domain decided: the order, its timeline and its events, in one transaction."""

from __future__ import annotations

from jg_messaging import UnitOfWork

from checkout import repository
from checkout.domain import Order, Outcome


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
