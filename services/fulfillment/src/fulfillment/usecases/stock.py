"""Stock use cases: the hand-off of a released order, stock counts, adjustments and
replenishments (which resume backorders oldest first), and the pick list sent to logistics.

``release_order``, ``count_stock``, ``adjust_stock`` and ``replenish_stock`` open their
transaction; the other steps run inside the caller's unit of work (state and published events
commit together).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import structlog
from jg_events import (
    Backordered,
    BackorderedLine,
    CustomerContact,
    DeliveryEstimate,
    Envelope,
    OrderProcessing,
    OrderReleased,
    PickLine,
    StockReplenished,
)
from jg_messaging import UnitOfWork

from fulfillment import domain, repository
from fulfillment.context import Context
from fulfillment.usecases.common import refuse_report
from fulfillment.usecases.errors import CommandError, Failure

log = structlog.get_logger(__name__)


async def hand_off(
    uow: UnitOfWork,
    release: OrderReleased,
    *,
    released_at: datetime,
    now: datetime,
    policy: domain.EstimatePolicy,
) -> domain.OrderStatus | None:
    """Reserve every line of a released order at once; OrderProcessing or Backordered.

    Returns the new status, or None when the order was already handed off (a second release).
    """
    conn = uow.conn
    demand = domain.aggregate_demand((line.sku, line.quantity) for line in release.lines)
    await repository.ensure_products(conn, ((line.sku, line.name) for line in release.lines))
    products = await repository.lock_products(conn, demand)
    allocation = domain.allocate(demand, {sku: p.available for sku, p in products.items()})
    status = (
        domain.OrderStatus.PROCESSING if allocation.complete else domain.OrderStatus.BACKORDERED
    )
    estimate = (
        release.delivery_estimate
        if allocation.complete
        else domain.backorder_estimate(domain.paris_date(now), policy)
    )
    inserted = await repository.insert_order(
        conn,
        order_id=release.order_id,
        order_number=release.order_number,
        contact=release.customer,
        shipping_address=release.shipping_address,
        shipping_method=release.shipping_method,
        totals=release.totals,
        promised=release.delivery_estimate,
        estimate=estimate,
        status=status,
        released_at=released_at,
        now=now,
    )
    if not inserted:
        log.warning("order_already_released", order_id=str(release.order_id))
        return None
    # Released just before its customer's erasure, handed off after it: erased at once.
    contact = await repository.erase_if_customer_erased(conn, release.order_id, now)
    for sku, quantity in allocation.reserved.items():
        await repository.reserve(conn, sku, quantity)
    await repository.insert_items(
        conn, release.order_id, release.lines, allocation.reserved, handed_off=allocation.complete
    )
    if allocation.complete:
        order = await repository.get_order(conn, release.order_id)
        assert order is not None
        await publish_processing(uow, order, demand, products, estimate)
        log.info("order_handed_off", order_id=str(release.order_id))
    else:
        await _publish_backordered(uow, release, contact, demand, allocation, estimate)
    return status


async def _publish_backordered(
    uow: UnitOfWork,
    release: OrderReleased,
    contact: CustomerContact | None,
    demand: Mapping[str, int],
    allocation: domain.Allocation,
    estimate: DeliveryEstimate,
) -> None:
    """Backordered: what is missing, and the new delivery window."""
    names = {line.sku: line.name for line in release.lines}
    await uow.publish(
        Backordered(
            order_id=release.order_id,
            order_number=release.order_number,
            customer=contact or release.customer,
            missing_lines=tuple(
                BackorderedLine(
                    sku=sku,
                    name=names[sku],
                    quantity_ordered=demand[sku],
                    quantity_missing=missing,
                )
                for sku, missing in allocation.missing.items()
            ),
            delivery_estimate=estimate,
        )
    )
    log.info(
        "order_backordered",
        order_id=str(release.order_id),
        missing=allocation.missing,
        reserved=allocation.reserved,
    )


async def publish_processing(
    uow: UnitOfWork,
    order: repository.Order,
    quantities: Mapping[str, int],
    products: Mapping[str, repository.Product],
    estimate: DeliveryEstimate,
) -> None:
    """OrderProcessing on the logistics topic: what to pick and pack, and where it goes."""
    items = {item.sku: item for item in await repository.get_items(uow.conn, order.order_id)}
    lines = []
    for sku, quantity in sorted(quantities.items()):
        product = products.get(sku)
        lines.append(
            PickLine(
                sku=sku,
                name=items[sku].name,
                name_ja=product.name_ja if product else None,
                name_romaji=product.name_romaji if product else None,
                quantity=quantity,
                unit_price=items[sku].unit_price,
            )
        )
    await uow.publish(
        OrderProcessing(
            order_id=order.order_id,
            order_number=order.order_number,
            customer=order.contact,
            lines=tuple(lines),
            shipping_address=order.shipping_address,
            shipping_method=order.shipping_method,
            delivery_estimate=estimate,
        )
    )


async def add_stock(
    uow: UnitOfWork,
    changes: Mapping[str, int],
    *,
    reason: str,
    reference: str | None,
    note: str | None,
    now: datetime,
    policy: domain.EstimatePolicy,
) -> list[UUID]:
    """Add items to stock on hand, then serve the backorders waiting for them, oldest first.

    Returns the orders that proceeded to OrderProcessing.
    """
    conn = uow.conn
    await repository.lock_products(conn, changes)
    for sku, quantity in sorted(changes.items()):
        if quantity:
            await repository.change_on_hand(
                conn, sku, quantity, reason=reason, reference=reference, note=note
            )
    return await resume_backorders(uow, changes, now=now, policy=policy)


async def resume_backorders(
    uow: UnitOfWork, skus: Iterable[str], *, now: datetime, policy: domain.EstimatePolicy
) -> list[UUID]:
    """Give the available stock of ``skus`` to the oldest backorders; hand off completed ones.

    Locks the products first, then every backorder waiting on one of them in a single
    statement in queue order, so concurrent transactions never wait on each other in a cycle.
    """
    conn = uow.conn
    skus = sorted(set(skus))
    products = await repository.lock_products(conn, skus)
    available = {sku: p.available for sku, p in products.items() if p.available > 0}
    if not available:
        return []
    waiting_ids = await repository.lock_backorders_waiting_on(conn, available)
    if not waiting_ids:
        return []
    items = {order_id: await repository.get_items(conn, order_id) for order_id in waiting_ids}
    touched: set[UUID] = set()
    for sku, free in sorted(available.items()):
        waiting = [
            (str(order_id), item.missing)
            for order_id in waiting_ids
            for item in items[order_id]
            if item.sku == sku and item.missing > 0
        ]
        for key, quantity in domain.serve_oldest_first(waiting, free).items():
            await repository.reserve(conn, sku, quantity)
            await repository.add_item_reservation(conn, UUID(key), sku, quantity)
            touched.add(UUID(key))
    resumed: list[UUID] = []
    today = domain.paris_date(now)
    for order_id in waiting_ids:  # oldest first
        if order_id not in touched:
            continue
        current = await repository.get_items(conn, order_id)
        if any(item.missing > 0 for item in current):
            continue
        order = await repository.get_order(conn, order_id)
        assert order is not None
        estimate = domain.resumed_estimate(order.promised_estimate, today, policy)
        quantities = {item.sku: item.quantity for item in current}
        await repository.hand_off_items(conn, order_id, quantities)
        await repository.set_order_processing(conn, order_id, estimate, now)
        labels = await repository.get_products(conn, quantities)
        await publish_processing(uow, order, quantities, labels, estimate)
        resumed.append(order_id)
        log.info("backorder_resumed", order_id=str(order_id))
    return resumed


# --- Event reactions -------------------------------------------------------------------------


async def release_order(ctx: Context, event: Envelope[OrderReleased]) -> None:
    """OrderReleased (checkout): reserve the order's stock; OrderProcessing or Backordered."""
    async with ctx.runtime.messaging.handling(event) as uow:
        if uow.already_processed:
            return
        await hand_off(
            uow,
            event.payload,
            released_at=event.occurred_at,
            now=ctx.clock(),
            policy=ctx.estimates,
        )


