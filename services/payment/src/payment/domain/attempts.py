"""Payment attempts: their states, the moves Stripe's answers make, the next call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from jg_events import PaymentCancellationReason

from payment.domain.intents import IntentView
from payment.domain.refusals import Refusal

# --- Attempt states ------------------------------------------------------------------------------


class AttemptStatus(StrEnum):
    """What Stripe last told us about an attempt's PaymentIntent."""

    AUTHORIZING = "authorizing"  # recorded; Stripe's answer to the authorisation not known yet
    AWAITING = "awaiting"  # the intent exists; its outcome comes by webhook or read-back
    REQUIRES_ACTION = "requires_action"  # 3-D Secure or a redirect: the customer must act
    AUTHORIZED = "authorized"  # the amount is held (requires_capture)
    REFUSED = "refused"
    CAPTURING = "capturing"  # the capture was accepted, Stripe has not settled it yet
    CAPTURED = "captured"
    CANCELLING = "cancelling"  # the cancellation was accepted, not yet reported
    CANCELLED = "cancelled"

    @property
    def pending_outcome(self) -> bool:
        """No authorisation outcome yet (the order is waiting for one)."""
        return self in _PENDING

    @property
    def final(self) -> bool:
        return self in _FINAL

    @property
    def holds_money(self) -> bool:
        """The customer's money is (or may be) held: a cancellation must release it."""
        return self in _HOLDING


_PENDING = frozenset(
    {AttemptStatus.AUTHORIZING, AttemptStatus.AWAITING, AttemptStatus.REQUIRES_ACTION}
)
_FINAL = frozenset({AttemptStatus.REFUSED, AttemptStatus.CAPTURED, AttemptStatus.CANCELLED})
_HOLDING = frozenset(
    {
        AttemptStatus.AWAITING,
        AttemptStatus.REQUIRES_ACTION,
        AttemptStatus.AUTHORIZED,
        AttemptStatus.CANCELLING,
    }
)


class Desired(StrEnum):
    """What the order needs from an attempt."""

    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    CANCELLED = "cancelled"


class Outcome(StrEnum):
    """The domain event a transition publishes."""

    AUTHORIZED = "PaymentAuthorized"
    ACTION_REQUIRED = "PaymentActionRequired"
    REFUSED = "PaymentRefused"
    CAPTURED = "PaymentCaptured"
    CANCELLED = "PaymentCancelled"


class Source(StrEnum):
    """Where an IntentView comes from."""

    AUTHORIZE = "authorize"  # the reply to create-and-confirm
    CAPTURE = "capture"
    CANCEL = "cancel"
    WEBHOOK = "webhook"
    READ_BACK = "read_back"


@dataclass(frozen=True)
class Transition:
    status: AttemptStatus
    outcome: Outcome | None = None
    refusal: Refusal | None = None

    @property
    def changed(self) -> bool:
        return self.outcome is not None


def _stay(status: AttemptStatus) -> Transition:
    return Transition(status)


def transition(current: AttemptStatus, view: IntentView, source: Source) -> Transition:
    """Where an attempt goes given what Stripe says about its intent (forward moves only)."""
    status = view.status
    if current.final:
        return _stay(current)
    if status == "succeeded":
        return Transition(AttemptStatus.CAPTURED, Outcome.CAPTURED)
    if status == "canceled":
        return Transition(AttemptStatus.CANCELLED, Outcome.CANCELLED)
    if current is AttemptStatus.CAPTURING or current is AttemptStatus.CANCELLING:
        return _stay(current)  # only succeeded / canceled settle these
    if status == "requires_capture":
        if current.pending_outcome:
            return Transition(AttemptStatus.AUTHORIZED, Outcome.AUTHORIZED)
        return _after_call(current, source)
    if status == "requires_action":
        if current in (AttemptStatus.AUTHORIZING, AttemptStatus.AWAITING):
            return Transition(AttemptStatus.REQUIRES_ACTION, Outcome.ACTION_REQUIRED)
        return _stay(current)
    if (
        status == "requires_payment_method"
        and view.has_error
        and current.pending_outcome
        # Only Stripe's news about the intent says it failed: a declined confirmation comes as
        # an HTTP error, and the reply to our own capture or cancel is about that call.
        and source in (Source.WEBHOOK, Source.READ_BACK)
    ):
        refusal = Refusal.from_stripe(view.error_code, view.decline_code, view.error_message)
        return Transition(AttemptStatus.REFUSED, Outcome.REFUSED, refusal)
    # processing, requires_confirmation, requires_payment_method without an error (a created
    # intent, or stripe-mock's canned answer): the outcome will come later.
    if current is AttemptStatus.AUTHORIZING:
        return _stay(AttemptStatus.AWAITING)
    return _after_call(current, source)


