"""The payment workflow: record what the order needs, call Stripe, record the outcome.

No database transaction is ever open while Stripe is called. Each step is idempotent:

1. a short transaction reserves the attempt (a lease, so one worker calls Stripe at a time) and
   decides the call (:func:`payment.domain.next_action`);
2. the call is made with an idempotency key derived from the order, its revision and the step;
3. a second transaction locks the attempt, applies Stripe's answer
   (:func:`payment.domain.transition`) and writes the domain event to the outbox.

If the process dies between 1 and 3, the lease runs out and the synchronisation pass
(:mod:`payment.sync`) makes the same call again: Stripe answers with the same intent. Webhooks
and read-backs go through the same step 3, so every source of truth converges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import asyncpg
import structlog
from jg_events import (
    Address,
    CustomerErasureRequested,
    InvoiceIssued,
    InvoiceKind,
    OrderLine,
    PaymentActionRequired,
    PaymentAuthenticationExpired,
    PaymentAuthorized,
    PaymentCancellationReason,
    PaymentCancelled,
    PaymentCaptured,
    PaymentMethodType,
    PaymentRefused,
    RefundCause,
    RefundIssued,
    RefundLine,
    RefusalReason,
    ShippingMethod,
)
from jg_events.orders import OrderSnapshot
from jg_messaging import UnitOfWork

from payment import domain, invoicing, repository
from payment.domain import (
    Action,
    AttemptStatus,
    Desired,
    IntentView,
    Outcome,
    RefundStatus,
    Refusal,
    Source,
    Transition,
)
from payment.pdf import render_pdf
from payment.repository import AttemptRow, InvoiceRow, NewDocument, OrderRow, RefundRow
from payment.settings import PaymentSettings
from payment.stripe_gateway import (
    DeclinedError,
    PaymentMethodInfo,
    RefundView,
    RejectedError,
    StripeGateway,
    UnavailableError,
)

log = structlog.get_logger(__name__)

_MAX_STEPS = 12


@dataclass(frozen=True)
class _Observed:
    view: IntentView
    source: Source
    method: PaymentMethodInfo | None = None


@dataclass(frozen=True)
class _Refused:
    refusal: Refusal
    payment_intent_id: str | None
    method: PaymentMethodInfo | None = None


@dataclass(frozen=True)
class _Dropped:
    pass


class PaymentWorkflow:
    """Everything payment does with Stripe and the outbox (one per service)."""

    def __init__(
        self,
        pool_provider: Any,
        gateway_provider: Any,
        settings: PaymentSettings,
    ) -> None:
        self._pool_provider = pool_provider
        self._gateway_provider = gateway_provider
        self.settings = settings
        self._tz = ZoneInfo(settings.timezone)

    @property
    def pool(self) -> asyncpg.Pool:
        return self._pool_provider()

    @property
    def gateway(self) -> StripeGateway:
        return self._gateway_provider()

    def unit_of_work(
        self, conn: asyncpg.Connection, correlation_id: str, causation_id: str | None
    ) -> UnitOfWork:
        return UnitOfWork(
            conn=conn,
            topic_prefix=self.settings.platform.topic_prefix,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )

    # --- Driving attempts -------------------------------------------------------------------

    async def drive(self, attempt_ids: Sequence[UUID], *, read_back: bool = False) -> None:
        """Make the Stripe calls these attempts need, one after the other, until none is left.

        Never raises for Stripe being unavailable: the attempt stays recorded and the
        synchronisation pass resumes it.
        """
        queue = list(dict.fromkeys(attempt_ids))
        steps = 0
        while queue and steps < _MAX_STEPS * max(1, len(attempt_ids)):
            attempt_id = queue.pop(0)
            steps += 1
            more = await self._step(attempt_id, read_back=read_back)
            for follow in more:
                if follow not in queue:
                    queue.append(follow)

    async def _step(self, attempt_id: UUID, *, read_back: bool) -> list[UUID]:
        async with self.pool.acquire() as conn, conn.transaction():
            attempt = await repository.claim_attempt(conn, attempt_id, self.settings.stripe_lease)
            if attempt is None:
                return []  # another worker holds it and will carry on
            action = domain.next_action(
                attempt.state,
                attempt.wants,
                authorize_sent=attempt.authorize_sent_at is not None,
                has_intent=attempt.payment_intent_id is not None,
            )
            if action is Action.READ_BACK and not read_back:
                action = None
            if action is None:
                await repository.update_attempt(conn, attempt_id, lease_until=None)
                return []
            if action is Action.AUTHORIZE and attempt.authorize_sent_at is None:
                await repository.update_attempt(
                    conn, attempt_id, authorize_sent_at=datetime.now(UTC)
                )
            order = await repository.get_order(conn, attempt.order_id)
            assert order is not None
        bound = log.bind(
            order_id=str(attempt.order_id),
            revision=attempt.revision,
            payment_intent_id=attempt.payment_intent_id,
            step=action.value,
        )
        try:
            result = await self._call(action, attempt, order)
        except UnavailableError as exc:
            bound.warning("stripe_unavailable", error=str(exc), code=exc.code, status=exc.status)
            async with self.pool.acquire() as conn:
                await repository.update_attempt(
                    conn, attempt_id, lease_until=None, last_error=f"{action}: {exc}"[:1000]
                )
            return []
        except RejectedError as exc:
            bound.error("stripe_rejected_call", error=str(exc), code=exc.code, status=exc.status)
            return await self._rejected(attempt, action, exc)
        return await self._apply(attempt_id, result, release_lease=True)

    async def _call(
        self, action: Action, attempt: AttemptRow, order: OrderRow
    ) -> _Observed | _Refused | _Dropped:
        gateway = self.gateway
        if action is Action.DROP:
            return _Dropped()
        if action is Action.AUTHORIZE:
            return await self._authorize(attempt, order)
        assert attempt.payment_intent_id is not None
        if action is Action.CAPTURE:
            view = await gateway.capture(
                attempt.payment_intent_id,
                amount_cents=attempt.capture_cents or attempt.amount_cents,
                idempotency_key=domain.idempotency_key(
                    attempt.order_id, attempt.revision, domain.Step.CAPTURE
                ),
            )
            return _Observed(view, Source.CAPTURE)
        if action is Action.CANCEL:
            view = await gateway.cancel(
                attempt.payment_intent_id,
                idempotency_key=domain.idempotency_key(
                    attempt.order_id, attempt.revision, domain.Step.CANCEL
                ),
            )
            return _Observed(view, Source.CANCEL)
        view = await gateway.intent(attempt.payment_intent_id)
        return _Observed(view, Source.READ_BACK)

    async def _authorize(self, attempt: AttemptRow, order: OrderRow) -> _Observed | _Refused:
        method_type = PaymentMethodType(attempt.payment_method_type)
        method: PaymentMethodInfo | None = None
        try:
            if method_type is PaymentMethodType.CARD:
                # The brand is only known from the PaymentMethod: check it before holding money.
                method = await self.gateway.payment_method(attempt.stripe_payment_method_id)
                refusal = domain.check_payment_method(
                    method_type, method.type, method.card_brand, self.settings.accepted_card_brands
                )
                if refusal is not None:
                    return _Refused(refusal, None, method)
            customer_id = order.stripe_customer_id
            if method_type is PaymentMethodType.CARD and customer_id is None:
                customer_id = await self._customer(attempt, order, method)
            redirects = method_type is not PaymentMethodType.CARD or (
                self.settings.stripe_card_redirects
            )
            view = await self.gateway.authorize(
                customer_id=customer_id,
                amount_cents=attempt.amount_cents,
                payment_method_id=attempt.stripe_payment_method_id,
                payment_method_type=method_type.value,
                metadata={
                    "order_id": str(attempt.order_id),
                    "order_number": order.order_number,
                    "order_revision": str(attempt.revision),
                },
                return_url=self.settings.stripe_return_url if redirects else None,
                idempotency_key=domain.idempotency_key(
                    attempt.order_id, attempt.revision, domain.Step.AUTHORIZE
                ),
            )
        except DeclinedError as exc:
            return _Refused(exc.refusal, exc.payment_intent_id, method)
        except RejectedError as exc:
            # A request Stripe will never accept (amount too small, bad parameter...): the
            # order must not wait forever; the raw code tells support what happened.
            log.error("stripe_authorization_rejected", error=str(exc), code=exc.code)
            refusal = Refusal(RefusalReason.OTHER, exc.code or "invalid_request", None, str(exc))
            return _Refused(refusal, None, method)
        return _Observed(view, Source.AUTHORIZE, method)

    async def _customer(
        self, attempt: AttemptRow, order: OrderRow, method: PaymentMethodInfo | None
    ) -> str:
        """The Stripe Customer the order's card is attached to, so that a modification raising
        the total can authorise the same card again (recorded once it holds the card)."""
        if method is not None and method.customer_id is not None:
            customer_id = method.customer_id  # the storefront attached it to its own Customer
        else:
            customer_id = await self.gateway.customer_for(
                payment_method_id=attempt.stripe_payment_method_id,
                metadata={"order_id": str(order.order_id), "order_number": order.order_number},
                idempotency_key=f"jg-payment:{order.order_id}",
            )
        async with self.pool.acquire() as conn:
            await repository.set_stripe_customer(conn, order.order_id, customer_id)
        return customer_id

    async def _rejected(
        self, attempt: AttemptRow, action: Action, exc: RejectedError
    ) -> list[UUID]:
        """A capture or cancellation Stripe refused: read the intent back and apply what it says."""
        view: IntentView | None = None
        if attempt.payment_intent_id is not None:
            try:
                view = await self.gateway.intent(attempt.payment_intent_id)
            except (UnavailableError, RejectedError):
                view = None
        follow: list[UUID] = []
        if view is not None:
            follow = await self._apply(attempt.id, _Observed(view, Source.READ_BACK), True)
        async with self.pool.acquire() as conn, conn.transaction():
            current = await repository.get_attempt(conn, attempt.id, for_update=True)
            assert current is not None
            still_needed = domain.next_action(
                current.state,
                current.wants,
                authorize_sent=True,
                has_intent=current.payment_intent_id is not None,
            ) in (Action.CAPTURE, Action.CANCEL)
            await repository.update_attempt(
                conn,
                attempt.id,
                lease_until=None,
                last_error=f"{action}: {exc}"[:1000],
                stuck=still_needed,
            )
        if still_needed:
            log.error(
                "payment_attempt_stuck",
                order_id=str(attempt.order_id),
                payment_intent_id=attempt.payment_intent_id,
                step=action.value,
                error=str(exc),
            )
        return follow

    # --- Applying what Stripe says ---------------------------------------------------------------

    async def _apply(
        self, attempt_id: UUID, result: _Observed | _Refused | _Dropped, release_lease: bool
    ) -> list[UUID]:
        async with self.pool.acquire() as conn, conn.transaction():
            attempt = await repository.get_attempt(conn, attempt_id, for_update=True)
            assert attempt is not None
            return await self.apply_result(
                conn, attempt, result, release_lease=release_lease, causation_id=None
            )

    async def apply_result(
        self,
        conn: asyncpg.Connection,
        attempt: AttemptRow,
        result: _Observed | _Refused | _Dropped,
        *,
        release_lease: bool,
        causation_id: str | None,
    ) -> list[UUID]:
        """Apply an answer to a locked attempt: update it, publish its event, plan follow-ups."""
        values: dict[str, Any] = {}
        if release_lease:
            values["lease_until"] = None
            values["last_error"] = None
        if causation_id is not None:
            values["causation_id"] = causation_id
        method = getattr(result, "method", None)
        if method is not None and method.card_brand:
            values["card_brand"] = method.card_brand
            values["card_last4"] = method.card_last4
        intent_id: str | None = None
        if isinstance(result, _Dropped):
            transition = Transition(AttemptStatus.CANCELLED)
        elif isinstance(result, _Refused):
            transition = domain.refused(attempt.state, result.refusal)
            intent_id = result.payment_intent_id
        else:
            transition = domain.transition(attempt.state, result.view, result.source)
            intent_id = result.view.id
            if transition.outcome is Outcome.CAPTURED:
                values["captured_cents"] = result.view.amount_received or (
                    attempt.capture_cents or attempt.amount_cents
                )
            if transition.outcome is Outcome.ACTION_REQUIRED:
                action = result.view.next_action
                values["client_secret"] = domain.usable_client_secret(
                    result.view.client_secret, result.view.id
                )
                values["action_required_at"] = datetime.now(UTC)
                values["next_action_type"] = action.type if action else "unknown"
                values["next_action_url"] = domain.next_action_url(
                    action,
                    self.settings.authentication_url_template,
                    order_id=attempt.order_id,
                    payment_intent_id=result.view.id,
                )
            if transition.outcome is Outcome.CANCELLED and attempt.cancel_reason is None:
                values["cancel_reason"] = domain.cancellation_reason(
                    None, result.view.cancellation_reason
                ).value
        if intent_id and attempt.payment_intent_id is None:
            values["payment_intent_id"] = intent_id
        if transition.refusal is not None:
            values["refusal_reason"] = transition.refusal.reason.value
            values["stripe_error_code"] = transition.refusal.error_code
            values["stripe_decline_code"] = transition.refusal.decline_code
            values["stripe_message"] = transition.refusal.message
        if transition.status is not attempt.state:
            values["status"] = transition.status.value
            if transition.status is not AttemptStatus.REQUIRES_ACTION and attempt.client_secret:
                values["client_secret"] = None  # only shown while the authentication is pending
        if values:
            await repository.update_attempt(conn, attempt.id, **values)
        updated = await repository.get_attempt(conn, attempt.id)
        assert updated is not None
        if transition.outcome is None:
            return [attempt.id] if transition.status is not attempt.state else []
        log.info(
            "payment_attempt_moved",
            order_id=str(attempt.order_id),
            revision=attempt.revision,
            payment_intent_id=updated.payment_intent_id,
            status_from=attempt.status,
            status_to=updated.status,
            outcome=transition.outcome.value,
        )
        order = await repository.get_order(conn, attempt.order_id)
        assert order is not None
        if domain.publishes_outcome(transition.outcome, updated.wants):
            uow = self.unit_of_work(conn, updated.correlation_id, updated.causation_id)
            await uow.publish(self._event(transition.outcome, updated, order))
        if transition.outcome is Outcome.CAPTURED:
            await self._refunds_after_capture(conn, updated)
        follow = [attempt.id]
        follow += await self._after(conn, updated, transition.outcome)
        return follow

    async def _refunds_after_capture(self, conn: asyncpg.Connection, attempt: AttemptRow) -> None:
        """Refund requests that came before this capture can be made now (the synchronisation
        pass sends them to Stripe), or are refused if they exceed what was captured."""
        captured = attempt.captured_cents or attempt.amount_cents
        for refund in await repository.refunds_awaiting_capture(conn, attempt.order_id):
            status, problem = domain.refund_decision(
                refund.amount_cents,
                captured,
                await repository.refunded_cents(conn, attempt.id),
                order_cancelled=False,
            )
            await repository.update_refund(
                conn,
                refund.refund_request_id,
                status=status.value,
                problem=problem,
                attempt_id=attempt.id,
                payment_intent_id=attempt.payment_intent_id,
            )
            log.info(
                "refund_released_by_capture",
                order_id=str(attempt.order_id),
                refund_request_id=str(refund.refund_request_id),
                status=status.value,
            )

    async def _after(
        self, conn: asyncpg.Connection, attempt: AttemptRow, outcome: Outcome
    ) -> list[UUID]:
        """Older holds of the order that this outcome makes useless are released."""
        if outcome is Outcome.AUTHORIZED and attempt.wants is not Desired.CANCELLED:
            reason = PaymentCancellationReason.SUPERSEDED
        elif outcome is Outcome.REFUSED:
            reason = PaymentCancellationReason.OTHER  # a refusal ends the order
        else:
            return []
        follow: list[UUID] = []
        for other in await repository.attempts_of_order(conn, attempt.order_id, for_update=True):
            if (
                other.revision < attempt.revision
                and not other.state.final
                and other.wants is not Desired.CANCELLED
            ):
                await repository.update_attempt(
                    conn,
                    other.id,
                    desired=Desired.CANCELLED.value,
                    cancel_reason=reason.value,
                    causation_id=attempt.causation_id,
                )
                follow.append(other.id)
        return follow

    def _event(
        self, outcome: Outcome, attempt: AttemptRow, order: OrderRow
    ) -> (
        PaymentAuthorized
        | PaymentActionRequired
        | PaymentRefused
        | PaymentCaptured
        | PaymentCancelled
    ):
        common: dict[str, Any] = {
            "order_id": order.order_id,
            "order_number": order.order_number,
            "customer": order.contact,
        }
        amount = domain.from_cents(attempt.amount_cents)
        method = PaymentMethodType(attempt.payment_method_type)
        match outcome:
            case Outcome.AUTHORIZED:
                return PaymentAuthorized(
                    **common,
                    payment_intent_id=_intent(attempt),
                    amount=amount,
                    order_revision=attempt.revision,
                    payment_method_type=method,
                    card_brand=attempt.card_brand,
                    card_last4=attempt.card_last4,
                )
            case Outcome.ACTION_REQUIRED:
                return PaymentActionRequired(
                    **common,
                    payment_intent_id=_intent(attempt),
                    amount=amount,
                    order_revision=attempt.revision,
                    next_action_type=attempt.next_action_type or "unknown",
                    next_action_url=attempt.next_action_url
                    or self.settings.authentication_url_template.format(
                        order_id=order.order_id, payment_intent_id=_intent(attempt)
                    ),
                    client_secret=attempt.client_secret,
                )
            case Outcome.REFUSED:
                return PaymentRefused(
                    **common,
                    payment_intent_id=attempt.payment_intent_id,
                    amount=amount,
                    order_revision=attempt.revision,
                    payment_method_type=method,
                    reason=RefusalReason(attempt.refusal_reason or RefusalReason.OTHER),
                    stripe_error_code=attempt.stripe_error_code,
                    stripe_decline_code=attempt.stripe_decline_code,
                    stripe_message=attempt.stripe_message,
                )
            case Outcome.CAPTURED:
                return PaymentCaptured(
                    **common,
                    payment_intent_id=_intent(attempt),
                    amount=domain.from_cents(attempt.captured_cents or attempt.amount_cents),
                )
            case Outcome.CANCELLED:
                return PaymentCancelled(
                    **common,
                    payment_intent_id=_intent(attempt),
                    amount=amount,
                    reason=PaymentCancellationReason(
                        attempt.cancel_reason or PaymentCancellationReason.OTHER
                    ),
                    order_revision=attempt.revision,
                )

    # --- Re-authorisations left waiting for 3-D Secure -------------------------------------------

    async def expire_reauthorisations(self) -> int:
        """Give up the re-authorisations still unauthenticated past the timeout.

        The earlier hold keeps covering the order: the waiting intent is cancelled (its
        PaymentCancelled says ``superseded``) and PaymentAuthenticationExpired tells checkout,
        which puts the order back on what that hold covers. Returns how many were given up.
        """
        timeout = timedelta(seconds=self.settings.reauthorisation_timeout)
        async with self.pool.acquire() as conn:
            candidates = await repository.reauthorisations_waiting_since(
                conn, seconds=self.settings.reauthorisation_timeout
            )
        expired: list[UUID] = []
        for attempt_id in candidates:
            async with self.pool.acquire() as conn, conn.transaction():
                found = await repository.get_attempt(conn, attempt_id)
                if found is None:
                    continue
                # The order's row first, then its attempts: the lock order of the handlers.
                order = await repository.get_order(conn, found.order_id, for_update=True)
                attempts = await repository.attempts_of_order(conn, found.order_id, for_update=True)
                attempt = next((a for a in attempts if a.id == attempt_id), None)
                if order is None or attempt is None or order.state != "open":
                    continue
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
                    continue
                hold = next(a for a in attempts if a.revision == held)
                await repository.update_attempt(
                    conn,
                    attempt.id,
                    desired=Desired.CANCELLED.value,
                    cancel_reason=PaymentCancellationReason.SUPERSEDED.value,
                    client_secret=None,
                )
                uow = self.unit_of_work(conn, attempt.correlation_id, attempt.causation_id)
                await uow.publish(
                    PaymentAuthenticationExpired(
                        order_id=order.order_id,
                        order_number=order.order_number,
                        customer=order.contact,
                        payment_intent_id=_intent(attempt),
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
                    waited_seconds=self.settings.reauthorisation_timeout,
                )
                expired.append(attempt.id)
        if expired:
            await self.drive(expired)
        return len(expired)

    # --- Webhooks ------------------------------------------------------------------------------

    async def handle_stripe_event(self, event: dict[str, Any]) -> str:
        """Apply a verified Stripe event once; returns what was done (for the log and reply)."""
        event_id = str(event.get("id") or "")
        event_type = str(event.get("type") or "")
        data = event.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        if not event_id or not isinstance(obj, dict):
            return "malformed"
        try:
            intent_view, refund_views = _stripe_views(event_type, obj)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # Signed by Stripe yet not shaped like its objects: nothing to apply, no retry.
            log.warning("stripe_event_malformed", stripe_event_id=event_id, error=repr(exc))
            return "malformed"
        causation = f"stripe:{event_id}"
        follow: list[UUID] = []
        refunds_to_read: list[UUID] = []
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = await repository.record_webhook_event(
                conn, event_id, event_type, obj.get("id"), "received"
            )
            if not fresh:
                return "duplicate"
            if intent_view is not None:
                view = intent_view
                attempt = await self._attempt_for(conn, view)
                if attempt is None:
                    outcome = "unknown_intent"
                else:
                    before = attempt.status
                    follow = await self.apply_result(
                        conn,
                        attempt,
                        _Observed(view, Source.WEBHOOK),
                        release_lease=False,
                        causation_id=causation,
                    )
                    after = await repository.get_attempt(conn, attempt.id)
                    assert after is not None
                    outcome = "applied" if after.status != before else "no_change"
            elif refund_views is not None:
                outcome, refunds_to_read = await self._refund_event(
                    conn, obj, refund_views, causation
                )
            else:
                outcome = "ignored"
            await repository.set_webhook_outcome(conn, event_id, outcome)
        if follow:
            await self.drive(follow)
        for refund_request_id in refunds_to_read:
            await self.drive_refund(refund_request_id, read_back=True)
        return outcome

    async def _attempt_for(self, conn: asyncpg.Connection, view: IntentView) -> AttemptRow | None:
        attempt = await repository.attempt_of_intent(conn, view.id, for_update=True)
        if attempt is not None:
            return attempt
        # The webhook may beat the reply to our own call: find the attempt by its metadata.
        order_id, revision = view.meta("order_id"), view.meta("order_revision")
        if order_id is None or revision is None or not revision.isdigit():
            return None
        try:
            attempt = await repository.attempt_of_revision(
                conn, UUID(order_id), int(revision), for_update=True
            )
        except ValueError:
            return None
        if attempt is None or attempt.payment_intent_id not in (None, view.id):
            return None
        return attempt

    async def _refund_event(
        self,
        conn: asyncpg.Connection,
        obj: dict[str, Any],
        views: list[RefundView],
        causation: str,
    ) -> tuple[str, list[UUID]]:
        to_read: list[UUID] = []
        if (
            obj.get("object") == "charge"
            and not views
            and isinstance(obj.get("payment_intent"), str)
        ):
            # Recent API versions leave the refunds out of charge events: read them back.
            for row in await repository.refunds_of_intent(conn, obj["payment_intent"]):
                if row.state in (RefundStatus.REQUESTED, RefundStatus.PENDING):
                    to_read.append(row.refund_request_id)
        applied = 0
        for view in views:
            row = await repository.refund_of_stripe_id(conn, view.id, for_update=True)
            if row is None and view.meta("refund_request_id"):
                try:
                    row = await repository.get_refund(
                        conn, UUID(str(view.meta("refund_request_id"))), for_update=True
                    )
                except ValueError:
                    row = None
            if row is None:
                continue
            if await self.apply_refund(conn, row, view, causation_id=causation):
                applied += 1
        if applied:
            return "applied", to_read
        return ("read_back" if to_read else "unknown_refund"), to_read

    # --- Refunds -------------------------------------------------------------------------------

    async def drive_refund(self, refund_request_id: UUID, *, read_back: bool = False) -> None:
        """Create the Stripe refund of a request (same key every time), or read a pending one."""
        async with self.pool.acquire() as conn, conn.transaction():
            refund = await repository.claim_refund(
                conn, refund_request_id, self.settings.stripe_lease
            )
            if refund is None:
                return
            create = refund.state is RefundStatus.REQUESTED
            read = refund.state is RefundStatus.PENDING and read_back
            if not create and not read:
                await repository.update_refund(conn, refund_request_id, lease_until=None)
                return
            if create:
                await repository.update_refund(conn, refund_request_id, sent_at=datetime.now(UTC))
        bound = log.bind(order_id=str(refund.order_id), refund_request_id=str(refund_request_id))
        try:
            if read:
                assert refund.stripe_refund_id is not None
                view = await self.gateway.refund(refund.stripe_refund_id)
            else:
                assert refund.payment_intent_id is not None
                view = await self.gateway.create_refund(
                    payment_intent_id=refund.payment_intent_id,
                    amount_cents=refund.amount_cents,
                    metadata={
                        "order_id": str(refund.order_id),
                        "refund_request_id": str(refund.refund_request_id),
                        "cause": refund.cause,
                        "reference_id": str(refund.reference_id),
                    },
                    idempotency_key=domain.refund_idempotency_key(
                        refund.order_id, refund.refund_request_id
                    ),
                )
        except UnavailableError as exc:
            bound.warning("stripe_unavailable", error=str(exc), step="refund")
            await self._release_refund(refund_request_id, str(exc))
            return
        except RejectedError as exc:
            bound.error("stripe_refund_rejected", error=str(exc), code=exc.code)
            async with self.pool.acquire() as conn:
                await repository.update_refund(
                    conn,
                    refund_request_id,
                    status=RefundStatus.FAILED.value,
                    problem=f"Stripe refused the refund: {exc}"[:1000],
                    lease_until=None,
                )
            return
        async with self.pool.acquire() as conn, conn.transaction():
            row = await repository.get_refund(conn, refund_request_id, for_update=True)
            assert row is not None
            await self.apply_refund(conn, row, view, causation_id=None)
            await repository.update_refund(conn, refund_request_id, lease_until=None)

    async def _release_refund(self, refund_request_id: UUID, error: str | None) -> None:
        async with self.pool.acquire() as conn:
            await repository.update_refund(
                conn, refund_request_id, lease_until=None, last_error=error
            )

    async def apply_refund(
        self,
        conn: asyncpg.Connection,
        refund: RefundRow,
        view: RefundView,
        *,
        causation_id: str | None,
    ) -> bool:
        """Apply what Stripe says of a refund; on success publish RefundIssued and a credit note."""
        status = domain.refund_status_of(view.status)
        if refund.state is RefundStatus.SUCCEEDED and status is RefundStatus.FAILED:
            # Stripe can fail a refund after reporting it done (e.g. the card was closed): the
            # money did not reach the customer; customer service must act (reconciliation).
            log.error("refund_failed_after_success", refund_id=view.id, reason=view.failure_reason)
            await repository.update_refund(
                conn,
                refund.refund_request_id,
                status=RefundStatus.FAILED.value,
                problem=f"Stripe reported the refund failed after success: {view.failure_reason}",
            )
            return True
        if refund.state in (RefundStatus.SUCCEEDED, RefundStatus.FAILED, RefundStatus.REJECTED):
            return False
        values: dict[str, Any] = {"status": status.value}
        if refund.stripe_refund_id is None:
            values["stripe_refund_id"] = view.id
        if status is RefundStatus.FAILED:
            values["problem"] = f"Stripe reports the refund {view.status}: {view.failure_reason}"
        await repository.update_refund(conn, refund.refund_request_id, **values)
        if status is not RefundStatus.SUCCEEDED:
            if status is RefundStatus.FAILED:
                log.error("refund_failed", refund_id=view.id, reason=view.failure_reason)
            return status is not refund.state
        order = await repository.get_order(conn, refund.order_id)
        assert order is not None
        uow = self.unit_of_work(conn, refund.correlation_id, causation_id or refund.causation_id)
        await uow.publish(
            RefundIssued(
                order_id=order.order_id,
                order_number=order.order_number,
                customer=order.contact,
                payment_intent_id=refund.payment_intent_id or view.payment_intent_id or "unknown",
                amount=domain.from_cents(refund.amount_cents),
                refund_request_id=refund.refund_request_id,
                refund_id=view.id,
                cause=RefundCause(refund.cause),
                reference_id=refund.reference_id,
            )
        )
        log.info("refund_issued", order_id=str(order.order_id), refund_id=view.id)
        await self._credit_note(conn, uow, order, refund)
        return True

    # --- Invoices -----------------------------------------------------------------------------

    def _seller(self) -> invoicing.Seller:
        s = self.settings.seller
        return invoicing.Seller(
            name=s.legal_name,
            address_lines=s.address_lines,
            siren=s.siren,
            vat_number=s.vat_number,
            legal_form=s.legal_form,
            rcs=s.rcs,
        )

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self._tz).date()

    async def issue_invoice(
        self, conn: asyncpg.Connection, uow: UnitOfWork, order: OrderRow, shipped_at: datetime
    ) -> InvoiceRow | None:
        """Issue the order's invoice (once) in the caller's transaction, with InvoiceIssued."""
        if await repository.invoice_of_order(conn, order.order_id) is not None:
            return None
        snapshot = order.snapshot
        lines = [OrderLine.model_validate(line) for line in snapshot["lines"]]
        shipping = ShippingMethod.model_validate(snapshot["shipping_method"])
        billing = Address.model_validate(snapshot["billing_address"])
        attempts = await repository.attempts_of_order(conn, order.order_id)
        paid = next((a for a in reversed(attempts) if a.status == "captured"), None) or next(
            (a for a in reversed(attempts) if a.status == "authorized"), None
        )
        label = invoicing.method_label(order.payment_method_type, paid.card_brand if paid else None)
        paid_on = self._local_date(paid.updated_at) if paid else None
        seller = self._seller()
        customer = invoicing.customer_of(billing, order.contact.email)
        drafts = invoicing.order_drafts(lines, shipping)

        def build(sequence: int, issued_at: datetime) -> NewDocument:
            issue_date = self._local_date(issued_at)
            number = invoicing.invoice_number(
                self.settings.invoice_prefix, issue_date.year, sequence
            )
            document = invoicing.build_document(
                kind=InvoiceKind.INVOICE,
                number=number,
                issue_date=issue_date,
                sale_date=self._local_date(shipped_at),
                order_number=order.order_number,
                seller=seller,
                customer=customer,
                drafts=drafts,
                payment_note=invoicing.payment_note(InvoiceKind.INVOICE, label, paid_on),
            )
            return _new_document(document, order, None)

        invoice = await repository.issue_document(conn, build)
        await uow.publish(_invoice_issued(invoice, order))
        log.info("invoice_issued", order_id=str(order.order_id), number=invoice.number)
        return invoice

    async def _credit_note(
        self, conn: asyncpg.Connection, uow: UnitOfWork, order: OrderRow, refund: RefundRow
    ) -> InvoiceRow | None:
        if await repository.credit_note_of_refund(conn, refund.refund_request_id) is not None:
            return None
        invoice = await repository.invoice_of_order(conn, order.order_id)
        if invoice is None:
            log.error(
                "credit_note_without_invoice",
                order_id=str(order.order_id),
                refund_request_id=str(refund.refund_request_id),
            )
            return None
        original = invoicing.InvoiceDocument.model_validate(invoice.document)
        request = refund.request
        lines = [RefundLine.model_validate(line) for line in request.get("lines", [])]
        order_lines = [OrderLine.model_validate(line) for line in order.snapshot["lines"]]
        drafts = invoicing.refund_drafts(
            lines, Decimal(request.get("shipping_refund", "0.00")), order_lines
        )
        seller = self._seller()
        label = invoicing.method_label(order.payment_method_type, None)

        def build(sequence: int, issued_at: datetime) -> NewDocument:
            issue_date = self._local_date(issued_at)
            number = invoicing.invoice_number(
                self.settings.invoice_prefix, issue_date.year, sequence
            )
            document = invoicing.build_document(
                kind=InvoiceKind.CREDIT_NOTE,
                number=number,
                issue_date=issue_date,
                sale_date=None,
                order_number=order.order_number,
                seller=seller,
                customer=original.customer,
                drafts=drafts,
                payment_note=invoicing.payment_note(InvoiceKind.CREDIT_NOTE, label, None),
                corrects_invoice_number=invoice.number,
            )
            return _new_document(document, order, refund.refund_request_id)

        note = await repository.issue_document(conn, build)
        await uow.publish(_invoice_issued(note, order))
        log.info("credit_note_issued", order_id=str(order.order_id), number=note.number)
        return note

    # --- Orders -------------------------------------------------------------------------------

    async def record_order(
        self,
        uow: UnitOfWork,
        snapshot: OrderSnapshot,
        stripe_payment_method_id: str,
        amount_changed: bool,
        restores_revision: int | None = None,
    ) -> UUID | None:
        """Record an order revision; returns the attempt to authorise, if it needs one.

        A revision that restores an earlier one whose hold still stands (checkout undid a
        modification left unauthenticated) needs none: that hold covers it.
        """
        conn = uow.conn
        if await repository.insert_order(conn, snapshot, stripe_payment_method_id):
            needs_authorization = True
            await repository.erase_if_customer_erased(conn, snapshot.order_id)
        else:
            newer = await repository.update_order_snapshot(conn, snapshot)
            needs_authorization = newer and amount_changed
        if not needs_authorization:
            return None
        order = await repository.get_order(conn, snapshot.order_id, for_update=True)
        assert order is not None
        if order.state != "open":
            log.warning("order_not_open", order_id=str(order.order_id), state=order.state)
            return None
        if restores_revision is not None:
            held = await repository.attempt_of_revision(conn, order.order_id, restores_revision)
            if (
                held is not None
                and held.state is AttemptStatus.AUTHORIZED
                and held.wants is Desired.AUTHORIZED
                and held.amount_cents >= domain.to_cents(snapshot.totals.total)
            ):
                log.info(
                    "revision_covered_by_standing_hold",
                    order_id=str(order.order_id),
                    revision=snapshot.revision,
                    held_revision=restores_revision,
                )
                return None
        attempt_id = uuid4()
        await repository.insert_attempt(
            conn,
            attempt_id=attempt_id,
            order_id=snapshot.order_id,
            revision=snapshot.revision,
            amount_cents=domain.to_cents(snapshot.totals.total),
            payment_method_type=order.payment_method_type,
            stripe_payment_method_id=order.stripe_payment_method_id,
            correlation_id=uow.correlation_id,
            causation_id=uow.causation_id,
        )
        return attempt_id

    async def erase_customer(
        self, conn: asyncpg.Connection, request: CustomerErasureRequested
    ) -> list[UUID]:
        """Pseudonymise a customer in orders (invoices are kept: a legal obligation).

        Always the account's orders; the guest orders placed with its email too, only when the
        customer proved they own the address (anyone may sign up with a stranger's).
        """
        email = request.email if request.email_verified else None
        return await repository.pseudonymise_customer(
            conn, request.customer_id, email, datetime.now(UTC)
        )


def _intent(attempt: AttemptRow) -> str:
    assert attempt.payment_intent_id is not None
    return attempt.payment_intent_id


def _new_document(
    document: invoicing.InvoiceDocument, order: OrderRow, refund_request_id: UUID | None
) -> NewDocument:
    pdf = render_pdf(document)
    totals = document.totals
    return NewDocument(
        number=document.number,
        kind=document.kind.value,
        order_id=order.order_id,
        order_number=order.order_number,
        customer_id=order.customer_id,
        corrects_invoice_number=document.corrects_invoice_number,
        refund_request_id=refund_request_id,
        issue_date=document.issue_date,
        total_excl_vat_cents=domain.to_cents(totals.excl_vat),
        total_vat_cents=domain.to_cents(totals.vat),
        total_incl_vat_cents=domain.to_cents(totals.incl_vat),
        document_json=document.model_dump_json(),
        pdf=pdf,
    )


def _invoice_issued(invoice: InvoiceRow, order: OrderRow) -> InvoiceIssued:
    return InvoiceIssued(
        order_id=order.order_id,
        order_number=order.order_number,
        customer=order.contact,
        invoice_number=invoice.number,
        kind=InvoiceKind(invoice.kind),
        corrects_invoice_number=invoice.corrects_invoice_number,
        issue_date=invoice.issue_date,
        total_excl_vat=domain.from_cents(invoice.total_excl_vat_cents),
        total_vat=domain.from_cents(invoice.total_vat_cents),
        total_incl_vat=domain.from_cents(invoice.total_incl_vat_cents),
        download_path=f"/invoices/{invoice.number}.pdf",
    )


def _stripe_views(
    event_type: str, obj: dict[str, Any]
) -> tuple[IntentView | None, list[RefundView] | None]:
    """What a webhook's object says, read before anything is written: the payment intent of a
    ``payment_intent.*`` event, or the refunds of a refund event (none: a charge whose refunds
    must be read back). Raises KeyError, TypeError, ValueError or AttributeError for an object
    that is not shaped like Stripe's."""
    object_id = obj.get("id")
    if object_id is not None and not isinstance(object_id, str):
        raise TypeError(f"object id {object_id!r} is not a string")
    if event_type.startswith("payment_intent.") and obj.get("object") == "payment_intent":
        return IntentView.from_stripe(obj), None
    if event_type.startswith(("charge.refund", "refund.")):
        if obj.get("object") == "refund":
            return None, [RefundView.from_stripe(obj)]
        if obj.get("object") == "charge":
            refunds = (obj.get("refunds") or {}).get("data")
            if isinstance(refunds, list):
                return None, [RefundView.from_stripe(r) for r in refunds if isinstance(r, dict)]
        return None, []
    return None, None
