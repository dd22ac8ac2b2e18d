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
from jg_devstack.stripe_webhooks import failed_intent, payment_intent, stripe_event
from jg_devstack.stripe_webhooks import refund as stripe_refund
from jg_events import PaymentMethodType, RefusalReason

from .conftest import (
    Payment,
    cancelled,
    cents,
    make_settings,
    placed,
    refund_requested,
    released,
    running,
    shipped,
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


async def captured_revolut_order(payment: Payment) -> tuple[object, str]:
    order, intent_id = await revolut_order(payment)
    for event_type, status in (
        ("payment_intent.amount_capturable_updated", "requires_capture"),
        ("payment_intent.succeeded", "succeeded"),
    ):
        if status == "succeeded":
            await payment.feed(released(order))
            await payment.wait_attempt(order.order_id, lambda a: a["status"] == "capturing")
        event = stripe_event(
            event_type,
            payment_intent(intent_id, 9937, status, payment_method_type="revolut_pay"),
        )
        assert (await payment.webhook(event)).status_code == 200
    await payment.events.wait_for(order.order_id, "PaymentCaptured")
    await payment.feed(shipped(order))
    await payment.events.wait_for(order.order_id, "InvoiceIssued")
    return order, intent_id


async def test_refund_requests_pass_stripe_mock_and_a_later_failure_is_recorded(
    mock_payment: Payment,
) -> None:
    payment = mock_payment
    order, intent_id = await captured_revolut_order(payment)
    request = refund_requested(order, full=False)
    await payment.feed(request)
    (refund,) = await payment.events.wait_for(order.order_id, "RefundIssued")
    assert refund.payload.amount == request.amount
    assert refund.payload.refund_id.startswith("re_")
    notes = await payment.events.wait_for(order.order_id, "InvoiceIssued", count=2)
    assert notes[1].payload.kind.value == "credit_note"

    # Stripe later reports the refund failed (refund.failed): recorded for customer service.
    failed = stripe_event(
        "refund.failed",
        stripe_refund(
            refund.payload.refund_id, cents(request.amount), "failed", payment_intent_id=intent_id
        ),
    )
    assert (await payment.webhook(failed)).json()["outcome"] == "applied"
    row = await payment.pool.fetchrow(
        "SELECT status, problem FROM payment_refunds WHERE refund_request_id = $1",
        request.refund_request_id,
    )
    assert row["status"] == "failed" and "failed after success" in row["problem"]


async def test_a_refund_stripe_settles_later_is_issued_when_its_webhook_arrives(
    mock_payment: Payment,
) -> None:
    payment = mock_payment
    order, intent_id = await captured_revolut_order(payment)
    request = refund_requested(order, full=False)
    attempt = await payment.attempt(order.order_id)
    # As if Stripe had answered the refund with status "pending" (bank transfers, some wallets).
    await payment.pool.execute(
        """INSERT INTO payment_refunds (refund_request_id, order_id, attempt_id,
               payment_intent_id, amount_cents, cause, reference_id, request, status,
               stripe_refund_id, correlation_id)
           VALUES ($1, $2, $3, $4, $5, 'return', $6, $7::jsonb, 'pending', 're_pending_1', 'c')""",
        request.refund_request_id,
        order.order_id,
        attempt["id"],
        intent_id,
        cents(request.amount),
        request.reference_id,
        request.model_dump_json(include={"lines", "shipping_refund", "amount"}),
    )
    assert payment.events.of(order.order_id, "RefundIssued") == []
    settled = stripe_event(
        "charge.refund.updated",
        stripe_refund(
            "re_pending_1", cents(request.amount), "succeeded", payment_intent_id=intent_id
        ),
    )
    assert (await payment.webhook(settled)).json()["outcome"] == "applied"
    (refund,) = await payment.events.wait_for(order.order_id, "RefundIssued")
    assert refund.payload.refund_id == "re_pending_1"
    assert refund.payload.refund_request_id == request.refund_request_id
    notes = await payment.events.wait_for(order.order_id, "InvoiceIssued", count=2)
    assert notes[1].payload.total_incl_vat == request.amount
