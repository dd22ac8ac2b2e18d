"""Orders as payment sees them: their state, and the decisions the order's events need about
its attempts (which hold to capture, which to cancel, which invoice line pays)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol, TypeVar

from jg_events import PaymentCancellationReason

from payment.domain.attempts import AttemptStatus, Desired, Outcome


class OrderState(StrEnum):
    """Where the order stands for payment (``payment_orders.state``)."""

    OPEN = "open"
    RELEASED = "released"
    CANCELLED = "cancelled"


class Attempt(Protocol):
    """What these decisions read of an attempt (``repository.AttemptRow`` has it)."""

    @property
    def revision(self) -> int: ...
    @property
    def amount_cents(self) -> int: ...
    @property
    def state(self) -> AttemptStatus: ...
    @property
    def wants(self) -> Desired: ...


A = TypeVar("A", bound=Attempt)


class CancelStep(StrEnum):
    """What an order's cancellation does to one of its attempts."""

    SKIP = "skip"  # final, or already being cancelled
    CANCEL = "cancel"  # release its hold
    TOO_LATE = "too_late"  # captured (or being captured): a refund's business, not a release


def on_order_cancelled(status: AttemptStatus, desired: Desired) -> CancelStep:
    """An order's cancellation releases every hold; nothing was captured, nothing is refunded."""
    if status.final or desired is Desired.CANCELLED:
        return CancelStep.SKIP
    if status in (AttemptStatus.CAPTURING, AttemptStatus.CAPTURED):
        return CancelStep.TOO_LATE
    return CancelStep.CANCEL


def hold_to_capture(attempts: Sequence[A], released_revision: int) -> A | None:
    """The attempt a release captures: the latest up to the released revision that the order
    still wants and that holds (or may soon hold) the money; None when there is none."""
    live = [
        a
        for a in attempts
        if a.revision <= released_revision
        and a.wants is not Desired.CANCELLED
        and (a.state.pending_outcome or a.state is AttemptStatus.AUTHORIZED)
    ]
    return live[-1] if live else None


def covered_by_hold(held: Attempt | None, total_cents: int) -> bool:
    """A revision restoring an earlier one needs no new authorisation while that one's hold
    stands (authorised, still wanted) and covers its total."""
    return (
        held is not None
        and held.state is AttemptStatus.AUTHORIZED
        and held.wants is Desired.AUTHORIZED
        and held.amount_cents >= total_cents
    )


def superseding_reason(outcome: Outcome, desired: Desired) -> PaymentCancellationReason | None:
    """Why the older holds of an order go after this outcome of a newer attempt (None: they
    stay): a granted authorisation supersedes them, a refusal ends the order."""
    if outcome is Outcome.AUTHORIZED and desired is not Desired.CANCELLED:
        return PaymentCancellationReason.SUPERSEDED
    if outcome is Outcome.REFUSED:
        return PaymentCancellationReason.OTHER
    return None


def superseded(attempts: Sequence[A], revision: int) -> list[A]:
    """The attempts of revisions before ``revision`` still live and wanted."""
    return [
        a
        for a in attempts
        if a.revision < revision and not a.state.final and a.wants is not Desired.CANCELLED
    ]


def paying_attempt(attempts: Sequence[A]) -> A | None:
    """The attempt an invoice names as paying: the latest captured, else the latest authorised."""
    for status in (AttemptStatus.CAPTURED, AttemptStatus.AUTHORIZED):
        found = next((a for a in reversed(attempts) if a.state is status), None)
        if found is not None:
            return found
    return None
