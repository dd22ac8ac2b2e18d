"""Event handlers: each ``on_<event>`` translates nothing and calls one use case.

The table :data:`HANDLERS` is registered once by ``app.py`` through
:func:`jg_messaging.register_handlers`: one subscriber (one member of the ``accounts`` consumer
group) over every topic accounts reads.
"""

from __future__ import annotations

from typing import Any

from jg_events import (
    Backordered,
    CustomerErased,
    CustomerErasureRequested,
    Delivered,
    Envelope,
    Event,
    InvoiceIssued,
    OrderCancelled,
    OrderConfirmed,
    OrderModified,
    OrderPlaced,
    OrderProcessing,
    OrderReleased,
    PaymentRefused,
    RefundIssued,
    Shipped,
)
from jg_messaging import Handler

from accounts.context import Context
from accounts.usecases import erasure, order_history

SERVICE = "accounts"
TITLE = "accounts inputs"
DESCRIPTION = (
    "Order, payment, logistics and fulfillment events (jg.checkout.orders, jg.payment.payments, "
    "jg.logistics.requests, jg.fulfillment.orders) feed the customers' order history; erasure "
    "requests (jg.accounts.customers) erase accounts' own data."
)


async def on_order_event(ctx: Context, envelope: Envelope[Any]) -> None:
    """Record the order's step in the customer's history (status, content, invoices)."""
    await order_history.record_order_event(ctx, envelope)


async def on_customer_erasure_requested(
    ctx: Context, envelope: Envelope[CustomerErasureRequested]
) -> None:
    """Erase accounts' own data, then announce CustomerErased."""
    await erasure.apply_erasure_request(ctx, envelope)


async def on_customer_erased(ctx: Context, envelope: Envelope[CustomerErased]) -> None:
    """Forget the customer's events in the outbox."""
    await erasure.forget_erased_events(ctx, envelope)


ORDER_EVENTS: tuple[type[Event], ...] = (
    OrderPlaced,
    OrderConfirmed,
    OrderModified,
    OrderReleased,
    OrderCancelled,
    PaymentRefused,
    InvoiceIssued,
    RefundIssued,
    OrderProcessing,
    Backordered,
    Shipped,
    Delivered,
)

HANDLERS: dict[type[Event], Handler[Context]] = {
    **dict.fromkeys(ORDER_EVENTS, on_order_event),
    CustomerErasureRequested: on_customer_erasure_requested,
    CustomerErased: on_customer_erased,
}
