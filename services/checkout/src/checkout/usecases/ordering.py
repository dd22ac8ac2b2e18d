"""Placing an order (idempotent per caller and ``Idempotency-Key``) and reading one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from jg_auth import Principal
from jg_web.http import ApiError

from checkout import domain, repository
from checkout.context import Context
from checkout.domain import Order, OrderRejectedError, PlaceOrder, Problem, TimelineEntry
from checkout.usecases.common import order_not_found, save

KEY_REUSED = Problem(
    "Idempotency-Key",
    "idempotency_key_reused",
    "Cette clé d'idempotence a déjà servi pour une autre commande ; "
    "utilisez une nouvelle clé pour une nouvelle commande.",
)


@dataclass(frozen=True)
class OrderRead:
    """An order and its timeline (oldest first); ``replayed``: the order an earlier request
    with the same ``Idempotency-Key`` and body created."""

    order: Order
    timeline: list[TimelineEntry]
    replayed: bool = False


def foreign_account() -> ApiError:
    return ApiError(403, "forbidden", "Ce compte client ne correspond pas au jeton.")


async def place_order(ctx: Context, caller: Principal, key: str, command: PlaceOrder) -> OrderRead:
    """Price the cart from the catalogue, then record the order and OrderPlaced in one
    transaction with the key; the same key and body again answer the same order."""
    try:
        customer_id = domain.ordering_customer(caller, command.contact.customer_id)
    except domain.ForeignAccountError:
        raise foreign_account() from None
    scope = domain.idempotency_scope(caller)
    existing = await _replay(ctx, scope, key, command.fingerprint)
    if existing is not None:
        return existing
    async with ctx.runtime.pool.acquire() as conn:
        catalogue = await repository.products(conn, {line.sku for line in command.lines})
    priced = domain.price_placement(
        command, catalogue, ctx.shipping_options, ctx.limits, ctx.settings.countries
    )
    order_id = uuid4()
    async with ctx.runtime.messaging.transaction() as uow:
        claimed = await repository.claim_idempotency_key(
            uow.conn, scope, key, command.fingerprint, order_id
        )
        if claimed:
            outcome = domain.place(
                order_id=order_id,
                sequence_value=await repository.next_order_sequence(uow.conn),
                customer=command.contact.model_copy(update={"customer_id": customer_id}),
                lines=priced.lines,
                shipping=priced.shipping,
                shipping_address=command.shipping_address,
                billing_address=command.billing_address,
                payment_method_type=command.payment_method_type,
                stripe_payment_method_id=command.stripe_payment_method_id,
                now=ctx.clock(),
                correlation_id=uow.correlation_id,
            )
            order = await save(uow, outcome, new=True)
    if not claimed:  # a twin request with this key committed first
        replayed = await _replay(ctx, scope, key, command.fingerprint)
        assert replayed is not None
        return replayed
    assert order is not None
    return await with_timeline(ctx, order)


async def _replay(ctx: Context, scope: str, key: str, fingerprint: str) -> OrderRead | None:
    """The order this key created, if any; 422 if the key came with another body."""
    async with ctx.runtime.pool.acquire() as conn:
        record = await repository.idempotency_record(conn, scope, key)
        if record is None:
            return None
        if record.request_hash != fingerprint:
            raise OrderRejectedError([KEY_REUSED])
        order = await repository.get_order(conn, record.order_id)
    assert order is not None
    return await with_timeline(ctx, order, replayed=True)


async def read_order(ctx: Context, caller: Principal, order_id: UUID) -> OrderRead:
    """The order, if the caller may see it (404 otherwise)."""
    async with ctx.runtime.pool.acquire() as conn:
        order = await readable(conn, caller, order_id, lock=False)
    return await with_timeline(ctx, order)


async def readable(conn: Any, caller: Principal, order_id: UUID, *, lock: bool) -> Order:
    """The order (locked with ``lock``), if the caller may see it; 404 otherwise."""
    order = await repository.get_order(conn, order_id, for_update=lock)
    if order is None or not domain.may_read(caller, order.customer.customer_id):
        raise order_not_found()
    return order


async def with_timeline(ctx: Context, order: Order, *, replayed: bool = False) -> OrderRead:
    """The order as it is now, with its timeline (read after the command's commit)."""
    async with ctx.runtime.pool.acquire() as conn:
        entries = await repository.timeline(conn, order.id)
    return OrderRead(order, entries, replayed)
