"""Payment rules: pure and synchronous (no I/O), unit tested.

A *payment attempt* is one Stripe PaymentIntent for one revision of an order. Its ``status`` is
what Stripe last told us about the intent; its ``desired`` state is what the order needs
(authorised, captured, cancelled). Every answer from Stripe (the reply to a call, a webhook, a
read-back) is an :class:`IntentView` fed to :func:`transition`, which moves the attempt only
forward and says which domain event, if any, the move publishes. So a webhook that repeats what
a call already told us, or arrives late, changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from jg_events import PaymentCancellationReason, PaymentMethodType, RefusalReason

CURRENCY = "eur"
_CENTS_PER_EURO = 100

# --- Money -------------------------------------------------------------------------------------


def to_cents(amount: Decimal) -> int:
    """Euros (exact, two decimals) to Stripe's integer cents; refuses sub-cent amounts."""
    cents = amount * _CENTS_PER_EURO
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of cents")
    return int(cents)


def from_cents(cents: int) -> Decimal:
    """Stripe's integer cents to euros with two decimals."""
    return (Decimal(cents) / _CENTS_PER_EURO).quantize(Decimal("0.01"))


# --- Idempotency keys --------------------------------------------------------------------------


class Step(StrEnum):
    """A money-changing call to Stripe."""

    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    CANCEL = "cancel"
    REFUND = "refund"


def idempotency_key(order_id: UUID, revision: int, step: Step) -> str:
    """Stripe idempotency key of a step of an order revision's PaymentIntent.

    The same order, revision and step always give the same key, so a retry after a crash or a
    redelivered event reaches the same PaymentIntent at Stripe instead of holding money twice.
    """
    if step is Step.REFUND:
        raise ValueError("refunds are keyed by their refund request: use refund_idempotency_key")
    return f"jg-payment:{order_id}:r{revision}:{step.value}"


def refund_idempotency_key(order_id: UUID, refund_request_id: UUID) -> str:
    """Stripe idempotency key of a refund: one refund per RefundRequested, whatever happens."""
    return f"jg-payment:{order_id}:refund:{refund_request_id}"


# --- Refusal reasons ---------------------------------------------------------------------------

# Stripe's decline codes (https://docs.stripe.com/declines/codes) and error codes
# (https://docs.stripe.com/error-codes), grouped by the FAQ's reasons. A decline code is more
# precise than the error code it comes with ("card_declined"), so it is looked at first.
_INCORRECT_CARD_DETAILS = frozenset(
    {
        "incorrect_number",
        "invalid_number",
        "incorrect_cvc",
        "invalid_cvc",
        "expired_card",
        "invalid_expiry_month",
        "invalid_expiry_year",
        "invalid_expiry_date",
        "incorrect_zip",
        "incorrect_address",
        "incorrect_pin",
        "invalid_pin",
        "invalid_account",
    }
)
_LIMIT_REACHED = frozenset(
    {
        "card_velocity_exceeded",
        "withdrawal_count_limit_exceeded",
        "pin_try_exceeded",
    }
)
_INSUFFICIENT_FUNDS = frozenset({"insufficient_funds"})
_AUTHENTICATION_FAILED = frozenset(
    {
        "authentication_required",
        "payment_intent_authentication_failure",
        "setup_intent_authentication_failure",
        "authentication_not_handled",
    }
)
_UNSUPPORTED_METHOD = frozenset(
    {
        "card_not_supported",
        "currency_not_supported",
        "payment_method_not_available",
        "payment_method_unactivated",
        "payment_method_unsupported_type",
        "unsupported_card_brand",
    }
)
_REASONS: tuple[tuple[frozenset[str], RefusalReason], ...] = (
    (_INSUFFICIENT_FUNDS, RefusalReason.INSUFFICIENT_FUNDS),
    (_LIMIT_REACHED, RefusalReason.LIMIT_REACHED),
    (_INCORRECT_CARD_DETAILS, RefusalReason.INCORRECT_CARD_DETAILS),
    (_AUTHENTICATION_FAILED, RefusalReason.AUTHENTICATION_FAILED),
    (_UNSUPPORTED_METHOD, RefusalReason.UNSUPPORTED_METHOD),
)


