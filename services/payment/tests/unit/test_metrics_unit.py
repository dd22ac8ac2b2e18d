"""Stripe requests are labelled by operation without their ids, and by outcome."""

import pytest
from payment.metrics import stripe_operation, stripe_outcome

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("method", "url", "operation"),
    [
        ("post", "http://stripe:12111/v1/payment_intents", "POST /v1/payment_intents"),
        (
            "post",
            "http://stripe/v1/payment_intents/pi_3Abc/capture",
            "POST /v1/payment_intents/{id}/capture",
        ),
        ("get", "https://api.stripe.com/v1/refunds/re_9?expand=x", "GET /v1/refunds/{id}"),
        (
            "post",
            "http://stripe/v1/payment_methods/pm_card_visa/attach",
            "POST /v1/payment_methods/{id}/attach",
        ),
    ],
)
def test_operation_is_the_path_template(method: str, url: str, operation: str) -> None:
    assert stripe_operation(method, url) == operation


def test_two_intents_share_one_operation() -> None:
    a = stripe_operation("GET", "http://s/v1/payment_intents/pi_1")
    b = stripe_operation("GET", "http://s/v1/payment_intents/pi_2")
    assert a == b


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "ok"),
        (402, "declined"),
        (400, "rejected"),
        (404, "rejected"),
        (500, "error"),
        (503, "error"),
        (None, "unreachable"),
    ],
)
def test_outcome_of_an_answer(status: int | None, outcome: str) -> None:
    assert stripe_outcome(status) == outcome
