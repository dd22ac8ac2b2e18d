"""A modification that raises the total re-authorises the same card, and one left waiting for
3-D Secure is resolved on its own.

Against localstripe (stateful: the Customer, the attached card, the intents are real there)
with a two-second PAYMENT_REAUTHORISATION_TIMEOUT; and against stripe-mock, which checks every
request of the card flow (Customer with the card attached, PaymentIntent on the Customer)
against Stripe's OpenAPI specification.
"""

from collections.abc import AsyncIterator

import httpx
import pytest
from jg_devstack import Endpoints
from jg_devstack.databases import create_database_async, drop_database_async
from jg_events import OrderModified

from .conftest import (
    THREE_D_SECURE,
    Payment,
    cents,
    make_settings,
    modified,
    placed,
    released,
    running,
    unique_prefix,
)

pytestmark = pytest.mark.integration

TIMEOUT = 2.0  # PAYMENT_REAUTHORISATION_TIMEOUT in these tests (production: 1800)


@pytest.fixture(scope="module")
async def impatient_payment(stack: Endpoints) -> AsyncIterator[Payment]:
    dsn = await create_database_async()
    settings = make_settings(stack, dsn, unique_prefix(), reauthorisation_timeout=TIMEOUT)
    try:
        async with running(settings, stack) as service:
            yield service
    finally:
        await drop_database_async(dsn)


@pytest.fixture(scope="module")
async def mock_payment(stack: Endpoints) -> AsyncIterator[Payment]:
    dsn = await create_database_async()
    settings = make_settings(
        stack, dsn, unique_prefix(), stripe_api_base=stack.stripe_mock_url, stripe_sync_interval=0
    )
    try:
        async with running(settings, stack) as service:
            yield service
    finally:
        await drop_database_async(dsn)


async def stripe_js_authenticates(payment: Payment, client_secret: str) -> None:
    """The browser finishes 3-D Secure with the client secret and the publishable key only."""
    intent_id = client_secret.split("_secret_", 1)[0]
    async with httpx.AsyncClient(base_url=payment.stack.localstripe_url) as browser:
        answer = await browser.post(
            f"/v1/payment_intents/{intent_id}/_authenticate",
            params={"success": "true"},
            json={"key": "pk_test_jgdevstack", "client_secret": client_secret},
        )
    assert answer.status_code == 200, answer.text