def _reason_of(code: str | None) -> RefusalReason | None:
    if not code:
        return None
    for codes, reason in _REASONS:
        if code in codes:
            return reason
    return None


def refusal_reason(error_code: str | None, decline_code: str | None) -> RefusalReason:
    """The FAQ's reason for a refusal, from Stripe's error code and decline code.

    A generic decline (``card_declined`` with ``generic_decline``, ``do_not_honor``, or no decline
    code), a suspected fraud (``fraudulent``, ``lost_card``, ``stolen_card``: Stripe advises
    telling the customer nothing more) and anything unknown are ``other``.
    """
    return _reason_of(decline_code) or _reason_of(error_code) or RefusalReason.OTHER


@dataclass(frozen=True)
class Refusal:
    """Why an authorisation was refused, with Stripe's raw codes."""

    reason: RefusalReason
    error_code: str | None = None
    decline_code: str | None = None
    message: str | None = None

    @classmethod
    def from_stripe(
        cls, error_code: str | None, decline_code: str | None, message: str | None
    ) -> Refusal:
        return cls(
            reason=refusal_reason(error_code, decline_code),
            error_code=error_code,
            decline_code=decline_code,
            message=(message or None) and message[:1000],
        )


def check_payment_method(
    order_method: PaymentMethodType,
    stripe_type: str | None,
    card_brand: str | None,
    accepted_brands: frozenset[str],
) -> Refusal | None:
    """None when the PaymentMethod is one the shop accepts for this order, else the refusal.

    Accepted: cards of the accepted brands when the order says ``card``; Revolut Pay when it
    says ``revolut_pay``. Anything else (another brand, another type, a mismatch) is refused as
    ``unsupported_method`` before any money is held.
    """
    if stripe_type != order_method.value:
        return Refusal(
            RefusalReason.UNSUPPORTED_METHOD,
            error_code="payment_method_unsupported_type",
            message=f"PaymentMethod of type {stripe_type!r}, the order pays by {order_method}",
        )
    if order_method is PaymentMethodType.CARD:
        brand = (card_brand or "").lower()
        if brand not in accepted_brands:
            return Refusal(
                RefusalReason.UNSUPPORTED_METHOD,
                error_code="unsupported_card_brand",
                message=f"card brand {card_brand!r} is not accepted",
            )
    return None


# --- What Stripe says about an intent ------------------------------------------------------------


@dataclass(frozen=True)
class NextAction:
    type: str
    url: str | None


@dataclass(frozen=True)
class IntentView:
    """The parts of a Stripe PaymentIntent the rules need (from a reply, webhook or read-back)."""

    id: str
    status: str
    amount: int
    amount_capturable: int = 0
    amount_received: int = 0
    error_code: str | None = None
    decline_code: str | None = None
    error_message: str | None = None
    has_error: bool = False
    next_action: NextAction | None = None
    cancellation_reason: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    client_secret: str | None = field(default=None, repr=False)  # for Stripe.js; never logged

    @classmethod
    def from_stripe(cls, obj: dict[str, Any]) -> IntentView:
        """Build from a PaymentIntent as JSON (``StripeObject.to_dict()`` or a webhook)."""
        error = obj.get("last_payment_error") or None
        action = obj.get("next_action") or None
        metadata = obj.get("metadata") or {}
        return cls(
            id=str(obj["id"]),
            status=str(obj.get("status") or ""),
            amount=int(obj.get("amount") or 0),
            amount_capturable=int(obj.get("amount_capturable") or 0),
            amount_received=int(obj.get("amount_received") or 0),
            error_code=(error or {}).get("code"),
            decline_code=(error or {}).get("decline_code"),
            error_message=(error or {}).get("message"),
            has_error=error is not None,
            next_action=_next_action(action) if isinstance(action, dict) else None,
            cancellation_reason=obj.get("cancellation_reason"),
            metadata=tuple(sorted((str(k), str(v)) for k, v in metadata.items())),
            client_secret=obj.get("client_secret") or None,
        )

    def meta(self, key: str) -> str | None:
        return dict(self.metadata).get(key)


