"""What Stripe says moves an attempt forward only; replays and late news change nothing."""

from decimal import Decimal
from uuid import UUID

import pytest
from jg_events import PaymentCancellationReason, RefusalReason
from payment.domain import (
    Action,
    AttemptStatus,
    Desired,
    IntentView,
    Outcome,
    RefundStatus,
    Refusal,
    Source,
    Step,
    cancellation_reason,
    capture_amount,
    from_cents,
    idempotency_key,
    next_action,
    next_action_url,
    publishes_outcome,
    refund_decision,
    refund_idempotency_key,
    refund_problem,
    refused,
    to_cents,
    transition,
)

pytestmark = pytest.mark.unit

S = AttemptStatus
ORDER = UUID("0b6f8a52-3c1e-4d7a-9a55-2f1de0c7a001")


def view(status: str, **kwargs: object) -> IntentView:
    return IntentView(id="pi_1", status=status, amount=9937, **kwargs)  # type: ignore[arg-type]


def failed(code: str, decline: str | None = None) -> IntentView:
    return view("requires_payment_method", has_error=True, error_code=code, decline_code=decline)


def test_money_converts_to_stripe_cents_exactly() -> None:
    assert to_cents(Decimal("99.37")) == 9937
    assert from_cents(9937) == Decimal("99.37")
    with pytest.raises(ValueError):
        to_cents(Decimal("0.001"))


def test_idempotency_keys_derive_from_order_revision_and_step() -> None:
    key = idempotency_key(ORDER, 2, Step.CAPTURE)
    assert key == idempotency_key(ORDER, 2, Step.CAPTURE)
    assert str(ORDER) in key and "r2" in key and "capture" in key
    keys = {idempotency_key(ORDER, r, s) for r in (0, 1) for s in (Step.AUTHORIZE, Step.CAPTURE)}
    assert len(keys) == 4
    refund_key = refund_idempotency_key(ORDER, UUID(int=7))
    assert str(UUID(int=7)) in refund_key
    with pytest.raises(ValueError):
        idempotency_key(ORDER, 0, Step.REFUND)


@pytest.mark.parametrize("current", [S.AUTHORIZING, S.AWAITING, S.REQUIRES_ACTION])
def test_a_hold_authorises_a_pending_attempt(current: AttemptStatus) -> None:
    t = transition(current, view("requires_capture"), Source.WEBHOOK)
    assert (t.status, t.outcome) == (S.AUTHORIZED, Outcome.AUTHORIZED)


def test_an_authorised_attempt_hearing_it_again_publishes_nothing() -> None:
    t = transition(S.AUTHORIZED, view("requires_capture"), Source.WEBHOOK)
    assert (t.status, t.outcome) == (S.AUTHORIZED, None)


def test_three_d_secure_is_a_state_not_a_failure() -> None:
    t = transition(S.AUTHORIZING, view("requires_action"), Source.AUTHORIZE)
    assert (t.status, t.outcome) == (S.REQUIRES_ACTION, Outcome.ACTION_REQUIRED)
    again = transition(S.REQUIRES_ACTION, view("requires_action"), Source.READ_BACK)
    assert again.outcome is None


def test_a_failed_authentication_read_back_is_a_refusal_with_its_reason() -> None:
    t = transition(
        S.REQUIRES_ACTION, failed("payment_intent_authentication_failure"), Source.READ_BACK
    )
    assert (t.status, t.outcome) == (S.REFUSED, Outcome.REFUSED)
    assert t.refusal is not None
    assert t.refusal.reason is RefusalReason.AUTHENTICATION_FAILED
    assert t.refusal.error_code == "payment_intent_authentication_failure"


def test_payment_failed_webhook_refuses_with_the_decline_code() -> None:
    t = transition(S.AWAITING, failed("card_declined", "insufficient_funds"), Source.WEBHOOK)
    assert t.refusal is not None and t.refusal.reason is RefusalReason.INSUFFICIENT_FUNDS


def test_a_successful_reply_is_never_read_as_a_refusal() -> None:
    # stripe-mock answers every confirmation with a canned requires_payment_method and an
    # error object; Stripe itself reports a declined confirmation as an HTTP error.
    t = transition(S.AUTHORIZING, failed("card_declined"), Source.AUTHORIZE)
    assert (t.status, t.outcome) == (S.AWAITING, None)


@pytest.mark.parametrize("source", [Source.CAPTURE, Source.CANCEL])
def test_the_reply_to_our_own_capture_or_cancel_is_never_read_as_a_refusal(
    source: Source,
) -> None:
    t = transition(S.AWAITING, failed("card_declined"), source)
    assert t.outcome is None


def test_a_late_failure_does_not_undo_an_authorisation() -> None:
    t = transition(S.AUTHORIZED, failed("card_declined"), Source.WEBHOOK)
    assert (t.status, t.outcome) == (S.AUTHORIZED, None)


@pytest.mark.parametrize("final", [S.REFUSED, S.CAPTURED, S.CANCELLED])
def test_final_states_never_move(final: AttemptStatus) -> None:
    for status in ("requires_capture", "succeeded", "canceled", "requires_action"):
        t = transition(final, view(status), Source.WEBHOOK)
        assert (t.status, t.outcome) == (final, None)


