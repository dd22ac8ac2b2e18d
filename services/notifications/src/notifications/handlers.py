"""Event handlers: one consumer group (``notifications``) on the customer-facing topics.

Each ``on_<event>(ctx, envelope)`` calls one use case, which records, in one transaction with
the inbox record, the send intents of the emails the event gives (rendered, with their
Message-ID); the dispatcher sends them afterwards. Nothing here talks to SMTP. ``HANDLERS``
maps each event type consumed to its handler; ``app.py`` registers the table with
``jg_messaging.register_handlers``.
"""

from __future__ import annotations

from typing import Any

from jg_events import (
    Backordered,
    ClaimOpened,
    ClaimResolved,
    CustomerErased,
    CustomerErasureRequested,
    CustomerRegistered,
    CustomerUpdated,
    Delivered,
    EmailChangeRequested,
    EmailChangeRequestedV1,
    EmailVerificationRequested,
    Envelope,
    Event,
    InvoiceIssued,
    OrderCancelled,
    OrderConfirmed,
    OrderModified,
    OrderProcessing,
    PasswordResetRequested,
    PasswordResetRequestedV1,
    PaymentCancelled,
    PaymentRefused,
    RefundIssued,
    ReturnAccepted,
    ReturnRejected,
    Shipped,
    Topic,
)
from jg_messaging import Handler
from jg_messaging.handlers import topics_of

from notifications.context import SERVICE, Context
from notifications.usecases import emails, erasure, orders

__all__ = ["DESCRIPTION", "HANDLERS", "SERVICE", "TITLE", "TOPICS"]

TITLE = "notifications inputs"
DESCRIPTION = (
    "Customer-facing events (jg.checkout.orders, jg.payment.payments, jg.logistics.requests, "
    "jg.fulfillment.orders, jg.accounts.customers): each gives the French emails the customer "
    "is sent, recorded with the inbox record and delivered over SMTP afterwards."
)


async def on_order_event(ctx: Context, envelope: Envelope[Any]) -> None:
    """The email the order's step gives (a cancelled order's released hold only)."""
    await emails.send_emails(ctx, envelope)


async def on_account_event(ctx: Context, envelope: Envelope[Any]) -> None:
    """The account email: welcome, security notices, or a single-use link (opened here)."""
    await emails.send_emails(ctx, envelope)


async def on_order_confirmed(ctx: Context, envelope: Envelope[OrderConfirmed]) -> None:
    """The order confirmation, withheld after a refused payment of the same revision."""
    await orders.confirm_order(ctx, envelope)


async def on_payment_refused(ctx: Context, envelope: Envelope[PaymentRefused]) -> None:
    """Remember the refused revision; tell the customer why and what to do."""
    await orders.record_payment_refusal(ctx, envelope)


async def on_customer_erasure_requested(
    ctx: Context, envelope: Envelope[CustomerErasureRequested]
) -> None:
    """Suppress and forget the customer, then acknowledge the request."""
    await erasure.record_erasure_request(ctx, envelope)


async def on_customer_erased(ctx: Context, envelope: Envelope[CustomerErased]) -> None:
    """Suppress and forget what came meanwhile, then confirm the erasure."""
    await erasure.record_erasure(ctx, envelope)


ORDER_EVENTS: tuple[type[Event], ...] = (
    OrderModified,  # jg.checkout.orders
    OrderCancelled,
    PaymentCancelled,  # jg.payment.payments
    RefundIssued,
    InvoiceIssued,
    OrderProcessing,  # jg.logistics.requests
    Backordered,  # jg.fulfillment.orders
    Shipped,
    Delivered,
    ReturnAccepted,
    ReturnRejected,
    ClaimOpened,
    ClaimResolved,
)

ACCOUNT_EVENTS: tuple[type[Event], ...] = (  # jg.accounts.customers
    CustomerRegistered,
    CustomerUpdated,
    PasswordResetRequested,  # the link comes sealed for us
    PasswordResetRequestedV1,  # written before the upgrade, the link in clear
    EmailChangeRequested,  # the confirmation link, to the new address only
    EmailChangeRequestedV1,
    EmailVerificationRequested,
)

HANDLERS: dict[type[Event], Handler[Context]] = {
    OrderConfirmed: on_order_confirmed,
    **dict.fromkeys(ORDER_EVENTS, on_order_event),
    PaymentRefused: on_payment_refused,
    **dict.fromkeys(ACCOUNT_EVENTS, on_account_event),
    CustomerErasureRequested: on_customer_erasure_requested,
    CustomerErased: on_customer_erased,
}
"""What notifications consumes: one subscriber (group ``notifications``) over ``TOPICS``."""

TOPICS: tuple[Topic, ...] = topics_of(HANDLERS)
"""The customer-facing topics this service reads, in one consumer group."""
