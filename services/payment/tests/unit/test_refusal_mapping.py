"""Stripe's codes become the FAQ's refusal reasons; the raw codes are kept."""

import pytest
from jg_events import PaymentMethodType, RefusalReason
from payment.domain import Refusal, check_payment_method, refusal_reason

pytestmark = pytest.mark.unit

ACCEPTED = frozenset({"visa", "mastercard", "maestro"})


@pytest.mark.parametrize(
    ("error_code", "decline_code", "reason"),
    [
        ("card_declined", "insufficient_funds", RefusalReason.INSUFFICIENT_FUNDS),
        ("card_declined", "card_velocity_exceeded", RefusalReason.LIMIT_REACHED),
        ("card_declined", "withdrawal_count_limit_exceeded", RefusalReason.LIMIT_REACHED),
        ("incorrect_number", None, RefusalReason.INCORRECT_CARD_DETAILS),
        ("invalid_number", None, RefusalReason.INCORRECT_CARD_DETAILS),
        ("incorrect_cvc", None, RefusalReason.INCORRECT_CARD_DETAILS),
        ("expired_card", None, RefusalReason.INCORRECT_CARD_DETAILS),
        ("card_declined", "incorrect_cvc", RefusalReason.INCORRECT_CARD_DETAILS),
        ("card_declined", "expired_card", RefusalReason.INCORRECT_CARD_DETAILS),
        ("payment_intent_authentication_failure", None, RefusalReason.AUTHENTICATION_FAILED),
        ("card_declined", "authentication_required", RefusalReason.AUTHENTICATION_FAILED),
        ("card_declined", "card_not_supported", RefusalReason.UNSUPPORTED_METHOD),
        ("card_declined", "currency_not_supported", RefusalReason.UNSUPPORTED_METHOD),
        ("card_declined", None, RefusalReason.OTHER),
        ("card_declined", "generic_decline", RefusalReason.OTHER),
        ("card_declined", "do_not_honor", RefusalReason.OTHER),
        ("card_declined", "fraudulent", RefusalReason.OTHER),
        ("card_declined", "stolen_card", RefusalReason.OTHER),
        ("processing_error", None, RefusalReason.OTHER),
        (None, None, RefusalReason.OTHER),
        ("something_stripe_adds_tomorrow", None, RefusalReason.OTHER),
    ],
)
def test_stripe_codes_map_to_the_faq_reasons(
    error_code: str | None, decline_code: str | None, reason: RefusalReason
) -> None:
    assert refusal_reason(error_code, decline_code) is reason


def test_the_decline_code_wins_over_the_generic_error_code() -> None:
    # "card_declined" alone says nothing; the decline code says why.
    assert refusal_reason("card_declined", "insufficient_funds") is RefusalReason.INSUFFICIENT_FUNDS


def test_a_refusal_keeps_stripe_raw_codes_and_a_bounded_message() -> None:
    refusal = Refusal.from_stripe("card_declined", "card_velocity_exceeded", "x" * 5000)
    assert refusal.reason is RefusalReason.LIMIT_REACHED
    assert (refusal.error_code, refusal.decline_code) == ("card_declined", "card_velocity_exceeded")
    assert refusal.message is not None and len(refusal.message) == 1000


@pytest.mark.parametrize("brand", ["visa", "mastercard", "maestro", "Visa"])
def test_visa_mastercard_and_maestro_cards_are_accepted(brand: str) -> None:
    assert check_payment_method(PaymentMethodType.CARD, "card", brand, ACCEPTED) is None


@pytest.mark.parametrize("brand", ["amex", "diners", "jcb", "unionpay", "discover", None])
def test_another_card_brand_is_refused_as_unsupported_method(brand: str | None) -> None:
    refusal = check_payment_method(PaymentMethodType.CARD, "card", brand, ACCEPTED)
    assert refusal is not None
    assert refusal.reason is RefusalReason.UNSUPPORTED_METHOD
    assert refusal.error_code == "unsupported_card_brand"


def test_revolut_pay_is_accepted_without_a_card_brand() -> None:
    assert (
        check_payment_method(PaymentMethodType.REVOLUT_PAY, "revolut_pay", None, ACCEPTED) is None
    )


@pytest.mark.parametrize(
    ("order_method", "stripe_type"),
    [
        (PaymentMethodType.CARD, "sepa_debit"),
        (PaymentMethodType.CARD, "revolut_pay"),
        (PaymentMethodType.REVOLUT_PAY, "card"),
        (PaymentMethodType.CARD, None),
    ],
)
def test_a_payment_method_of_another_type_than_the_order_says_is_refused(
    order_method: PaymentMethodType, stripe_type: str | None
) -> None:
    refusal = check_payment_method(order_method, stripe_type, "visa", ACCEPTED)
    assert refusal is not None and refusal.reason is RefusalReason.UNSUPPORTED_METHOD
