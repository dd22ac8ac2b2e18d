"""Why Stripe refused an authorisation, in the FAQ's reasons; the payment methods accepted."""

from __future__ import annotations

from dataclasses import dataclass

from jg_events import PaymentMethodType, RefusalReason

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