def _next_action(action: dict[str, Any]) -> NextAction:
    kind = str(action.get("type") or "unknown")
    url: str | None = None
    redirect = action.get("redirect_to_url")
    if isinstance(redirect, dict) and redirect.get("url"):
        url = str(redirect["url"])
    sdk = action.get(kind)
    if url is None and isinstance(sdk, dict):
        for field in ("stripe_js", "url", "hosted_voucher_url", "redirect_url"):
            value = sdk.get(field)
            if isinstance(value, str) and value.startswith(("https://", "http://")):
                url = value
                break
    return NextAction(type=kind[:64], url=url)


def usable_client_secret(secret: str | None, payment_intent_id: str) -> str | None:
    """The intent's client secret when it has Stripe's shape (``<intent id>_secret_<...>``),
    else None: the storefront then falls back to the next-action URL."""
    if not secret or not secret.startswith(f"{payment_intent_id}_secret_"):
        return None
    rest = secret[len(payment_intent_id) + len("_secret_") :]
    if not rest.isascii() or not rest.isalnum() or len(secret) > 255:
        return None
    return secret


def next_action_url(
    action: NextAction | None, template: str, *, order_id: UUID, payment_intent_id: str
) -> str:
    """Where the customer completes the action: Stripe's URL, else the storefront's page."""
    if action is not None and action.url:
        return action.url
    return template.format(order_id=order_id, payment_intent_id=payment_intent_id)


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


# --- Refunds -------------------------------------------------------------------------------------


class RefundStatus(StrEnum):
    REQUESTED = "requested"  # recorded; the Stripe refund not confirmed yet
    PENDING = "pending"  # Stripe accepted it, not settled
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # Stripe refused or failed it: customer service must look
    REJECTED = "rejected"  # we refused it (nothing captured, or more than what is left)
    AWAITING_CAPTURE = "awaiting_capture"  # the order is released, its capture not recorded yet


def refund_status_of(stripe_status: str | None) -> RefundStatus:
    match stripe_status:
        case "succeeded":
            return RefundStatus.SUCCEEDED
        case "failed" | "canceled":
            return RefundStatus.FAILED
        case _:
            return RefundStatus.PENDING


def refund_decision(
    requested_cents: int,
    captured_cents: int | None,
    refunded_cents: int,
    *,
    order_cancelled: bool,
) -> tuple[RefundStatus, str | None]:
    """What becomes of a refund request: made now, kept until the capture, or refused.

    A refund can only come from a capture. When none is recorded yet (the capture of the
    released order is still on its way, e.g. while Stripe or this service was away), the
    request waits for it; only an order whose holds were released (cancelled) has nothing to
    refund from, ever.
    """
    if captured_cents is None:
        if order_cancelled:
            return RefundStatus.REJECTED, "nothing was captured for this order"
        return RefundStatus.AWAITING_CAPTURE, None
    problem = refund_problem(requested_cents, captured_cents, refunded_cents)
    return (RefundStatus.REJECTED, problem) if problem else (RefundStatus.REQUESTED, None)


def refund_problem(requested_cents: int, captured_cents: int, refunded_cents: int) -> str | None:
    """Why a refund cannot be made (None when it can): never more than what is left."""
    if captured_cents <= 0:
        return "nothing was captured for this order"
    if requested_cents > captured_cents - refunded_cents:
        return (
            f"refund of {requested_cents} cents exceeds what is left "
            f"({captured_cents - refunded_cents} cents of {captured_cents} captured)"
        )
    return None