def _after_call(current: AttemptStatus, source: Source) -> Transition:
    """A capture or cancellation Stripe accepted but has not settled yet."""
    if source is Source.CAPTURE and current is AttemptStatus.AUTHORIZED:
        return _stay(AttemptStatus.CAPTURING)
    if source is Source.CANCEL and current.holds_money:
        return _stay(AttemptStatus.CANCELLING)
    return _stay(current)


def refused(current: AttemptStatus, refusal: Refusal) -> Transition:
    """A declined authorisation call (Stripe answered 402 or refused the request)."""
    if not current.pending_outcome:
        return _stay(current)
    return Transition(AttemptStatus.REFUSED, Outcome.REFUSED, refusal)


def cancellation_reason(
    requested: PaymentCancellationReason | None, stripe_reason: str | None
) -> PaymentCancellationReason:
    """Why an intent was cancelled: ours when we asked, else what Stripe says."""
    if requested is not None:
        return requested
    if stripe_reason == "automatic":
        return PaymentCancellationReason.AUTHORIZATION_EXPIRED  # Stripe's 7-day expiry
    return PaymentCancellationReason.OTHER


# --- What to do next -----------------------------------------------------------------------------


class Action(StrEnum):
    """The next Stripe call an attempt needs."""

    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    CANCEL = "cancel"
    DROP = "drop"  # cancelled before anything reached Stripe: nothing to release
    READ_BACK = "read_back"  # the outcome of a call is unknown: ask Stripe


def next_action(
    status: AttemptStatus, desired: Desired, *, authorize_sent: bool, has_intent: bool
) -> Action | None:
    """The call that brings an attempt closer to what the order needs (None: nothing to do)."""
    if status.final:
        return None
    if status is AttemptStatus.AUTHORIZING:
        if desired is Desired.CANCELLED and not authorize_sent:
            return Action.DROP
        return Action.AUTHORIZE  # same idempotency key: finds the intent if it was created
    if desired is Desired.CANCELLED:
        if status is AttemptStatus.CANCELLING:
            return Action.READ_BACK
        return Action.CANCEL if has_intent else None
    if desired is Desired.CAPTURED and status is AttemptStatus.AUTHORIZED:
        return Action.CAPTURE
    if status in (AttemptStatus.CAPTURING, AttemptStatus.AWAITING, AttemptStatus.REQUIRES_ACTION):
        return Action.READ_BACK
    return None


def publishes_outcome(outcome: Outcome, desired: Desired) -> bool:
    """Whether a transition's event is published.

    An authorisation (or a 3-D Secure step) of an attempt the order no longer wants (cancelled
    order, superseded revision) is not announced: its hold is being released, and its
    PaymentCancelled follows.
    """
    return not (
        desired is Desired.CANCELLED and outcome in (Outcome.AUTHORIZED, Outcome.ACTION_REQUIRED)
    )


def standing_hold(
    waiting_revision: int, attempts: Sequence[tuple[int, AttemptStatus, Desired]]
) -> int | None:
    """The latest earlier revision whose hold still stands (authorised and still wanted) while
    the authorisation of ``waiting_revision`` waits, or None (a first authorisation)."""
    held = [
        revision
        for revision, status, desired in attempts
        if revision < waiting_revision
        and status is AttemptStatus.AUTHORIZED
        and desired is Desired.AUTHORIZED
    ]
    return max(held) if held else None


def reauthorisation_expired(
    status: AttemptStatus,
    desired: Desired,
    action_required_at: datetime | None,
    *,
    held_revision: int | None,
    now: datetime,
    timeout: timedelta,
) -> bool:
    """A re-authorisation (a modification raised the total) still waiting for the customer's
    3-D Secure ``timeout`` after it was asked, while an earlier hold stands, is given up: the
    earlier hold keeps covering the order, which goes back to what it covers. A first
    authorisation never expires here (the order has no other hold; Stripe's own expiry and
    reconciliation deal with it)."""
    return (
        status is AttemptStatus.REQUIRES_ACTION
        and desired is Desired.AUTHORIZED
        and held_revision is not None
        and action_required_at is not None
        and now - action_required_at >= timeout
    )


def capture_amount(released_total_cents: int, authorized_cents: int) -> int:
    """Cents to capture on release: the released total, never more than the hold."""
    return min(released_total_cents, authorized_cents)


def call_to_make(
    status: AttemptStatus,
    desired: Desired,
    *,
    authorize_sent: bool,
    has_intent: bool,
    read_back: bool,
) -> Action | None:
    """The call a worker makes now: :func:`next_action`, but a read-back only when asked for
    (the synchronisation pass and webhooks ask; an event's handler does not wait on Stripe)."""
    action = next_action(status, desired, authorize_sent=authorize_sent, has_intent=has_intent)
    if action is Action.READ_BACK and not read_back:
        return None
    return action
