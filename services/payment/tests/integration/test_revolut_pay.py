"""Revolut Pay: the requests are checked by stripe-mock, the outcomes arrive as signed webhooks.

stripe-mock validates every request against Stripe's OpenAPI specification (an unknown
parameter or a bad value is a 400) but keeps no state and answers canned objects, so nothing
is ever read back from it (the synchronisation pass is off) and the outcome of each step comes
the way Stripe sends it for a redirect-based method: a webhook.
"""

from collections.abc import AsyncIterator

import pytest
from jg_devstack import Endpoints
from jg_devstack.databases import create_database_async, drop_database_async
from jg_events import PaymentMethodType, RefusalReason
from payment.testing import failed_intent, payment_intent, stripe_event

from .conftest import (
    Payment,
    cancelled,
    make_settings,
    placed,
    released,
    running,
    unique_prefix,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def mock_payment(stack: Endpoints) -> AsyncIterator[Payment]:
    dsn = await create_database_async()
    settings = make_settings(
        stack,
        dsn,
        unique_prefix(),
        stripe_api_base=stack.stripe_mock_url,
        stripe_sync_interval=0,
    )
    try:
        async with running(settings, stack) as service:
            yield service
    finally:
        await drop_database_async(dsn)


async def revolut_order(payment: Payment) -> tuple[object, str]:
    pm = await payment.stripe.v1.payment_methods.create_async({"type": "revolut_pay"})
    order = placed(pm.id, method=PaymentMethodType.REVOLUT_PAY)
    await payment.feed(order)
    # stripe-mock accepted the PaymentIntent request (a malformed one is refused with 400):
    # the attempt holds the intent's id and waits for Stripe's word on it.
    attempt = await payment.wait_attempt(order.order_id, lambda a: a["status"] == "awaiting")
    assert attempt["payment_intent_id"].startswith("pi_")
    assert attempt["last_error"] is None
    return order, attempt["payment_intent_id"]


async def test_a_revolut_pay_order_is_authorised_by_webhook_and_captured_on_release(
    mock_payment: Payment,
) -> None:
    payment = mock_payment
    order, intent_id = await revolut_order(payment)
    assert payment.events.of(order.order_id) == []  # no outcome before Stripe's word

    authorised = stripe_event(
        "payment_intent.amount_capturable_updated",
        payment_intent(
            intent_id,
            9937,
            "requires_capture",
            payment_method_type="revolut_pay",
            order_id=order.order_id,
            revision=0,
        ),
    )
    assert (await payment.webhook(authorised)).json()["outcome"] == "applied"
    (event,) = await payment.events.wait_for(order.order_id, "PaymentAuthorized")
    assert event.payload.payment_method_type is PaymentMethodType.REVOLUT_PAY
    assert event.payload.card_brand is None
    assert event.payload.amount == order.totals.total

    # The capture request passes stripe-mock; Stripe confirms it with payment_intent.succeeded.
    await payment.feed(released(order))
    await payment.wait_attempt(order.order_id, lambda a: a["status"] == "capturing")
    succeeded = stripe_event(
        "payment_intent.succeeded",
        payment_intent(intent_id, 9937, "succeeded", payment_method_type="revolut_pay"),
    )
    assert (await payment.webhook(succeeded)).json()["outcome"] == "applied"
    (captured,) = await payment.events.wait_for(order.order_id, "PaymentCaptured")
    assert captured.payload.amount == order.totals.total
    assert await payment.events.quiet(order.order_id, 1.0) == [
        "PaymentAuthorized",
        "PaymentCaptured",
    ]


async def test_a_revolut_pay_failure_arrives_as_a_webhook_and_refuses_the_order(
    mock_payment: Payment,
) -> None:
    payment = mock_payment
    order, intent_id = await revolut_order(payment)
    failed = stripe_event(
        "payment_intent.payment_failed",
        failed_intent(
            intent_id,
            9937,
            "payment_method_provider_decline",
            message="The payment was declined by Revolut.",
            payment_method_type="revolut_pay",
        ),
    )
    assert (await payment.webhook(failed)).json()["outcome"] == "applied"
    (refused,) = await payment.events.wait_for(order.order_id, "PaymentRefused")
    assert refused.payload.reason is RefusalReason.OTHER
    assert refused.payload.stripe_error_code == "payment_method_provider_decline"
    assert refused.payload.payment_method_type is PaymentMethodType.REVOLUT_PAY


async def test_a_revolut_pay_order_cancelled_before_release_is_cancelled_at_stripe(
    mock_payment: Payment,
) -> None:
    payment = mock_payment
    order, intent_id = await revolut_order(payment)
    await payment.feed(cancelled(order))
    # The cancel request passed stripe-mock; Stripe's payment_intent.canceled settles it.
    await payment.wait_attempt(order.order_id, lambda a: a["status"] == "cancelling")
    event = stripe_event(
        "payment_intent.canceled",
        payment_intent(intent_id, 9937, "canceled", cancellation_reason="requested_by_customer"),
    )
    assert (await payment.webhook(event)).json()["outcome"] == "applied"
    (cancelled_event,) = await payment.events.wait_for(order.order_id, "PaymentCancelled")
    assert cancelled_event.payload.reason.value == "order_cancelled"
