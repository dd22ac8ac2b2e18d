"""Event handlers: the order's events (checkout), its shipment (fulfillment), refund requests
and erasure requests.

Each ``on_<event>(ctx, envelope)`` calls one use case, which records what the order needs in
the event's unit of work (inbox + state + outbox) and then makes the Stripe calls outside any
transaction. ``HANDLERS`` maps each event type consumed to its handler; ``app.py`` registers
the table with ``jg_messaging.register_handlers``.
"""

from __future__ import annotations

from jg_events import (
    CustomerErasureRequested,
    Envelope,
    Event,
    OrderCancelled,
    OrderModified,
    OrderPlaced,
    OrderReleased,
    RefundRequested,
    Shipped,
)
from jg_messaging import Handler

from payment.context import SERVICE, Context
from payment.usecases import erasure, invoices, orders, refunds

__all__ = ["DESCRIPTION", "HANDLERS", "SERVICE", "Context"]


async def on_order_placed(ctx: Context, envelope: Envelope[OrderPlaced]) -> None:
    """Authorise the order's total (a manual-capture PaymentIntent)."""
    await orders.authorize_placed_order(ctx, envelope)


async def on_order_modified(ctx: Context, envelope: Envelope[OrderModified]) -> None:
    """A new total needs a new authorisation; the old hold goes once it is granted."""
    await orders.authorize_modification(ctx, envelope)


async def on_order_cancelled(ctx: Context, envelope: Envelope[OrderCancelled]) -> None:
    """Release every hold of the order (nothing was captured: nothing is refunded)."""
    await orders.cancel_order(ctx, envelope)


async def on_order_released(ctx: Context, envelope: Envelope[OrderReleased]) -> None:
    """Capture the held amount (capture does not wait for stock: a hold lasts ~7 days)."""
    await orders.capture_released_order(ctx, envelope)


async def on_refund_requested(ctx: Context, envelope: Envelope[RefundRequested]) -> None:
    """Refund the amount from the captured payment, once per refund request."""
    await refunds.request_refund(ctx, envelope)


async def on_shipped(ctx: Context, envelope: Envelope[Shipped]) -> None:
    """Issue the order's invoice (next number of the series, PDF stored) and announce it."""
    await invoices.invoice_shipped_order(ctx, envelope)


async def on_customer_erasure_requested(
    ctx: Context, envelope: Envelope[CustomerErasureRequested]
) -> None:
    """Pseudonymise the customer in orders (the account's; guest orders with its address
    only when proven); invoices stay as issued (legal obligation)."""
    await erasure.erase_customer(ctx, envelope)


HANDLERS: dict[type[Event], Handler[Context]] = {
    OrderPlaced: on_order_placed,
    OrderModified: on_order_modified,
    OrderCancelled: on_order_cancelled,
    OrderReleased: on_order_released,
    RefundRequested: on_refund_requested,
    Shipped: on_shipped,
    CustomerErasureRequested: on_customer_erasure_requested,
}
"""What payment consumes, registered by ``app.py`` with jg_messaging's register_handlers:
one subscriber (group ``payment``) over jg.checkout.orders, jg.fulfillment.orders and
jg.accounts.customers."""

DESCRIPTION = (
    "The order's life (jg.checkout.orders: placed, modified, cancelled, released), its "
    "shipment and refund requests (jg.fulfillment.orders) and erasure requests "
    "(jg.accounts.customers). Stripe is called after the event's transaction has committed; "
    "a handler that keeps failing sends the event to jg.payment.dead-letter."
)
