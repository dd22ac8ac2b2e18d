"""Event handlers: released orders (checkout), the logistics team's reports, erasure requests.

Each ``on_<event>`` runs in one unit of work (inbox + state + outbox). A logistics report that
cannot be applied (unknown order, out of sequence) is *refused*: recorded in
``rejected_reports`` with its reason and logged as ``logistics_report_rejected``, never applied.
It does not go to the dead-letter topic: that topic holds messages the service failed to
handle (unreadable, or a handler that kept failing) and that an operator may replay after a
fix; a refused report was handled (the refusal is the outcome) and replaying it changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog
from jg_events import (
    CustomerErasureRequested,
    Delivered,
    Envelope,
    ItemQuantity,
    OrderReleased,
    ParcelDelivered,
    ParcelPickedUp,
    RefundCause,
    RefundLine,
    RefundRequested,
    ReturnReceived,
    ReturnRejected,
    ReturnRejectionReason,
    Shipped,
    StockReplenished,
    Topic,
)
from jg_messaging import ServiceRuntime, UnitOfWork, handles, subscribe

from fulfillment import domain, operations, repository
from fulfillment.settings import FulfillmentSettings

log = structlog.get_logger(__name__)

SERVICE = "fulfillment"
REFUND_NAMESPACE = uuid5(NAMESPACE_URL, "https://www.japangoodz.com/fulfillment/refunds")


@dataclass(frozen=True)
class Context:
    """What handlers and routes share: the runtime, the policies and the clock."""

    runtime: ServiceRuntime
    settings: FulfillmentSettings
    clock: Callable[[], datetime]

    @property
    def estimates(self) -> domain.EstimatePolicy:
        return self.settings.estimate_policy()

    @property
    def returns(self) -> domain.ReturnPolicy:
        return self.settings.return_policy()


def refund_request_id(cause: RefundCause, reference_id: UUID) -> UUID:
    """Deterministic: one refund request per return or claim (payment's idempotency key)."""
    return uuid5(REFUND_NAMESPACE, f"{cause.value}:{reference_id}")


async def refuse_report(
    uow: UnitOfWork,
    event: Envelope[Any],
    refusal: domain.Refusal,
    *,
    order_id: UUID | None = None,
    sku: str | None = None,
) -> None:
    """Record a refused logistics report (never applied) and say so in the log."""
    await repository.record_rejected_report(
        uow.conn,
        event_id=event.event_id,
        event_type=event.type,
        order_id=order_id,
        sku=sku,
        reason=refusal.reason.value,
        detail=refusal.detail,
        payload=event.model_dump_json(),
    )
    log.warning(
        "logistics_report_rejected",
        reason=refusal.reason.value,
        detail=refusal.detail,
        report_type=event.type,
        report_event_id=str(event.event_id),
        order_id=str(order_id) if order_id else None,
        sku=sku,
    )


async def return_facts(uow: UnitOfWork, order: repository.Order) -> domain.ReturnFacts:
    """What the returns rules need to know about an order."""
    conn = uow.conn
    items = await repository.get_items(conn, order.order_id)
    parcels = await repository.get_parcels(conn, order.order_id)
    returns = await repository.get_returns(conn, order.order_id)
    delivered: dict[str, int] = {}
    for parcel in parcels:
        if parcel.delivered_at is None:
            continue
        for item in parcel.items:
            delivered[item["sku"]] = delivered.get(item["sku"], 0) + int(item["quantity"])
    returned: dict[str, int] = {}
    withdrawn: dict[str, int] = {}
    for ret in returns:
        if ret.status == "rejected":
            continue
        for item in ret.items:  # accepted: on its way back, or back (whatever its state)
            returned[item["sku"]] = returned.get(item["sku"], 0) + int(item["quantity"])
        if ret.kind == domain.ReturnKind.WITHDRAWAL and ret.status == "received":
            for item in ret.received_items or []:  # refunded in a withdrawal
                withdrawn[item["sku"]] = withdrawn.get(item["sku"], 0) + int(item["quantity"])
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
            progress, parcel_states, backordered=order.status == "backordered"
        ),
        last_delivery=order.last_delivered_at,
        shipping_paid=order.shipping_method.price,
        shipping_already_refunded=await repository.shipping_refunded(conn, order.order_id),
    )


