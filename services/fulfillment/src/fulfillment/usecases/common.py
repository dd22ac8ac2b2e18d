"""Steps several use cases share: the caller's view of an order, refused reports, refunds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import asyncpg
import structlog
from jg_auth import Customer, Principal
from jg_events import Envelope, RefundCause, RefundLine, RefundRequested
from jg_messaging import UnitOfWork

from fulfillment import domain, repository
from fulfillment.usecases.errors import order_not_found

log = structlog.get_logger(__name__)

REFUND_NAMESPACE = uuid5(NAMESPACE_URL, "https://www.japangoodz.com/fulfillment/refunds")


def may_see(who: Principal, order: repository.Order) -> bool:
    """The storefront acts for any customer; a customer sees their own orders only."""
    if isinstance(who, Customer):
        return order.customer_id is not None and who.customer_id == order.customer_id
    return True


async def visible_order(
    conn: asyncpg.Connection, order_id: UUID, who: Principal, *, for_update: bool = False
) -> repository.Order:
    """The order, if the caller may see it; else 404 (another customer's order is unknown)."""
    order = await repository.get_order(conn, order_id, for_update=for_update)
    if order is None or not may_see(who, order):
        raise order_not_found()
    return order


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


def refund_request_id(cause: RefundCause, reference_id: UUID) -> UUID:
    """Deterministic: one refund request per return or claim (payment's idempotency key)."""
    return uuid5(REFUND_NAMESPACE, f"{cause.value}:{reference_id}")


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
        cause=cause,
        reference_id=reference_id,
        lines=[line.model_dump(mode="json") for line in event.lines],
        shipping_refund=shipping_refund,
        amount=amount,
    )
    await uow.publish(event)
    return event