def test_capture_succeeds_or_waits_for_stripe_to_settle_it() -> None:
    done = transition(S.AUTHORIZED, view("succeeded"), Source.CAPTURE)
    assert (done.status, done.outcome) == (S.CAPTURED, Outcome.CAPTURED)
    waiting = transition(S.AUTHORIZED, view("processing"), Source.CAPTURE)
    assert (waiting.status, waiting.outcome) == (S.CAPTURING, None)
    settled = transition(S.CAPTURING, view("succeeded"), Source.WEBHOOK)
    assert settled.outcome is Outcome.CAPTURED


def test_cancellation_releases_the_hold() -> None:
    t = transition(S.AUTHORIZED, view("canceled"), Source.CANCEL)
    assert (t.status, t.outcome) == (S.CANCELLED, Outcome.CANCELLED)
    t = transition(S.REQUIRES_ACTION, view("canceled"), Source.WEBHOOK)
    assert t.outcome is Outcome.CANCELLED


def test_a_declined_call_refuses_only_a_pending_attempt() -> None:
    refusal = Refusal(RefusalReason.OTHER, "card_declined")
    assert refused(S.AUTHORIZING, refusal).outcome is Outcome.REFUSED
    assert refused(S.AUTHORIZED, refusal).outcome is None


def test_cancellation_reason_is_ours_when_we_asked_else_stripe_s() -> None:
    mine = PaymentCancellationReason.SUPERSEDED
    assert cancellation_reason(mine, "automatic") is mine
    expired = cancellation_reason(None, "automatic")
    assert expired is PaymentCancellationReason.AUTHORIZATION_EXPIRED
    assert cancellation_reason(None, None) is PaymentCancellationReason.OTHER


def test_next_calls() -> None:
    assert (
        next_action(S.AUTHORIZING, Desired.AUTHORIZED, authorize_sent=False, has_intent=False)
        is Action.AUTHORIZE
    )
    # cancelled before anything reached Stripe: nothing to release
    assert (
        next_action(S.AUTHORIZING, Desired.CANCELLED, authorize_sent=False, has_intent=False)
        is Action.DROP
    )
    # cancelled after the call left: find the intent first (same key), then cancel it
    assert (
        next_action(S.AUTHORIZING, Desired.CANCELLED, authorize_sent=True, has_intent=False)
        is Action.AUTHORIZE
    )
    assert (
        next_action(S.AUTHORIZED, Desired.CAPTURED, authorize_sent=True, has_intent=True)
        is Action.CAPTURE
    )
    assert (
        next_action(S.AUTHORIZED, Desired.CANCELLED, authorize_sent=True, has_intent=True)
        is Action.CANCEL
    )
    assert (
        next_action(S.REQUIRES_ACTION, Desired.AUTHORIZED, authorize_sent=True, has_intent=True)
        is Action.READ_BACK
    )
    assert (
        next_action(S.AUTHORIZED, Desired.AUTHORIZED, authorize_sent=True, has_intent=True) is None
    )
    assert next_action(S.CAPTURED, Desired.CAPTURED, authorize_sent=True, has_intent=True) is None


def test_an_unwanted_authorisation_is_not_announced() -> None:
    assert not publishes_outcome(Outcome.AUTHORIZED, Desired.CANCELLED)
    assert publishes_outcome(Outcome.CANCELLED, Desired.CANCELLED)
    assert publishes_outcome(Outcome.AUTHORIZED, Desired.CAPTURED)


def test_capture_never_exceeds_the_hold() -> None:
    assert capture_amount(9000, 9937) == 9000
    assert capture_amount(12000, 9937) == 9937


def test_refunds_never_exceed_what_is_left() -> None:
    assert refund_problem(5000, 9937, 0) is None
    assert refund_problem(4937, 9937, 5000) is None
    assert refund_problem(4938, 9937, 5000) is not None
    assert refund_problem(100, 0, 0) == "nothing was captured for this order"


def test_a_refund_before_the_capture_waits_for_it_unless_the_order_was_cancelled() -> None:
    assert refund_decision(9937, None, 0, order_cancelled=False) == (
        RefundStatus.AWAITING_CAPTURE,
        None,
    )
    assert refund_decision(9937, None, 0, order_cancelled=True) == (
        RefundStatus.REJECTED,
        "nothing was captured for this order",
    )
    assert refund_decision(9937, 9937, 0, order_cancelled=False) == (RefundStatus.REQUESTED, None)
    status, problem = refund_decision(9938, 9937, 0, order_cancelled=False)
    assert status is RefundStatus.REJECTED and problem is not None


def test_next_action_url_prefers_stripe_s_own_page() -> None:
    stripe_page = IntentView.from_stripe(
        {
            "id": "pi_1",
            "status": "requires_action",
            "amount": 100,
            "next_action": {
                "type": "redirect_to_url",
                "redirect_to_url": {"url": "https://hooks.stripe.com/3d/abc", "return_url": "x"},
            },
        }
    ).next_action
    template = "https://shop.example/orders/{order_id}/auth?pi={payment_intent_id}"
    assert next_action_url(stripe_page, template, order_id=ORDER, payment_intent_id="pi_1") == (
        "https://hooks.stripe.com/3d/abc"
    )
    sdk_only = IntentView.from_stripe(
        {
            "id": "pi_1",
            "status": "requires_action",
            "amount": 100,
            "next_action": {"type": "use_stripe_sdk", "use_stripe_sdk": {"stripe_js": ""}},
        }
    ).next_action
    assert sdk_only is not None and sdk_only.type == "use_stripe_sdk"
    assert next_action_url(sdk_only, template, order_id=ORDER, payment_intent_id="pi_1") == (
        f"https://shop.example/orders/{ORDER}/auth?pi=pi_1"
    )
