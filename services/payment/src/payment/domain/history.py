"""An order's payment history as customer service reads it, from what payment keeps.

Payment keeps each attempt's and each refund's present state (not a log of every change), so
the history is rebuilt from it: an attempt that was authorised shows ``authorised`` at its
creation, then ``captured`` or ``released`` at its last change; a refund shows ``refunded`` (or
``refund_failed``, ``refund_pending``) at its last change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["AttemptFacts", "PaymentEvent", "RefundFacts", "payment_events"]

_AUTHORISED = {"authorized", "capturing", "captured", "cancelling", "cancelled"}


@dataclass(frozen=True)
class AttemptFacts:
    revision: int
    amount_cents: int
    status: str
    created_at: datetime
    updated_at: datetime
    action_required_at: datetime | None
    refusal_reason: str | None
    captured_cents: int | None
    cancel_reason: str | None
    card: str | None  # "visa •••• 4242"


@dataclass(frozen=True)
class RefundFacts:
    amount_cents: int
    status: str
    cause: str
    created_at: datetime
    updated_at: datetime
    problem: str | None


@dataclass(frozen=True)
class PaymentEvent:
    at: datetime
    kind: str
    amount_cents: int | None
    detail: str | None


def _attempt_events(a: AttemptFacts) -> list[PaymentEvent]:
    events = []
    card = f"{a.card}, révision {a.revision}" if a.card else f"révision {a.revision}"
    if a.action_required_at is not None:
        events.append(
            PaymentEvent(a.action_required_at, "authentication_required", a.amount_cents, card)
        )
    was_authorised = a.status in _AUTHORISED and a.refusal_reason is None
    if was_authorised:
        events.append(PaymentEvent(a.created_at, "authorised", a.amount_cents, card))
    if a.status == "refused":
        events.append(PaymentEvent(a.updated_at, "refused", a.amount_cents, a.refusal_reason))
    elif a.status == "captured":
        events.append(PaymentEvent(a.updated_at, "captured", a.captured_cents, None))
    elif a.status == "cancelled" and was_authorised:
        events.append(PaymentEvent(a.updated_at, "released", a.amount_cents, a.cancel_reason))
    elif a.status in ("authorizing", "awaiting"):
        events.append(PaymentEvent(a.created_at, "authorising", a.amount_cents, card))
    return events


_REFUND_KINDS = {"succeeded": "refunded", "failed": "refund_failed", "rejected": "refund_rejected"}


def payment_events(attempts: list[AttemptFacts], refunds: list[RefundFacts]) -> list[PaymentEvent]:
    """Every attempt's and refund's events, oldest first."""
    events = [e for attempt in attempts for e in _attempt_events(attempt)]
    events += [
        PaymentEvent(
            r.updated_at,
            _REFUND_KINDS.get(r.status, "refund_pending"),
            r.amount_cents,
            r.problem or r.cause,
        )
        for r in refunds
    ]
    return sorted(events, key=lambda e: e.at)
