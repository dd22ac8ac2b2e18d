"""Event handlers: the "Mes commandes et factures" read model, and accounts' own erasure.

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

import structlog
from jg_events import (
    Backordered,
    CustomerErased,
    CustomerErasureRequested,
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
    Topic,
    topic_name,
)
from jg_events.orders import OrderSnapshot
from jg_messaging import ServiceRuntime, handles, subscribe

from accounts import repository
from accounts.domain import STEP_STATUS, OrderStatus, TimelineStep, next_status, order_email
from accounts.security import Keyring, utcnow

log = structlog.get_logger(__name__)

SERVICE = "accounts"

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
        if account is not None and account["erasure_requested_at"] is not None:
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
    current = OrderStatus(row["status"])
    status = next_status(current, reported)
    changes: dict[str, Any] = {"status": status.value, **(fact.columns or {})}
    if fact.estimate is not None and status == reported:
        changes["delivery_estimate"] = fact.estimate
    snapshot = fact.snapshot
    if snapshot is not None and (row["revision"] is None or snapshot.revision >= row["revision"]):
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


async def erase_customer(
    conn: repository.Conn,
    keyring: Keyring,
    customer_id: UUID,
    now: datetime,
    *,
    email_verified: bool = False,
) -> Any:
    """Erase accounts' personal data of a customer; returns the row as it was (or None).

    The account's orders go (its own, and the guest orders linked to it because it proved the
    address). Guest orders of the address that are linked to no account go too only when the
    erasure says the address was proven (``email_verified``): otherwise the address may be a
    stranger's, and their orders are not the account's to erase.
    """
    row = await repository.customer(conn, customer_id, lock=True)
    if row is None or row["erased_at"] is not None:
        return None
    if row["email"]:
        await repository.forget_attempts(
            conn,
            subject=keyring.subject(row["email"]),
            scopes=["login_email", "reset_email", "signup_email"],
        )
        if email_verified:
            await repository.forget_guest_orders(conn, keyring.guest_email(row["email"]))
    await repository.erase_customer(conn, customer_id, now)
    await repository.forget_sent_events(conn, str(customer_id))
    return row


def register_handlers(runtime: ServiceRuntime, keyring: Keyring) -> None:
    # One subscriber (one member of the "accounts" group) over every topic accounts reads.
    events = subscribe(
        runtime.broker,
        Topic.CHECKOUT_ORDERS,
        Topic.PAYMENT_PAYMENTS,
        Topic.LOGISTICS_REQUESTS,
        Topic.FULFILLMENT_ORDERS,
        Topic.ACCOUNTS_CUSTOMERS,
        service=SERVICE,
        topic_prefix=runtime.settings.platform.topic_prefix,
    )

    async def record(event: Envelope[Any]) -> None:
        async with runtime.messaging.handling(event) as uow:
            if uow.already_processed:
                return
            await apply_order_fact(uow.conn, keyring, event, order_fact(event))

    orders = events

    @orders(filter=handles(OrderPlaced))
    async def on_order_placed(event: Envelope[OrderPlaced]) -> None:
        await record(event)

    @orders(filter=handles(OrderConfirmed))
    async def on_order_confirmed(event: Envelope[OrderConfirmed]) -> None:
        await record(event)

    @orders(filter=handles(OrderModified))
    async def on_order_modified(event: Envelope[OrderModified]) -> None:
        await record(event)

    @orders(filter=handles(OrderReleased))
    async def on_order_released(event: Envelope[OrderReleased]) -> None:
        await record(event)

    @orders(filter=handles(OrderCancelled))
    async def on_order_cancelled(event: Envelope[OrderCancelled]) -> None:
        await record(event)

    payments = events

    @payments(filter=handles(PaymentRefused))
    async def on_payment_refused(event: Envelope[PaymentRefused]) -> None:
        await record(event)

    @payments(filter=handles(InvoiceIssued))
    async def on_invoice_issued(event: Envelope[InvoiceIssued]) -> None:
        await record(event)

    @payments(filter=handles(RefundIssued))
    async def on_refund_issued(event: Envelope[RefundIssued]) -> None:
        await record(event)

    logistics = events

    @logistics(filter=handles(OrderProcessing))
    async def on_order_processing(event: Envelope[OrderProcessing]) -> None:
        await record(event)

    fulfillment = events

    @fulfillment(filter=handles(Backordered))
    async def on_backordered(event: Envelope[Backordered]) -> None:
        await record(event)

    @fulfillment(filter=handles(Shipped))
    async def on_shipped(event: Envelope[Shipped]) -> None:
        await record(event)

    @fulfillment(filter=handles(Delivered))
    async def on_delivered(event: Envelope[Delivered]) -> None:
        await record(event)

    customers = events

    @customers(filter=handles(CustomerErasureRequested))
    async def on_customer_erasure_requested(event: Envelope[CustomerErasureRequested]) -> None:
        """Erase accounts' own data, then announce CustomerErased (the last use of the email).

        The request goes on the erasure list first (to be applied again after a restore). A
        request already on the list (imported after a restore of this database, then
        published again) erases again without a second announcement."""
        async with runtime.messaging.handling(event) as uow:
            if uow.already_processed:
                return
            now = utcnow()
            topic = topic_name(Topic.ACCOUNTS_CUSTOMERS, runtime.settings.platform.topic_prefix)
            first_time = await repository.record_erasure_request(uow.conn, event, topic)
            row = await erase_customer(
                uow.conn,
                keyring,
                event.payload.customer_id,
                now,
                email_verified=event.payload.email_verified,
            )
            if row is None or not first_time:
                return
            await uow.publish(
                CustomerErased(
                    customer_id=row["id"],
                    customer_number=row["customer_number"],
                    email=event.payload.email,
                    first_name=event.payload.first_name,
                    erased_at=now,
                )
            )
            log.info("customer_erased", customer_id=str(row["id"]))

    @customers(filter=handles(CustomerErased))
    async def on_customer_erased(event: Envelope[CustomerErased]) -> None:
        """CustomerErased is out: forget it (and every event of the customer) in the outbox."""
        async with runtime.messaging.handling(event) as uow:
            if uow.already_processed:
                return
            await repository.forget_sent_events(uow.conn, str(event.payload.customer_id))