# --- Handlers --------------------------------------------------------------------------------


async def on_order_released(ctx: Context, event: Envelope[OrderReleased]) -> None:
    async with ctx.runtime.messaging.handling(event) as uow:
        if uow.already_processed:
            return
        await operations.hand_off(
            uow,
            event.payload,
            released_at=event.occurred_at,
            now=ctx.clock(),
            policy=ctx.estimates,
        )


async def on_parcel_picked_up(ctx: Context, event: Envelope[ParcelPickedUp]) -> None:
    report = event.payload
    async with ctx.runtime.messaging.handling(event) as uow:
        if uow.already_processed:
            return
        conn = uow.conn
        order = await repository.get_order(conn, report.order_id, for_update=True)
        if order is None:
            refusal = domain.Refusal(
                domain.ReportRefusal.UNKNOWN_ORDER, f"no order {report.order_id} was handed off"
            )
            await refuse_report(uow, event, refusal, order_id=report.order_id)
            return
        items = await repository.get_items(conn, order.order_id)
        parcels = await repository.get_parcels(conn, order.order_id)
        progress = {
            i.sku: domain.ItemProgress(i.sku, i.name, i.quantity, i.handed_off, i.shipped)
            for i in items
        }
        parcel_items = [(item.sku, item.quantity) for item in report.items]
        refusal = domain.check_pick_up(
            order_status=order.status,
            items=progress,
            parcels={
                p.tracking_number: domain.ParcelState(p.tracking_number, p.picked_up_at, None)
                for p in parcels
            },
            tracking_number=report.tracking_number,
            parcel_items=parcel_items,
            picked_up_at=report.picked_up_at,
            now=ctx.clock(),
        )
        if refusal is not None:
            await refuse_report(uow, event, refusal, order_id=order.order_id)
            return
        number = domain.normalise_tracking_number(report.tracking_number)
        assert number is not None
        url = domain.tracking_url(report.carrier, number)
        quantities = domain.aggregate_demand(parcel_items)
        for sku, quantity in sorted(quantities.items()):
            await repository.change_on_hand(
                conn,
                sku,
                -quantity,
                reason="shipment",
                reference=f"{order.order_number} {number}",
                release_reserved=quantity,
            )
        await repository.ship_items(conn, order.order_id, quantities)
        await repository.insert_parcel(
            conn,
            order.order_id,
            tracking_number=number,
            carrier=report.carrier.value,
            tracking_url=url,
            items=[{"sku": sku, "quantity": q} for sku, q in sorted(quantities.items())],
            picked_up_at=report.picked_up_at,
        )
        await repository.set_order_status(conn, order.order_id, "shipped", ctx.clock())
        await uow.publish(
            Shipped(
                order_id=order.order_id,
                order_number=order.order_number,
                customer=order.contact,
                carrier=report.carrier,
                tracking_number=number,
                tracking_url=url,
                items=tuple(
                    ItemQuantity(sku=sku, name=progress[sku].name, quantity=quantity)
                    for sku, quantity in sorted(quantities.items())
                ),
                shipped_at=report.picked_up_at,
                delivery_estimate=domain.transit_estimate(report.carrier, report.picked_up_at),
            )
        )
        log.info("parcel_shipped", order_id=str(order.order_id), tracking_number=number)


async def on_parcel_delivered(ctx: Context, event: Envelope[ParcelDelivered]) -> None:
    report = event.payload
    async with ctx.runtime.messaging.handling(event) as uow:
        if uow.already_processed:
            return
        conn = uow.conn
        order = await repository.get_order(conn, report.order_id, for_update=True)
        if order is None:
            refusal = domain.Refusal(
                domain.ReportRefusal.UNKNOWN_ORDER, f"no order {report.order_id} was handed off"
            )
            await refuse_report(uow, event, refusal, order_id=report.order_id)
            return
        parcels = await repository.get_parcels(conn, order.order_id)
        states = {
            p.tracking_number: domain.ParcelState(p.tracking_number, p.picked_up_at, p.delivered_at)
            for p in parcels
        }
        refusal = domain.check_delivery(
            parcels=states,
            tracking_number=report.tracking_number,
            delivered_at=report.delivered_at,
            now=ctx.clock(),
        )
        if refusal is not None:
            await refuse_report(uow, event, refusal, order_id=order.order_id)
            return
        number = domain.normalise_tracking_number(report.tracking_number)
        assert number is not None
        await repository.set_parcel_delivered(conn, order.order_id, number, report.delivered_at)
        states[number] = domain.ParcelState(
            number, states[number].picked_up_at, report.delivered_at
        )
        items = await repository.get_items(conn, order.order_id)
        progress = [
            domain.ItemProgress(i.sku, i.name, i.quantity, i.handed_off, i.shipped) for i in items
        ]
        if not domain.order_fully_delivered(
            progress, states.values(), backordered=order.status == "backordered"
        ):
            log.info("parcel_delivered_order_incomplete", order_id=str(order.order_id))
            return
        last = max(s.delivered_at for s in states.values() if s.delivered_at is not None)
        deadline = domain.withdrawal_deadline(last)
        await repository.set_delivered(conn, order.order_id, last, deadline, ctx.clock())
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


