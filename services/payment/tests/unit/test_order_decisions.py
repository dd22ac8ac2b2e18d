"""The decisions the order's events, Stripe's answers and refund news take about attempts and
refund requests, which only the integration tests reached while they lived in the handlers and
the workflow: which hold a release captures, what a cancellation releases, when a restored
revision needs no new authorisation, which older holds a newer outcome releases, which attempt
an invoice names, how a refund request moves, and who may read an invoice."""

from dataclasses import dataclass
from uuid import uuid4

import pytest
from jg_events import PaymentCancellationReason
from payment.domain import (
    Action,
    AttemptStatus,
    CancelStep,
    Desired,
    Outcome,
    RefundCall,
    RefundMove,
    RefundStatus,
    call_to_make,
    covered_by_hold,
    hold_to_capture,
    may_read_document,
    on_order_cancelled,
    paying_attempt,
    refund_call,
    refund_move,
    superseded,
    superseding_reason,
)

pytestmark = pytest.mark.unit

S = AttemptStatus


@dataclass(frozen=True)
class Attempt:
    revision: int
    state: AttemptStatus
    wants: Desired = Desired.AUTHORIZED
    amount_cents: int = 10_000


# --- release: which hold is captured -----------------------------------------------------------


def test_a_release_captures_the_latest_wanted_hold_up_to_the_released_revision() -> None:
    first = Attempt(0, S.AUTHORIZED, Desired.CANCELLED)  # superseded, being released
    second = Attempt(1, S.AUTHORIZED)
    later = Attempt(2, S.AUTHORIZING)  # a revision after the released one
    assert hold_to_capture([first, second, later], released_revision=1) is second


def test_a_release_waits_for_an_authorisation_still_pending() -> None:
    waiting = Attempt(0, S.REQUIRES_ACTION)
    assert hold_to_capture([waiting], released_revision=0) is waiting


def test_a_release_without_a_live_hold_captures_nothing() -> None:
    attempts = [Attempt(0, S.REFUSED), Attempt(1, S.CANCELLED, Desired.CANCELLED)]
    assert hold_to_capture(attempts, released_revision=1) is None
    assert hold_to_capture([], released_revision=0) is None


# --- cancellation: what is released ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "desired", "step"),
    [
        (S.AUTHORIZED, Desired.AUTHORIZED, CancelStep.CANCEL),
        (S.AUTHORIZING, Desired.AUTHORIZED, CancelStep.CANCEL),
        (S.REQUIRES_ACTION, Desired.AUTHORIZED, CancelStep.CANCEL),
        (S.AUTHORIZED, Desired.CANCELLED, CancelStep.SKIP),  # already being released
        (S.REFUSED, Desired.AUTHORIZED, CancelStep.SKIP),
        (S.CANCELLED, Desired.CANCELLED, CancelStep.SKIP),
        (S.CAPTURED, Desired.CAPTURED, CancelStep.SKIP),  # final: nothing to release
        (S.CAPTURING, Desired.CAPTURED, CancelStep.TOO_LATE),  # money taken: a refund's job
    ],
)
def test_a_cancellation_releases_every_live_hold_and_never_a_capture(
    status: AttemptStatus, desired: Desired, step: CancelStep
) -> None:
    assert on_order_cancelled(status, desired) is step


# --- restored revision: a standing hold covers it -------------------------------------------------


def test_a_restored_revision_is_covered_by_a_standing_hold_of_at_least_its_total() -> None:
    hold = Attempt(0, S.AUTHORIZED, amount_cents=10_000)
    assert covered_by_hold(hold, 10_000)
    assert covered_by_hold(hold, 9_999)
    assert not covered_by_hold(hold, 10_001)


def test_a_hold_released_or_not_granted_covers_nothing() -> None:
    assert not covered_by_hold(None, 100)
    assert not covered_by_hold(Attempt(0, S.AUTHORIZED, Desired.CANCELLED), 100)
    assert not covered_by_hold(Attempt(0, S.REQUIRES_ACTION), 100)


# --- a newer outcome and the older holds ---------------------------------------------------------


