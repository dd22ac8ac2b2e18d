"""Money (euros and Stripe's cents) and the idempotency keys of Stripe calls."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from uuid import UUID

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
