"""Shipping use cases: the logistics team's parcel reports (picked up, delivered).

A report that cannot be applied (unknown order, out of sequence) is *refused*: recorded in
``rejected_reports`` with its reason and logged as ``logistics_report_rejected``, never applied.
It does not go to the dead-letter topic: that topic holds messages the service failed to
handle (unreadable, or a handler that kept failing) and that an operator may replay after a
fix; a refused report was handled (the refusal is the outcome) and replaying it changes nothing.
"""

from __future__ import annotations

import structlog
from jg_events import Delivered, Envelope, ItemQuantity, ParcelDelivered, ParcelPickedUp, Shipped
from jg_messaging import UnitOfWork

from fulfillment import domain, repository
from fulfillment.context import Context
from fulfillment.usecases.common import refuse_report

log = structlog.get_logger(__name__)


def _progress(items: list[repository.Item]) -> dict[str, domain.ItemProgress]:
    return {
        i.sku: domain.ItemProgress(i.sku, i.name, i.quantity, i.handed_off, i.shipped)
        for i in items
    }


async def record_pick_up(ctx: Context, event: Envelope[ParcelPickedUp]) -> None:
    """A carrier took a parcel: stock leaves the warehouse, Shipped with the tracking link."""
    report = event.payload
    async with ctx.runtime.messaging.handling(event) as uow:
        if uow.already_processed:
            return
        conn = uow.conn
        order = await repository.get_order(conn, report.order_id, for_update=True)
        if order is None:
            await refuse_report(
                uow, event, domain.unknown_order(report.order_id), order_id=report.order_id
            )
            return
        progress = _progress(await repository.get_items(conn, order.order_id))
        parcels = await repository.get_parcels(conn, order.order_id)
        shipment = domain.decide_pick_up(
            order_status=order.status,
            items=progress,
            parcels={
                p.tracking_number: domain.ParcelState(p.tracking_number, p.picked_up_at, None)
                for p in parcels
            },
            carrier=report.carrier,
            tracking_number=report.tracking_number,
            parcel_items=[(item.sku, item.quantity) for item in report.items],
            picked_up_at=report.picked_up_at,
            now=ctx.clock(),
        )
        if isinstance(shipment, domain.Refusal):
            await refuse_report(uow, event, shipment, order_id=order.order_id)
            return
        await _ship(ctx, uow, order, report, shipment, progress)


async def _ship(
    ctx: Context,
    uow: UnitOfWork,
    order: repository.Order,
    report: ParcelPickedUp,
    shipment: domain.Shipment,
    progress: dict[str, domain.ItemProgress],
) -> None:
    """The items leave the stock and the order; the parcel is recorded; Shipped."""
    conn = uow.conn
    number = shipment.tracking_number
    for sku, quantity in shipment.quantities.items():
        await repository.change_on_hand(
            conn,
            sku,
            -quantity,
            reason="shipment",
            reference=f"{order.order_number} {number}",
            release_reserved=quantity,
        )
    await repository.ship_items(conn, order.order_id, shipment.quantities)
    await repository.insert_parcel(
        conn,
        order.order_id,
        tracking_number=number,
        carrier=report.carrier.value,
        tracking_url=shipment.tracking_url,
        items=[{"sku": sku, "quantity": q} for sku, q in shipment.quantities.items()],
        picked_up_at=report.picked_up_at,
    )
    await repository.set_order_status(conn, order.order_id, domain.OrderStatus.SHIPPED, ctx.clock())
    await uow.publish(
        Shipped(
            order_id=order.order_id,
            order_number=order.order_number,
            customer=order.contact,
            carrier=report.carrier,
            tracking_number=number,
            tracking_url=shipment.tracking_url,
            items=tuple(
                ItemQuantity(sku=sku, name=progress[sku].name, quantity=quantity)
                for sku, quantity in shipment.quantities.items()
            ),
            shipped_at=report.picked_up_at,
            delivery_estimate=shipment.estimate,
        )
    )
    log.info("parcel_shipped", order_id=str(order.order_id), tracking_number=number)


async def record_delivery(ctx: Context, event: Envelope[ParcelDelivered]) -> None:
    """A parcel was delivered: Delivered once every item is (the withdrawal period starts)."""
    report = event.payload
    async with ctx.runtime.messaging.handling(event) as uow:
        if uow.already_processed:
            return
        conn = uow.conn
        order = await repository.get_order(conn, report.order_id, for_update=True)
        if order is None:
            await refuse_report(
                uow, event, domain.unknown_order(report.order_id), order_id=report.order_id
            )
            return
        parcels = await repository.get_parcels(conn, order.order_id)
        items = await repository.get_items(conn, order.order_id)
        delivery = domain.decide_delivery(
            order_status=order.status,
            items=_progress(items).values(),
            parcels={
                p.tracking_number: domain.ParcelState(
                    p.tracking_number, p.picked_up_at, p.delivered_at
                )
                for p in parcels
            },
            tracking_number=report.tracking_number,
            delivered_at=report.delivered_at,
            now=ctx.clock(),
        )
        if isinstance(delivery, domain.Refusal):
            await refuse_report(uow, event, delivery, order_id=order.order_id)
            return
        number = delivery.tracking_number
        await repository.set_parcel_delivered(conn, order.order_id, number, report.delivered_at)
        if delivery.last_delivery is None or delivery.withdrawal_deadline is None:
            log.info("parcel_delivered_order_incomplete", order_id=str(order.order_id))
            return
        deadline = delivery.withdrawal_deadline
        await repository.set_delivered(
            conn, order.order_id, delivery.last_delivery, deadline, ctx.clock()
        )
        await repository.erase_address_if_erased(conn, order.order_id)
        await uow.publish(
            Delivered(
                order_id=order.order_id,
                order_number=order.order_number,
                customer=order.contact,
                tracking_number=number,
                delivered_at=report.delivered_at,
                withdrawal_deadline=deadline,
            )
        )
        log.info("order_delivered", order_id=str(order.order_id), withdrawal_deadline=deadline)
