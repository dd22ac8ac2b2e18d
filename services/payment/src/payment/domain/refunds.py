"""Refund requests: their states and what becomes of them."""

from __future__ import annotations

from enum import StrEnum

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


class RefundMove(StrEnum):
    """What Stripe's news about a refund does to the request."""

    NONE = "none"  # already settled: nothing changes
    FAILED_AFTER_SUCCESS = "failed_after_success"  # reported done, then failed: support must act
    UPDATE = "update"  # record the reported status (pending, succeeded or failed)


def refund_move(current: RefundStatus, reported: RefundStatus) -> RefundMove:
    """Stripe can fail a refund after reporting it done (e.g. the card was closed); any other
    news of a settled request changes nothing."""
    if current is RefundStatus.SUCCEEDED and reported is RefundStatus.FAILED:
        return RefundMove.FAILED_AFTER_SUCCESS
    if current in (RefundStatus.SUCCEEDED, RefundStatus.FAILED, RefundStatus.REJECTED):
        return RefundMove.NONE
    return RefundMove.UPDATE


class RefundCall(StrEnum):
    """The Stripe call a refund request needs."""

    CREATE = "create"
    READ_BACK = "read_back"


def refund_call(status: RefundStatus, *, read_back: bool) -> RefundCall | None:
    """Create the refund of a recorded request; read back a pending one when asked to."""
    if status is RefundStatus.REQUESTED:
        return RefundCall.CREATE
    if status is RefundStatus.PENDING and read_back:
        return RefundCall.READ_BACK
    return None