async def test_a_re_authorisation_left_unauthenticated_is_given_up_and_the_first_hold_captured(
    impatient_payment: Payment,
) -> None:
    payment = impatient_payment
    pm = await payment.card(THREE_D_SECURE)  # the bank asks for 3-D Secure every time
    order = placed(pm)
    await payment.feed(order)
    (first_action,) = await payment.events.wait_for(order.order_id, "PaymentActionRequired")
    first_intent = first_action.payload.payment_intent_id
    # The client secret travels to checkout, and is the intent's own.
    secret = first_action.payload.client_secret
    assert secret == (await payment.intent(first_intent))["client_secret"]
    assert secret not in repr(first_action.payload)
    await stripe_js_authenticates(payment, secret)
    (authorised,) = await payment.events.wait_for(order.order_id, "PaymentAuthorized")
    held = await payment.intent(first_intent)
    customer = held["customer"]
    assert customer and customer.startswith("cus_")  # the card is on the order's Customer

    # The customer raises the total; the same card is asked again and never authenticated.
    raised = modified(order, matcha_quantity=5)
    assert raised.totals.total > order.totals.total
    await payment.feed(raised)
    actions = await payment.events.wait_for(order.order_id, "PaymentActionRequired", count=2)
    second_intent = actions[1].payload.payment_intent_id
    second = await payment.intent(second_intent)
    assert (second["customer"], second["payment_method"]) == (customer, pm)

    (expired,) = await payment.events.wait_for(
        order.order_id, "PaymentAuthenticationExpired", timeout=TIMEOUT + 15
    )
    assert expired.payload.order_revision == 1
    assert expired.payload.payment_intent_id == second_intent
    assert expired.payload.held_revision == 0
    assert expired.payload.held_amount == order.totals.total
    (superseded,) = await payment.events.wait_for(order.order_id, "PaymentCancelled")
    assert superseded.payload.payment_intent_id == second_intent
    assert superseded.payload.reason.value == "superseded"
    assert (await payment.intent(second_intent))["status"] == "canceled"
    assert (await payment.intent(first_intent))["status"] == "requires_capture"  # still held
    attempt = await payment.attempt(order.order_id, revision=1)
    assert attempt["client_secret"] is None  # not kept once the authentication is over

    # Checkout puts the order back on what the first hold covers: nothing new is asked of
    # the bank, and the release captures the first hold.
    restored = OrderModified.model_validate(
        {
            **order.model_dump(exclude={"stripe_payment_method_id"}),
            "revision": 2,
            "previous_total": raised.totals.total,
            "new_total": order.totals.total,
            "amount_changed": True,
            "restores_authorized_revision": 0,
        }
    )
    await payment.feed(restored, released(restored))
    (captured,) = await payment.events.wait_for(order.order_id, "PaymentCaptured")
    assert captured.payload.payment_intent_id == first_intent
    assert captured.payload.amount == order.totals.total
    assert [e.type for e in payment.events.of(order.order_id)] == [
        "PaymentActionRequired",
        "PaymentAuthorized",
        "PaymentActionRequired",
        "PaymentAuthenticationExpired",
        "PaymentCancelled",
        "PaymentCaptured",
    ]
    assert authorised.payload.payment_intent_id == first_intent
    final = await payment.intent(first_intent)
    assert (final["status"], final["amount"]) == ("succeeded", cents(order.totals.total))


async def test_a_re_authorisation_authenticated_in_time_is_not_given_up(
    impatient_payment: Payment,
) -> None:
    payment = impatient_payment
    pm = await payment.card(THREE_D_SECURE)
    order = placed(pm)
    await payment.feed(order)
    (action,) = await payment.events.wait_for(order.order_id, "PaymentActionRequired")
    await stripe_js_authenticates(payment, action.payload.client_secret)
    await payment.events.wait_for(order.order_id, "PaymentAuthorized")
    await payment.feed(modified(order, matcha_quantity=4))
    actions = await payment.events.wait_for(order.order_id, "PaymentActionRequired", count=2)
    await stripe_js_authenticates(payment, actions[1].payload.client_secret)
    authorised = await payment.events.wait_for(order.order_id, "PaymentAuthorized", count=2)
    assert authorised[1].payload.order_revision == 1
    types = await payment.events.quiet(order.order_id, TIMEOUT + 2)
    assert "PaymentAuthenticationExpired" not in types


async def test_the_card_flow_s_requests_have_the_shapes_stripe_accepts(
    mock_payment: Payment,
) -> None:
    """stripe-mock refuses (400) any request that breaks Stripe's API specification: a
    Customer, the card attached to it, a PaymentIntent on that Customer, then a second one for
    the raised total, are all accepted."""
    payment = mock_payment
    pm = await payment.stripe.v1.payment_methods.create_async(
        {"type": "card", "card": {"token": "tok_visa"}}
    )
    order = placed(pm.id)
    await payment.feed(order)
    attempt = await payment.wait_attempt(order.order_id, lambda a: a["status"] == "awaiting")
    assert attempt["last_error"] is None and attempt["refusal_reason"] is None
    customer = await payment.pool.fetchval(
        "SELECT stripe_customer_id FROM payment_orders WHERE order_id = $1", order.order_id
    )
    assert customer and customer.startswith("cus_")

    await payment.feed(modified(order, matcha_quantity=5))
    second = await payment.wait_attempt(
        order.order_id, lambda a: a["status"] == "awaiting", revision=1
    )
    assert second["last_error"] is None and second["refusal_reason"] is None
    assert second["payment_intent_id"].startswith("pi_")
    assert payment.events.of(order.order_id) == []  # stripe-mock's canned intents decide nothing