def test_a_granted_authorisation_supersedes_older_holds_and_a_refusal_ends_them() -> None:
    assert superseding_reason(Outcome.AUTHORIZED, Desired.AUTHORIZED) is (
        PaymentCancellationReason.SUPERSEDED
    )
    assert superseding_reason(Outcome.REFUSED, Desired.AUTHORIZED) is (
        PaymentCancellationReason.OTHER
    )
    # an authorisation the order no longer wants supersedes nothing; other outcomes neither
    assert superseding_reason(Outcome.AUTHORIZED, Desired.CANCELLED) is None
    assert superseding_reason(Outcome.CAPTURED, Desired.CAPTURED) is None
    assert superseding_reason(Outcome.ACTION_REQUIRED, Desired.AUTHORIZED) is None


def test_only_older_live_wanted_attempts_are_superseded() -> None:
    old_hold = Attempt(0, S.AUTHORIZED)
    old_released = Attempt(1, S.AUTHORIZED, Desired.CANCELLED)
    old_refused = Attempt(2, S.REFUSED)
    newer = Attempt(3, S.AUTHORIZED)
    newest = Attempt(4, S.AUTHORIZING)
    attempts = [old_hold, old_released, old_refused, newer, newest]
    assert superseded(attempts, 3) == [old_hold]


# --- the invoice's payment ----------------------------------------------------------------------


def test_the_invoice_names_the_latest_capture_else_the_latest_authorisation() -> None:
    captured = Attempt(0, S.CAPTURED, Desired.CAPTURED)
    authorized = Attempt(1, S.AUTHORIZED)
    assert paying_attempt([captured, authorized]) is captured
    assert paying_attempt([Attempt(0, S.AUTHORIZED), authorized]) is authorized
    assert paying_attempt([Attempt(0, S.REFUSED)]) is None


# --- what a worker calls now ---------------------------------------------------------------------


def test_a_read_back_is_made_only_when_asked_for() -> None:
    pending = {"authorize_sent": True, "has_intent": True}
    assert call_to_make(S.AWAITING, Desired.AUTHORIZED, read_back=False, **pending) is None
    assert call_to_make(S.AWAITING, Desired.AUTHORIZED, read_back=True, **pending) is (
        Action.READ_BACK
    )
    # money-moving calls do not wait for a read-back request
    assert call_to_make(S.AUTHORIZED, Desired.CAPTURED, read_back=False, **pending) is (
        Action.CAPTURE
    )


# --- refunds -------------------------------------------------------------------------------------

R = RefundStatus


@pytest.mark.parametrize(
    ("current", "reported", "move"),
    [
        (R.REQUESTED, R.PENDING, RefundMove.UPDATE),
        (R.REQUESTED, R.SUCCEEDED, RefundMove.UPDATE),
        (R.PENDING, R.SUCCEEDED, RefundMove.UPDATE),
        (R.PENDING, R.FAILED, RefundMove.UPDATE),
        (R.SUCCEEDED, R.FAILED, RefundMove.FAILED_AFTER_SUCCESS),  # the card was closed
        (R.SUCCEEDED, R.SUCCEEDED, RefundMove.NONE),  # a repeated webhook
        (R.FAILED, R.SUCCEEDED, RefundMove.NONE),
        (R.REJECTED, R.SUCCEEDED, RefundMove.NONE),
    ],
)
def test_refund_news_moves_an_open_request_and_flags_a_failure_after_success(
    current: RefundStatus, reported: RefundStatus, move: RefundMove
) -> None:
    assert refund_move(current, reported) is move


def test_a_recorded_refund_is_created_and_a_pending_one_read_back_only_when_asked() -> None:
    assert refund_call(R.REQUESTED, read_back=False) is RefundCall.CREATE
    assert refund_call(R.PENDING, read_back=False) is None
    assert refund_call(R.PENDING, read_back=True) is RefundCall.READ_BACK
    for settled in (R.SUCCEEDED, R.FAILED, R.REJECTED, R.AWAITING_CAPTURE):
        assert refund_call(settled, read_back=True) is None


# --- invoices ------------------------------------------------------------------------------------


def test_an_invoice_is_read_by_its_customer_or_internal_callers_only() -> None:
    owner, other = uuid4(), uuid4()
    assert may_read_document(owner, internal=False, customer_id=owner)
    assert not may_read_document(owner, internal=False, customer_id=other)
    assert may_read_document(owner, internal=True, customer_id=None)
    # a guest order's invoice belongs to no account
    assert not may_read_document(None, internal=False, customer_id=other)
    assert may_read_document(None, internal=True, customer_id=None)
