"""The "Mes commandes et factures" read model: each order event, applied once.

Order events come from four topics, so one order's events may arrive in any order: every event
upserts the order (each carries the customer id and the order number), the status only moves
forward (:func:`accounts.domain.next_status`), and the order's content is the snapshot with the
highest revision. Orders of erased customers are ignored.

A guest's order (no customer id) is kept with a keyed hash of its address, never the address.
It belongs to the account that has *proven* it owns that address (a link sent to it was
followed) and to no other: linked on arrival when such an account exists, else when an account
proves the address later (``repository.link_guest_orders``, in the verification's transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from jg_events import (
    Backordered,
    Delivered,
    Envelope,
    InvoiceIssued,
    InvoiceKind,
    OrderCancelled,
    OrderConfirmed,
    OrderEvent,
    OrderModified,
    OrderPlaced,
    OrderProcessing,
    OrderReleased,
    PaymentRefused,
    RefundIssued,
    Shipped,
)
from jg_events.orders import OrderSnapshot

from accounts import repository
from accounts.context import Context
from accounts.domain import STEP_STATUS, OrderStatus, TimelineStep, next_status, order_email
from accounts.security import Keyring

STEP_STATUS_LOWER_BOUND: dict[TimelineStep, OrderStatus] = {
    **STEP_STATUS,
    # Steps that do not report a status still tell where the order is at least.
    TimelineStep.MODIFIED: OrderStatus.CONFIRMED,
    TimelineStep.INVOICE_ISSUED: OrderStatus.SHIPPED,
    TimelineStep.CREDIT_NOTE_ISSUED: OrderStatus.SHIPPED,
    TimelineStep.REFUNDED: OrderStatus.SHIPPED,
}


@dataclass(frozen=True)
class OrderFact:
    """What one order event tells the read model (translated from the event)."""

    step: TimelineStep
    at: datetime
    detail: dict[str, Any] | None = None
    snapshot: OrderSnapshot | None = None
    columns: dict[str, Any] | None = None  # always set (tracking, delivery)
    estimate: dict[str, str] | None = None  # set when no more advanced event was seen
    invoice: dict[str, Any] | None = None


def _content(snapshot: OrderSnapshot) -> dict[str, Any]:
    return {
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                "line_total": str(line.line_total),
            }
            for line in snapshot.lines
        ],
        "totals": {
            "subtotal": str(snapshot.totals.subtotal),
            "shipping": str(snapshot.totals.shipping),
            "total": str(snapshot.totals.total),
            "vat": str(snapshot.totals.vat),
        },
        "shipping_method": snapshot.shipping_method.label,
        "payment_method_type": snapshot.payment_method_type.value,
    }


def _estimate(event: Any) -> dict[str, str]:
    estimate = event.delivery_estimate
    return {"earliest": estimate.earliest.isoformat(), "latest": estimate.latest.isoformat()}


def _shipped(e: Shipped) -> OrderFact:
    return OrderFact(
        TimelineStep.SHIPPED,
        e.shipped_at,
        detail={"carrier": e.carrier.value, "tracking_number": e.tracking_number},
        columns={
            "carrier": e.carrier.value,
            "tracking_number": e.tracking_number,
            "tracking_url": e.tracking_url,
            "shipped_at": e.shipped_at,
        },
        estimate=_estimate(e),
    )


def _invoice_issued(e: InvoiceIssued, at: datetime) -> OrderFact:
    credit = e.kind is InvoiceKind.CREDIT_NOTE
    return OrderFact(
        TimelineStep.CREDIT_NOTE_ISSUED if credit else TimelineStep.INVOICE_ISSUED,
        at,
        detail={"invoice_number": e.invoice_number},
        invoice={
            "invoice_number": e.invoice_number,
            "kind": e.kind.value,
            "corrects_invoice_number": e.corrects_invoice_number,
            "issue_date": e.issue_date,
            "total_excl_vat": e.total_excl_vat,
            "total_vat": e.total_vat,
            "total_incl_vat": e.total_incl_vat,
            "download_path": e.download_path,
        },
    )


def order_fact(envelope: Envelope[Any]) -> OrderFact:
    """Translate an order event into what the history keeps (no names, emails or addresses)."""
    at = envelope.occurred_at
    match envelope.payload:
        case OrderPlaced() as e:
            return OrderFact(TimelineStep.PLACED, e.placed_at, snapshot=e)
        case OrderConfirmed() as e:
            return OrderFact(TimelineStep.CONFIRMED, at, snapshot=e, estimate=_estimate(e))
        case OrderModified() as e:
            return OrderFact(TimelineStep.MODIFIED, at, snapshot=e)
        case OrderReleased() as e:
            return OrderFact(TimelineStep.RELEASED, at, snapshot=e, estimate=_estimate(e))
        case OrderCancelled() as e:
            return OrderFact(TimelineStep.CANCELLED, at, detail={"reason": e.reason.value})
        case PaymentRefused() as e:
            return OrderFact(TimelineStep.PAYMENT_REFUSED, at, detail={"reason": e.reason.value})
        case OrderProcessing() as e:
            return OrderFact(TimelineStep.PROCESSING, at, estimate=_estimate(e))
        case Backordered() as e:
            items = [line.name for line in e.missing_lines]
            return OrderFact(
                TimelineStep.BACKORDERED, at, detail={"items": items}, estimate=_estimate(e)
            )
        case Shipped() as e:
            return _shipped(e)
        case Delivered() as e:
            return OrderFact(
                TimelineStep.DELIVERED,
                e.delivered_at,
                columns={
                    "delivered_at": e.delivered_at,
                    "withdrawal_deadline": e.withdrawal_deadline,
                },
            )
        case InvoiceIssued() as e:
            return _invoice_issued(e, at)
        case RefundIssued() as e:
            return OrderFact(TimelineStep.REFUNDED, at, detail={"amount": str(e.amount)})
    raise TypeError(f"not an order-history event: {envelope.type}")


async def apply_order_fact(
    conn: repository.Conn, keyring: Keyring, event: Envelope[Any], fact: OrderFact
) -> None:
    payload: OrderEvent = event.payload
    customer_id: UUID | None = payload.customer.customer_id
    guest_email_hash: bytes | None = None
    if customer_id is None:
        # A guest: the order is the account's only once the account proved the address.
        email = order_email(payload.customer.email)
        guest_email_hash = keyring.guest_email(email)
        await repository.lock_guest_email(conn, guest_email_hash)
        customer_id = await repository.verified_owner_of(conn, email)
    else:
        account = await repository.customer(conn, customer_id)
        if account is not None and account.erasure_requested_at is not None:
            return  # erased, or being erased: keep nothing
    reported = STEP_STATUS_LOWER_BOUND[fact.step]
    await repository.insert_order(
        conn,
        order_id=payload.order_id,
        customer_id=customer_id,
        order_number=payload.order_number,
        status=reported.value,
        guest_email_hash=guest_email_hash,
    )
    row = await repository.order_for_update(conn, payload.order_id)
    assert row is not None
    current = OrderStatus(row.status)
    status = next_status(current, reported)
    changes: dict[str, Any] = {"status": status.value, **(fact.columns or {})}
    if fact.estimate is not None and status == reported:
        changes["delivery_estimate"] = fact.estimate
    snapshot = fact.snapshot
    if snapshot is not None and (row.revision is None or snapshot.revision >= row.revision):
        changes.update(
            {
                "revision": snapshot.revision,
                "placed_at": snapshot.placed_at,
                "content": _content(snapshot),
            }
        )
    await repository.update_order(conn, payload.order_id, changes)
    await repository.add_timeline(
        conn,
        event_id=event.event_id,
        order_id=payload.order_id,
        step=fact.step.value,
        at=fact.at,
        detail=fact.detail,
    )
    if fact.invoice is not None:
        await repository.add_invoice(conn, payload.order_id, fact.invoice)


async def record_order_event(ctx: Context, envelope: Envelope[Any]) -> None:
    """Apply an order event to the customer's history, once (inbox), in one transaction."""
    async with ctx.runtime.messaging.handling(envelope) as uow:
        if uow.already_processed:
            return
        await apply_order_fact(uow.conn, ctx.keyring, envelope, order_fact(envelope))