async def on_return_received(ctx: Context, event: Envelope[ReturnReceived]) -> None:
    report = event.payload
    async with ctx.runtime.messaging.handling(event) as uow:
        if uow.already_processed:
            return
        conn = uow.conn
        order = await repository.get_order(conn, report.order_id)
        if order is None:
            refusal = domain.Refusal(
                domain.ReportRefusal.UNKNOWN_ORDER, f"no order {report.order_id} was handed off"
            )
            await refuse_report(uow, event, refusal, order_id=report.order_id)
            return
        ret = await repository.get_return(conn, report.return_id, for_update=True)
        if ret is None or ret.order_id != order.order_id:
            refusal = domain.Refusal(
                domain.ReportRefusal.UNKNOWN_RETURN,
                f"no return {report.return_id} for order {order.order_number}",
            )
            await refuse_report(uow, event, refusal, order_id=order.order_id)
            return
        if ret.status != "accepted":
            refusal = domain.Refusal(
                domain.ReportRefusal.RETURN_NOT_EXPECTED,
                f"return {ret.return_id} is {ret.status}, not awaiting the items",
            )
            await refuse_report(uow, event, refusal, order_id=order.order_id)
            return
        facts = await return_facts(uow, order)
        accepted = [
            domain.ReturnLine(
                sku=i["sku"],
                name=i["name"],
                quantity=int(i["quantity"]),
                unit_price=Decimal(str(i["unit_price"])),
                vat_rate=Decimal(str(i["vat_rate"])),
            )
            for i in ret.items
        ]
        outcome = domain.settle_received_return(
            accepted,
            [
                (i.sku, i.quantity, domain.ReceivedCondition(i.condition.value))
                for i in report.items
            ],
            kind=domain.ReturnKind(ret.kind),
            facts=facts,
            policy=ctx.returns,
        )
        if isinstance(outcome, domain.Refusal):
            await refuse_report(uow, event, outcome, order_id=order.order_id)
            return
        await repository.set_return_received(
            conn,
            ret.return_id,
            received_at=report.received_at,
            received_items=[_line_json(line) for line in outcome.refunded],
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
                        line.sku,
                        line.name,
                        line.quantity,
                        line.unit_price,
                        line.vat_rate,
                        line.amount,
                    )
                    for line in outcome.refunded
                ],
                shipping_refund=outcome.shipping_refund,
            )
        if outcome.refused:
            await uow.publish(
                ReturnRejected(
                    order_id=order.order_id,
                    order_number=order.order_number,
                    customer=order.contact,
                    return_id=ret.return_id,
                    reason=ReturnRejectionReason.ITEM_USED_OR_DAMAGED,
                    message=domain.USED_ON_RECEIPT_MESSAGE,
                    items=tuple(
                        ItemQuantity(sku=line.sku, name=line.name, quantity=line.quantity)
                        for line in outcome.refused
                    ),
                )
            )
        restock = {line.sku: line.quantity for line in outcome.refunded}
        if restock:
            await operations.add_stock(
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


def _line_json(line: domain.ReturnLine) -> dict[str, Any]:
    return {
        "sku": line.sku,
        "name": line.name,
        "quantity": line.quantity,
        "unit_price": str(line.unit_price),
        "vat_rate": str(line.vat_rate),
    }


async def publish_refund(
    uow: UnitOfWork,
    order: repository.Order,
    *,
    cause: RefundCause,
    reference_id: UUID,
    lines: list[domain.RefundPart],
    shipping_refund: Decimal,
) -> RefundRequested:
    """Record and publish a refund request for payment."""
    request_id = refund_request_id(cause, reference_id)
    amount = sum((line.amount for line in lines), domain.ZERO) + shipping_refund
    event = RefundRequested(
        order_id=order.order_id,
        order_number=order.order_number,
        customer=order.contact,
        refund_request_id=request_id,
        cause=cause,
        reference_id=reference_id,
        lines=tuple(
            RefundLine(
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                vat_rate=line.vat_rate,
                amount=line.amount,
            )
            for line in lines
        ),
        shipping_refund=shipping_refund,
        amount=amount,
    )
    await repository.insert_refund_request(
        uow.conn,
        refund_request_id=request_id,
        order_id=order.order_id,
        cause=cause.value,
        reference_id=reference_id,
        lines=[line.model_dump(mode="json") for line in event.lines],
        shipping_refund=shipping_refund,
        amount=amount,
    )
    await uow.publish(event)
    return event


async def on_stock_replenished(ctx: Context, event: Envelope[StockReplenished]) -> None:
    report = event.payload
    async with ctx.runtime.messaging.handling(event) as uow:
        if uow.already_processed:
            return
        if await repository.get_product(uow.conn, report.sku) is None:
            refusal = domain.Refusal(
                domain.ReportRefusal.UNKNOWN_SKU,
                f"sku {report.sku} is not in the stock; an operator adds it with "
                "PUT /operator/stock/{sku}",
            )
            await refuse_report(uow, event, refusal, sku=report.sku)
            return
        resumed = await operations.add_stock(
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


async def on_customer_erasure_requested(
    ctx: Context, event: Envelope[CustomerErasureRequested]
) -> None:
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


# --- Wiring ----------------------------------------------------------------------------------


CONSUMED = (Topic.CHECKOUT_ORDERS, Topic.LOGISTICS_REPORTS, Topic.ACCOUNTS_CUSTOMERS)


def register_handlers(ctx: Context) -> None:
    """Fulfillment's subscriber: one consumer (group ``fulfillment``) for the three topics."""
    events = subscribe(
        ctx.runtime.broker,
        *CONSUMED,
        service=SERVICE,
        topic_prefix=ctx.settings.platform.topic_prefix,
        title="fulfillment inputs",
        description="Released orders (jg.checkout.orders), the logistics team's reports "
        "(jg.logistics.reports: parcels picked up and delivered, returns received, stock "
        "replenished) and erasure requests (jg.accounts.customers). A report that does not "
        "validate goes to jg.fulfillment.dead-letter; one for an unknown order or out of "
        "sequence is refused and recorded (GET /operator/rejected-reports).",
    )
    orders = reports = customers = events

    @orders(filter=handles(OrderReleased))
    async def order_released(event: Envelope[OrderReleased]) -> None:
        """Reserve the order's stock: OrderProcessing (to logistics) or Backordered."""
        await on_order_released(ctx, event)

    @reports(filter=handles(ParcelPickedUp))
    async def parcel_picked_up(event: Envelope[ParcelPickedUp]) -> None:
        """A carrier took a parcel: Shipped, with the carrier's tracking link."""
        await on_parcel_picked_up(ctx, event)

    @reports(filter=handles(ParcelDelivered))
    async def parcel_delivered(event: Envelope[ParcelDelivered]) -> None:
        """A parcel was delivered: Delivered once every item is (withdrawal starts)."""
        await on_parcel_delivered(ctx, event)

    @reports(filter=handles(ReturnReceived))
    async def return_received(event: Envelope[ReturnReceived]) -> None:
        """A return arrived: RefundRequested for unused items, ReturnRejected for the rest."""
        await on_return_received(ctx, event)

    @reports(filter=handles(StockReplenished))
    async def stock_replenished(event: Envelope[StockReplenished]) -> None:
        """Stock arrived: on hand increases, backorders resume oldest first."""
        await on_stock_replenished(ctx, event)

    @customers(filter=handles(CustomerErasureRequested))
    async def customer_erasure_requested(event: Envelope[CustomerErasureRequested]) -> None:
        """GDPR erasure: pseudonymise the customer's orders, erase claim photos and texts."""
        await on_customer_erasure_requested(ctx, event)
