"""Payment's outcomes applied to the order (each once, under the order's row lock)."""

from __future__ import annotations

from jg_events import (
    Envelope,
    PaymentActionRequired,
    PaymentAuthenticationExpired,
    PaymentAuthorized,
    PaymentCancelled,
    PaymentCaptured,
    PaymentRefused,
)

from checkout import domain
from checkout.context import Context
from checkout.domain import NextAction
from checkout.usecases.common import apply


async def record_authorization(ctx: Context, envelope: Envelope[PaymentAuthorized]) -> None:
    """The current amount is held: the order is confirmed and its window opens."""
    revision = envelope.payload.order_revision
    await apply(
        ctx,
        envelope,
        lambda order: domain.payment_authorized(
            order,
            order_revision=revision,
            now=ctx.clock(),
            release_delay=ctx.release_delay,
            delivery_days=ctx.delivery_days,
        ),
    )


async def request_authentication(ctx: Context, envelope: Envelope[PaymentActionRequired]) -> None:
    """3-D Secure: the order shows the step the customer must complete."""
    p = envelope.payload
    action = NextAction(
        type=p.next_action_type,
        url=p.next_action_url,
        payment_intent_id=p.payment_intent_id,
        client_secret=p.client_secret,
    )
    await apply(
        ctx,
        envelope,
        lambda order: domain.payment_action_required(
            order, order_revision=p.order_revision, action=action, now=ctx.clock()
        ),
    )


async def expire_authentication(
    ctx: Context, envelope: Envelope[PaymentAuthenticationExpired]
) -> None:
    """A new total never authenticated: back to what the hold covers (or cancelled)."""
    p = envelope.payload
    await apply(
        ctx,
        envelope,
        lambda order: domain.authentication_expired(
            order, order_revision=p.order_revision, held_revision=p.held_revision, now=ctx.clock()
        ),
    )


async def record_refusal(ctx: Context, envelope: Envelope[PaymentRefused]) -> None:
    """A refusal of the current amount ends the order before its release."""
    p = envelope.payload
    await apply(
        ctx,
        envelope,
        lambda order: domain.payment_refused(
            order, order_revision=p.order_revision, reason=p.reason.value, now=ctx.clock()
        ),
    )


async def record_capture(ctx: Context, envelope: Envelope[PaymentCaptured]) -> None:
    """The amount was captured: a timeline entry."""
    await apply(ctx, envelope, lambda order: domain.payment_captured(order, now=ctx.clock()))


async def record_cancelled_payment(ctx: Context, envelope: Envelope[PaymentCancelled]) -> None:
    """A hold released; an expired authorisation before the release cancels the order."""
    p = envelope.payload
    await apply(
        ctx,
        envelope,
        lambda order: domain.payment_cancelled(
            order, reason=p.reason.value, now=ctx.clock(), order_revision=p.order_revision
        ),
    )
