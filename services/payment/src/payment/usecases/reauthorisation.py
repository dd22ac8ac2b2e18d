"""Re-authorisations left waiting for 3-D Secure past the timeout are given up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import structlog
from jg_events import PaymentAuthenticationExpired, PaymentCancellationReason

from payment import domain, repository
from payment.context import Context
from payment.domain import Desired, OrderState
from payment.usecases.attempts import drive
from payment.usecases.outcomes import intent_of

log = structlog.get_logger(__name__)


async def expire_reauthorisations(ctx: Context) -> int:
    """Give up the re-authorisations still unauthenticated past the timeout.

    The earlier hold keeps covering the order: the waiting intent is cancelled (its
    PaymentCancelled says ``superseded``) and PaymentAuthenticationExpired tells checkout,
    which puts the order back on what that hold covers. Returns how many were given up.
    """
    async with ctx.pool.acquire() as conn:
        candidates = await repository.reauthorisations_waiting_since(
            conn, seconds=ctx.settings.reauthorisation_timeout
        )
    expired = [a for a in candidates if await _expire(ctx, a)]
    if expired:
        await drive(ctx, expired)
    return len(expired)


async def _expire(ctx: Context, attempt_id: UUID) -> bool:
    """Give up one waiting re-authorisation if it still qualifies (checked under locks)."""
    timeout = timedelta(seconds=ctx.settings.reauthorisation_timeout)
    async with ctx.pool.acquire() as conn, conn.transaction():
        found = await repository.get_attempt(conn, attempt_id)
        if found is None:
            return False
        # The order's row first, then its attempts: the lock order of the handlers.
        order = await repository.get_order(conn, found.order_id, for_update=True)
        attempts = await repository.attempts_of_order(conn, found.order_id, for_update=True)
        attempt = next((a for a in attempts if a.id == attempt_id), None)
        if order is None or attempt is None or order.state is not OrderState.OPEN:
            return False
        held = domain.standing_hold(
            attempt.revision, [(a.revision, a.state, a.wants) for a in attempts]
        )
        if not domain.reauthorisation_expired(
            attempt.state,
            attempt.wants,
            attempt.action_required_at,
            held_revision=held,
            now=datetime.now(UTC),
            timeout=timeout,
        ):
            return False
        hold = next(a for a in attempts if a.revision == held)
        await repository.update_attempt(
            conn,
            attempt.id,
            desired=Desired.CANCELLED.value,
            cancel_reason=PaymentCancellationReason.SUPERSEDED.value,
            client_secret=None,
        )
        uow = ctx.unit_of_work(conn, attempt.correlation_id, attempt.causation_id)
        await uow.publish(
            PaymentAuthenticationExpired(
                order_id=order.order_id,
                order_number=order.order_number,
                customer=order.contact,
                payment_intent_id=intent_of(attempt),
                amount=domain.from_cents(attempt.amount_cents),
                order_revision=attempt.revision,
                held_revision=hold.revision,
                held_amount=domain.from_cents(hold.amount_cents),
            )
        )
    log.warning(
        "reauthorisation_expired",
        order_id=str(order.order_id),
        revision=attempt.revision,
        payment_intent_id=attempt.payment_intent_id,
        held_revision=hold.revision,
        waited_seconds=ctx.settings.reauthorisation_timeout,
    )
    return True