async def replenish_stock(ctx: Context, event: Envelope[StockReplenished]) -> None:
    """StockReplenished (logistics): on hand increases, backorders resume oldest first."""
    report = event.payload
    async with ctx.runtime.messaging.handling(event) as uow:
        if uow.already_processed:
            return
        if await repository.get_product(uow.conn, report.sku) is None:
            await refuse_report(uow, event, domain.unknown_sku(report.sku), sku=report.sku)
            return
        resumed = await add_stock(
            uow,
            {report.sku: report.quantity_added},
            reason="replenishment",
            reference=str(event.event_id),
            note=None,
            now=ctx.clock(),
            policy=ctx.estimates,
        )
        log.info(
            "stock_replenished",
            sku=report.sku,
            quantity=report.quantity_added,
            resumed=[str(o) for o in resumed],
        )


# --- Operators' commands ---------------------------------------------------------------------


@dataclass(frozen=True)
class StockChange:
    """A sku's stock after a change, and the backorders it let proceed."""

    product: repository.Product
    resumed: list[UUID]


@dataclass(frozen=True)
class Labels:
    name_fr: str
    name_ja: str | None
    name_romaji: str | None


def sku_not_found(sku: str) -> CommandError:
    return CommandError(Failure.NOT_FOUND, "sku_not_found", f"No stock for sku {sku}.")


