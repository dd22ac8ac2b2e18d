"""Event handlers: payment outcomes, fulfillment progress and GDPR erasure.

Each ``on_<event>(ctx, envelope)`` calls one use case, which applies the event once (inbox),
under the order's row lock, in one transaction with the events it publishes (outbox).
``HANDLERS`` maps each event type consumed to its handler; ``app.py`` registers the table with
``jg_messaging.register_handlers``.
"""

from __future__ import annotations

from jg_events import (
    Backordered,
    CustomerErasureRequested,
    Delivered,
    Envelope,
    Event,
    OrderProcessing,
    PaymentActionRequired,
    PaymentAuthenticationExpired,
    PaymentAuthorized,
    PaymentCancelled,
    PaymentCaptured,
    PaymentRefused,
    Shipped,
)
from jg_messaging import Handler

from checkout.context import SERVICE, Context
from checkout.usecases import erasure, payments, progress

__all__ = ["DESCRIPTION", "HANDLERS", "SERVICE", "Context"]


async def on_payment_authorized(ctx: Context, envelope: Envelope[PaymentAuthorized]) -> None:
    """The current amount is held: confirm the order (OrderConfirmed), open its window."""
    await payments.record_authorization(ctx, envelope)


async def on_payment_action_required(
    ctx: Context, envelope: Envelope[PaymentActionRequired]
) -> None:
    """3-D Secure: show the customer the step to complete."""
    await payments.request_authentication(ctx, envelope)


async def on_payment_authentication_expired(
    ctx: Context, envelope: Envelope[PaymentAuthenticationExpired]
) -> None:
    """A modification's new total was never authenticated: back to the held content."""
    await payments.expire_authentication(ctx, envelope)


async def on_payment_refused(ctx: Context, envelope: Envelope[PaymentRefused]) -> None:
    """The current amount was refused: the order ends (payment_refused)."""
    await payments.record_refusal(ctx, envelope)


async def on_payment_captured(ctx: Context, envelope: Envelope[PaymentCaptured]) -> None:
    """The amount was captured (after the hand-off)."""
    await payments.record_capture(ctx, envelope)


async def on_payment_cancelled(ctx: Context, envelope: Envelope[PaymentCancelled]) -> None:
    """A hold was released; an expired one cancels an order not yet released."""
    await payments.record_cancelled_payment(ctx, envelope)


async def on_order_processing(ctx: Context, envelope: Envelope[OrderProcessing]) -> None:
    """The logistics team prepares the order."""
    await progress.record_processing(ctx, envelope)


async def on_backordered(ctx: Context, envelope: Envelope[Backordered]) -> None:
    """Items are missing: backordered, with a new delivery estimate."""
    await progress.record_backorder(ctx, envelope)


async def on_shipped(ctx: Context, envelope: Envelope[Shipped]) -> None:
    """The parcel left with the carrier: shipped, with its tracking."""
    await progress.record_shipment(ctx, envelope)


async def on_delivered(ctx: Context, envelope: Envelope[Delivered]) -> None:
    """The parcel was delivered."""
    await progress.record_delivery(ctx, envelope)


async def on_customer_erasure_requested(
    ctx: Context, envelope: Envelope[CustomerErasureRequested]
) -> None:
    """GDPR erasure: pseudonymise the customer's orders, cancel those not yet released."""
    await erasure.erase_customer(ctx, envelope)


HANDLERS: dict[type[Event], Handler[Context]] = {
    PaymentAuthorized: on_payment_authorized,
    PaymentActionRequired: on_payment_action_required,
    PaymentAuthenticationExpired: on_payment_authentication_expired,
    PaymentRefused: on_payment_refused,
    PaymentCaptured: on_payment_captured,
    PaymentCancelled: on_payment_cancelled,
    OrderProcessing: on_order_processing,
    Backordered: on_backordered,
    Shipped: on_shipped,
    Delivered: on_delivered,
    CustomerErasureRequested: on_customer_erasure_requested,
}
"""What checkout consumes, registered by ``app.py`` with jg_messaging's register_handlers: one
subscriber (group ``checkout``) over jg.payment.payments, jg.fulfillment.orders,
jg.logistics.requests and jg.accounts.customers."""

DESCRIPTION = (
    "Payment outcomes (jg.payment.payments), fulfillment's progress (jg.fulfillment.orders, "
    "jg.logistics.requests) and erasure requests (jg.accounts.customers), each applied once "
    "to its order. An event for an unknown order, or one that does not validate, goes to "
    "jg.checkout.dead-letter."
)
