"""Returns use cases: a customer's return request (withdrawal), the warehouse's receipt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import structlog
from jg_auth import Principal
from jg_events import (
    Envelope,
    ItemQuantity,
    RefundCause,
    ReturnAccepted,
    ReturnItem,
    ReturnReceived,
    ReturnRejected,
    ReturnRejectionReason,
)
from jg_messaging import UnitOfWork

from fulfillment import domain, repository
from fulfillment.context import Context
from fulfillment.usecases.common import publish_refund, refuse_report, visible_order
from fulfillment.usecases.stock import add_stock

log = structlog.get_logger(__name__)


def _sum_units(target: dict[str, int], items: list[dict[str, Any]]) -> None:
    for item in items:
        target[item["sku"]] = target.get(item["sku"], 0) + int(item["quantity"])


async def return_facts(uow: UnitOfWork, order: repository.Order) -> domain.ReturnFacts:
    """What the returns rules need to know about an order."""
    conn = uow.conn
    items = await repository.get_items(conn, order.order_id)
    parcels = await repository.get_parcels(conn, order.order_id)
    returns = await repository.get_returns(conn, order.order_id)
    delivered: dict[str, int] = {}
    for parcel in parcels:
        if parcel.delivered_at is not None:
            _sum_units(delivered, parcel.items)
    returned: dict[str, int] = {}
    withdrawn: dict[str, int] = {}
    for ret in returns:
        if ret.status is domain.ReturnStatus.REJECTED:
            continue
        _sum_units(returned, ret.items)  # accepted: on its way back, or back (whatever its state)
        if ret.kind is domain.ReturnKind.WITHDRAWAL and ret.status is domain.ReturnStatus.RECEIVED:
            _sum_units(withdrawn, ret.received_items or [])  # refunded in a withdrawal
    # The ordered items of a reship are not counted twice: delivered units cap at the order.
    delivered = {item.sku: min(delivered.get(item.sku, 0), item.quantity) for item in items}
    progress = [
        domain.ItemProgress(item.sku, item.name, item.quantity, item.handed_off, item.shipped)
        for item in items
    ]
    parcel_states = [
        domain.ParcelState(p.tracking_number, p.picked_up_at, p.delivered_at) for p in parcels
    ]
    return domain.ReturnFacts(
        lines={
            item.sku: domain.OrderLineFacts(
                sku=item.sku,
                name=item.name,
                quantity=item.quantity,
                unit_price=item.unit_price,
                vat_rate=item.vat_rate,
                on_sale=item.on_sale,
            )
            for item in items
        },
        delivered_units=delivered,
        returned_units=returned,
        withdrawal_returned_units=withdrawn,
        fully_delivered=domain.order_fully_delivered(
            progress,
            parcel_states,
            backordered=order.status is domain.OrderStatus.BACKORDERED,
        ),
        last_delivery=order.last_delivered_at,
        shipping_paid=order.shipping_method.price,
        shipping_already_refunded=await repository.shipping_refunded(conn, order.order_id),
    )


def line_json(line: domain.ReturnLine) -> dict[str, Any]:
    return {
        "sku": line.sku,
        "name": line.name,
        "quantity": line.quantity,
        "unit_price": str(line.unit_price),
        "vat_rate": str(line.vat_rate),
    }


# --- A customer's request --------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnOutcome:
    """The return as recorded, and why it was refused (None: accepted)."""

    saved: repository.Return
    refusal: domain.ReturnRefusal | None


async def request_return(
    ctx: Context,
    who: Principal,
    order_id: UUID,
    requested: list[tuple[str, int]],
    *,
    items_unused: bool,
) -> ReturnOutcome:
    """Accept (ReturnAccepted, with instructions) or refuse (ReturnRejected) a return request;
    either way it is recorded and the customer told."""
    now = ctx.clock()
    return_id = uuid4()
    async with ctx.runtime.messaging.transaction() as uow:
        order = await visible_order(uow.conn, order_id, who, for_update=True)
        decision = domain.decide_return(
            await return_facts(uow, order),
            requested,
            items_unused=items_unused,
            today=domain.paris_date(now),
            return_id=str(return_id),
            policy=ctx.returns,
        )
        if isinstance(decision, domain.ReturnAcceptance):
            await _accept(uow, order, return_id, decision, now)
        else:
            await _refuse(uow, order, return_id, decision, now)
        saved = await repository.get_return(uow.conn, return_id)
    assert saved is not None
    if isinstance(decision, domain.ReturnRefusal):
        log.info("return_rejected", order_id=str(order_id), reason=decision.reason.value)
        return ReturnOutcome(saved, decision)
    log.info("return_accepted", order_id=str(order_id), return_id=str(return_id))
    return ReturnOutcome(saved, None)


async def _accept(
    uow: UnitOfWork,
    order: repository.Order,
    return_id: UUID,
    decision: domain.ReturnAcceptance,
    now: datetime,
) -> None:
    await repository.insert_return(
        uow.conn,
        return_id=return_id,
        order_id=order.order_id,
        status=domain.ReturnStatus.ACCEPTED,
        kind=decision.kind,
        items=[line_json(line) for line in decision.lines],
        rejection_reason=None,
        message=decision.instructions,
        send_before=decision.send_before,
        expected_refund=decision.expected_refund,
        shipping_refund=decision.shipping_refund,
        requested_at=now,
    )
    await uow.publish(
        ReturnAccepted(
            order_id=order.order_id,
            order_number=order.order_number,
            customer=order.contact,
            return_id=return_id,
            items=tuple(
                ReturnItem(
                    sku=line.sku, name=line.name, quantity=line.quantity, unit_price=line.unit_price
                )
                for line in decision.lines
            ),
            instructions=decision.instructions,
            send_before=decision.send_before,
            expected_refund=decision.expected_refund,
        )
    )


async def _refuse(
    uow: UnitOfWork,
    order: repository.Order,
    return_id: UUID,
    decision: domain.ReturnRefusal,
    now: datetime,
) -> None:
    await repository.insert_return(
        uow.conn,
        return_id=return_id,
        order_id=order.order_id,
        status=domain.ReturnStatus.REJECTED,
        kind=None,
        items=[line_json(line) for line in decision.lines],
        rejection_reason=decision.reason.value,
        message=decision.message,
        send_before=None,
        expected_refund=None,
        shipping_refund=None,
        requested_at=now,
    )
    await _publish_rejected(
        uow, order, return_id, decision.reason, decision.message, decision.lines
    )


async def _publish_rejected(
    uow: UnitOfWork,
    order: repository.Order,
    return_id: UUID,
    reason: ReturnRejectionReason,
    message: str,
    lines: tuple[domain.ReturnLine, ...],
) -> None:
    await uow.publish(
        ReturnRejected(
            order_id=order.order_id,
            order_number=order.order_number,
            customer=order.contact,
            return_id=return_id,
            reason=reason,
            message=message,
            items=tuple(
                ItemQuantity(sku=line.sku, name=line.name, quantity=line.quantity) for line in lines
            ),
        )
    )


# --- The warehouse's receipt -----------------------------------------------------------------


async def receive_return(ctx: Context, event: Envelope[ReturnReceived]) -> None:
    """ReturnReceived: RefundRequested for the items received unused (restocked),
    ReturnRejected for the others; refused if the return is unknown or not expected."""
    report = event.payload
    async with ctx.runtime.messaging.handling(event) as uow:
        if uow.already_processed:
            return
        order = await repository.get_order(uow.conn, report.order_id)
        if order is None:
            unknown = domain.unknown_order(report.order_id)
            await refuse_report(uow, event, unknown, order_id=report.order_id)
            return
        ret = await repository.get_return(uow.conn, report.return_id, for_update=True)
        if ret is not None and ret.order_id != order.order_id:
            ret = None
        refusal = domain.check_return_receipt(
            report.return_id, order.order_number, ret.status if ret else None
        )
        if refusal is not None:
            await refuse_report(uow, event, refusal, order_id=order.order_id)
            return
        assert ret is not None  # check_return_receipt refuses an unknown return
        outcome = domain.settle_received_return(
            [_accepted_line(item) for item in ret.items],
            [
                (i.sku, i.quantity, domain.ReceivedCondition(i.condition.value))
                for i in report.items
            ],
            kind=ret.kind or domain.ReturnKind.WITHDRAWAL,  # an accepted return has its kind
            facts=await return_facts(uow, order),
            policy=ctx.returns,
        )
        if isinstance(outcome, domain.Refusal):
            await refuse_report(uow, event, outcome, order_id=order.order_id)
            return
        await _settle(ctx, uow, order, ret, report, outcome)


def _accepted_line(item: dict[str, Any]) -> domain.ReturnLine:
    return domain.ReturnLine(
        sku=item["sku"],
        name=item["name"],
        quantity=int(item["quantity"]),
        unit_price=Decimal(str(item["unit_price"])),
        vat_rate=Decimal(str(item["vat_rate"])),
    )


async def _settle(
    ctx: Context,
    uow: UnitOfWork,
    order: repository.Order,
    ret: repository.Return,
    report: ReturnReceived,
    outcome: domain.ReceiptOutcome,
) -> None:
    """Record the receipt, refund what came back unused, restock it, refuse the rest."""
    await repository.set_return_received(
        uow.conn,
        ret.return_id,
        received_at=report.received_at,
        received_items=[line_json(line) for line in outcome.refunded],
        refunded_amount=outcome.refund_amount,
    )
    if outcome.refund_amount > 0:
        await publish_refund(
            uow,
            order,
            cause=RefundCause.RETURN,
            reference_id=ret.return_id,
            lines=[
                domain.RefundPart(
                    line.sku, line.name, line.quantity, line.unit_price, line.vat_rate, line.amount
                )
                for line in outcome.refunded
            ],
            shipping_refund=outcome.shipping_refund,
        )
    if outcome.refused:
        await _publish_rejected(
            uow,
            order,
            ret.return_id,
            ReturnRejectionReason.ITEM_USED_OR_DAMAGED,
            domain.USED_ON_RECEIPT_MESSAGE,
            outcome.refused,
        )
    restock = {line.sku: line.quantity for line in outcome.refunded}
    if restock:
        await add_stock(
            uow,
            restock,
            reason="return_restock",
            reference=str(ret.return_id),
            note=f"return of order {order.order_number}",
            now=ctx.clock(),
            policy=ctx.estimates,
        )
    log.info(
        "return_received",
        order_id=str(order.order_id),
        return_id=str(ret.return_id),
        refund=str(outcome.refund_amount),
    )
