"""An order's payment history rebuilt from the attempts' and refunds' states."""

from datetime import UTC, datetime, timedelta

import pytest
from payment.domain.history import AttemptFacts, RefundFacts, payment_events

pytestmark = pytest.mark.unit

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def attempt(status: str, **changes: object) -> AttemptFacts:
    values: dict[str, object] = {
        "revision": 0,
        "amount_cents": 10150,
        "status": status,
        "created_at": T0,
        "updated_at": T0 + timedelta(minutes=5),
        "action_required_at": None,
        "refusal_reason": None,
        "captured_cents": None,
        "cancel_reason": None,
        "card": "visa •••• 4242",
    }
    values.update(changes)
    return AttemptFacts(**values)  # type: ignore[arg-type]


def kinds(*attempts: AttemptFacts, refunds: tuple[RefundFacts, ...] = ()) -> list[str]:
    return [e.kind for e in payment_events(list(attempts), list(refunds))]


def test_each_attempt_tells_what_happened_to_the_hold() -> None:
    assert kinds(attempt("captured", captured_cents=10150)) == ["authorised", "captured"]
    assert kinds(attempt("cancelled", cancel_reason="order_cancelled")) == [
        "authorised",
        "released",
    ]
    assert kinds(attempt("refused", refusal_reason="insufficient_funds")) == ["refused"]
    three_ds = attempt("authorized", action_required_at=T0 + timedelta(minutes=1))
    assert kinds(three_ds) == ["authorised", "authentication_required"]
    assert kinds(attempt("awaiting")) == ["authorising"]


def test_refunds_come_after_in_time_order_with_their_outcome() -> None:
    later = T0 + timedelta(days=3)
    refunds = (
        RefundFacts(5997, "succeeded", "claim", later, later, None),
        RefundFacts(100, "failed", "return", later, later + timedelta(hours=1), "card expired"),
    )
    events = payment_events([attempt("captured", captured_cents=10150)], list(refunds))
    assert [(e.kind, e.amount_cents) for e in events] == [
        ("authorised", 10150),
        ("captured", 10150),
        ("refunded", 5997),
        ("refund_failed", 100),
    ]
    assert events[-1].detail == "card expired"