def below_reserved(product: repository.Product, target: int) -> CommandError:
    return CommandError(
        Failure.CONFLICT,
        "stock_below_reserved",
        f"{product.sku}: on hand would be {target}, below the {product.reserved} items reserved "
        "for orders (available stock can never be negative).",
        extra={"reserved": product.reserved, "on_hand": product.on_hand},
    )


async def count_stock(
    ctx: Context,
    sku: str,
    labels: Labels,
    on_hand: int,
    note: str | None,
    actor: str = "operator",
) -> StockChange:
    """An inventory count: the sku's labels and items on hand (creates the sku)."""
    async with ctx.runtime.messaging.transaction() as uow:
        await repository.upsert_product_labels(
            uow.conn, sku, labels.name_fr, labels.name_ja, labels.name_romaji
        )
        product = (await repository.lock_products(uow.conn, [sku]))[sku]
        delta = on_hand - product.on_hand
        if domain.stock_after_change(product.on_hand, product.reserved, delta) is None:
            raise below_reserved(product, on_hand)
        resumed = await _change_stock(ctx, uow, sku, delta, "inventory_count", note, actor)
        after = await repository.get_product(uow.conn, sku)
    assert after is not None
    log.info("stock_counted", sku=sku, on_hand=after.on_hand, delta=delta)
    return StockChange(after, resumed)


async def adjust_stock(
    ctx: Context, sku: str, delta: int, note: str, actor: str = "operator"
) -> StockChange:
    """Items added (breakage, loss: removed) by an operator."""
    if delta == 0:
        raise CommandError(
            Failure.INVALID,
            "invalid_request",
            "delta must not be 0",
            problems=[domain.Problem("delta", "zero", "delta must not be 0")],
        )
    async with ctx.runtime.messaging.transaction() as uow:
        locked = await repository.lock_products(uow.conn, [sku])
        if sku not in locked:
            raise sku_not_found(sku)
        product = locked[sku]
        if domain.stock_after_change(product.on_hand, product.reserved, delta) is None:
            raise below_reserved(product, product.on_hand + delta)
        resumed = await _change_stock(ctx, uow, sku, delta, "operator_adjustment", note, actor)
        after = await repository.get_product(uow.conn, sku)
    assert after is not None
    log.info("stock_adjusted", sku=sku, delta=delta, on_hand=after.on_hand)
    return StockChange(after, resumed)


async def _change_stock(
    ctx: Context,
    uow: UnitOfWork,
    sku: str,
    delta: int,
    reason: str,
    note: str | None,
    actor: str,
) -> list[UUID]:
    """An increase serves the backorders waiting for the sku; a decrease is only recorded.
    The movement's reference is who acted (a team member's email, or ``operator-token``)."""
    if delta > 0:
        return await add_stock(
            uow,
            {sku: delta},
            reason=reason,
            reference=actor,
            note=note,
            now=ctx.clock(),
            policy=ctx.estimates,
        )
    if delta < 0:
        await repository.change_on_hand(
            uow.conn, sku, delta, reason=reason, reference=actor, note=note
        )
    return []
