"""Card payments against localstripe: authorise, capture, refuse, 3-D Secure, cancel, modify."""

import httpx
import pytest
from jg_events import PaymentMethodType, RefusalReason

from .conftest import (
    DECLINED,
    THREE_D_SECURE,
    VISA,
    Payment,
    cancelled,
    cents,
    modified,
    placed,
    released,
)

pytestmark = pytest.mark.integration


async def test_a_visa_order_is_authorised_then_captured_on_release(payment: Payment) -> None:
    order = placed(await payment.card(VISA))
    (placed_envelope,) = await payment.feed(order)

    (authorized,) = await payment.events.wait_for(order.order_id, "PaymentAuthorized")
    event = authorized.payload
    assert event.amount == order.totals.total
    assert (event.card_brand, event.card_last4) == ("visa", "4242")
    assert event.payment_method_type is PaymentMethodType.CARD
    assert event.order_revision == 0
    assert authorized.correlation_id == placed_envelope.correlation_id
    assert authorized.causation_id == str(placed_envelope.event_id)

    held = await payment.intent(event.payment_intent_id)
    assert held["status"] == "requires_capture"
    assert held["capture_method"] == "manual"
    assert (held["amount"], held["currency"]) == (cents(order.totals.total), "eur")
    assert held["metadata"]["order_id"] == str(order.order_id)

    (release_envelope,) = await payment.feed(released(order))
    (captured,) = await payment.events.wait_for(order.order_id, "PaymentCaptured")
    assert captured.payload.payment_intent_id == event.payment_intent_id
    assert captured.payload.amount == order.totals.total
    assert (await payment.intent(event.payment_intent_id))["status"] == "succeeded"

    # Replaying the order and its release changes nothing: no second hold, no second event.
    await payment.replay(placed_envelope, release_envelope)
    types = await payment.events.quiet(order.order_id, 3.0)
    assert types == ["PaymentAuthorized", "PaymentCaptured"]
    assert (
        await payment.pool.fetchval(
            "SELECT count(*) FROM payment_attempts WHERE order_id = $1", order.order_id
        )
        == 1
    )


async def test_a_declined_card_is_refused_and_nothing_is_held(payment: Payment) -> None:
    order = placed(await payment.card(DECLINED))
    await payment.feed(order)

    (refused,) = await payment.events.wait_for(order.order_id, "PaymentRefused")
    event = refused.payload
    # A plain "card_declined" without a decline code is the FAQ's "etc.": other.
    assert event.reason is RefusalReason.OTHER
    assert event.stripe_error_code == "card_declined"
    assert event.amount == order.totals.total
    assert event.payment_intent_id is not None  # found through the declined charge
    intent = await payment.intent(event.payment_intent_id)
    assert intent["status"] == "requires_payment_method"
    assert intent["latest_charge"]["status"] == "failed"
    assert await payment.events.quiet(order.order_id, 1.0) == ["PaymentRefused"]


async def test_a_failed_3d_secure_is_refused_as_authentication_failed(payment: Payment) -> None:
    order = placed(await payment.card(THREE_D_SECURE))
    await payment.feed(order)

    (action,) = await payment.events.wait_for(order.order_id, "PaymentActionRequired")
    assert action.payload.next_action_type == "use_stripe_sdk"
    # localstripe names no URL: the storefront's authentication page is given instead.
    assert action.payload.next_action_url.startswith("https://")
    assert str(order.order_id) in action.payload.next_action_url

    # The customer fails the authentication (localstripe's 3-D Secure step).
    intent_id = action.payload.payment_intent_id
    await authenticate(payment, intent_id, success=False)

    # localstripe sends no webhook for it: the read-back of pending intents finds it.
    (refused,) = await payment.events.wait_for(order.order_id, "PaymentRefused")
    assert refused.payload.reason is RefusalReason.AUTHENTICATION_FAILED
    assert refused.payload.stripe_error_code == "payment_intent_authentication_failure"
    assert refused.payload.payment_intent_id == intent_id
    assert await payment.events.quiet(order.order_id, 1.5) == [
        "PaymentActionRequired",
        "PaymentRefused",
    ]


async def test_a_completed_3d_secure_authorises_the_payment(payment: Payment) -> None:
    order = placed(await payment.card(THREE_D_SECURE))
    await payment.feed(order)
    (action,) = await payment.events.wait_for(order.order_id, "PaymentActionRequired")
    intent_id = action.payload.payment_intent_id
    await authenticate(payment, intent_id, success=True)
    (authorized,) = await payment.events.wait_for(order.order_id, "PaymentAuthorized")
    assert authorized.payload.payment_intent_id == intent_id


async def test_a_payment_method_the_shop_does_not_accept_is_refused_before_any_hold(
    payment: Payment,
) -> None:
    sepa = await payment.stripe.v1.payment_methods.create_async(
        {"type": "sepa_debit", "sepa_debit": {"iban": "FR1420041010050500013M02606"}}
    )
    order = placed(sepa.id)  # the order says "card"
    await payment.feed(order)
    (refused,) = await payment.events.wait_for(order.order_id, "PaymentRefused")
    assert refused.payload.reason is RefusalReason.UNSUPPORTED_METHOD
    assert refused.payload.payment_intent_id is None
    attempt = await payment.attempt(order.order_id)
    assert attempt["payment_intent_id"] is None


async def test_cancelling_before_release_releases_the_hold(payment: Payment) -> None:
    order = placed(await payment.card(VISA))
    await payment.feed(order)
    (authorized,) = await payment.events.wait_for(order.order_id, "PaymentAuthorized")
    intent_id = authorized.payload.payment_intent_id

    (cancel_envelope,) = await payment.feed(cancelled(order))
    (cancellation,) = await payment.events.wait_for(order.order_id, "PaymentCancelled")
    assert cancellation.payload.reason.value == "order_cancelled"
    assert cancellation.payload.payment_intent_id == intent_id
    intent = await payment.intent(intent_id)
    assert intent["status"] == "canceled"
    assert intent["latest_charge"]["captured"] is False  # nothing was taken

    await payment.replay(cancel_envelope)
    assert await payment.events.quiet(order.order_id, 2.0) == [
        "PaymentAuthorized",
        "PaymentCancelled",
    ]


async def test_a_modified_amount_is_authorised_anew_and_the_old_hold_released(
    payment: Payment,
) -> None:
    order = placed(await payment.card(VISA))
    await payment.feed(order)
    (first,) = await payment.events.wait_for(order.order_id, "PaymentAuthorized")

    change = modified(order, matcha_quantity=1)  # 99.37 -> 59.39
    assert change.amount_changed
    await payment.feed(change)
    second = (await payment.events.wait_for(order.order_id, "PaymentAuthorized", count=2))[1]
    assert second.payload.order_revision == 1
    assert second.payload.amount == change.totals.total
    assert second.payload.payment_intent_id != first.payload.payment_intent_id
    (superseded,) = await payment.events.wait_for(order.order_id, "PaymentCancelled")
    assert superseded.payload.reason.value == "superseded"
    assert superseded.payload.order_revision == 0
    assert superseded.payload.payment_intent_id == first.payload.payment_intent_id
    assert (await payment.intent(first.payload.payment_intent_id))["status"] == "canceled"

    await payment.feed(released(change))
    (captured,) = await payment.events.wait_for(order.order_id, "PaymentCaptured")
    assert captured.payload.payment_intent_id == second.payload.payment_intent_id
    assert captured.payload.amount == change.totals.total
    new_hold = await payment.intent(second.payload.payment_intent_id)
    assert (new_hold["status"], new_hold["amount"]) == ("succeeded", cents(change.totals.total))


async def test_a_modification_that_keeps_the_amount_needs_no_new_authorisation(
    payment: Payment,
) -> None:
    order = placed(await payment.card(VISA))
    await payment.feed(order)
    await payment.events.wait_for(order.order_id, "PaymentAuthorized")
    same = modified(order, matcha_quantity=3)
    assert not same.amount_changed
    await payment.feed(same, released(same))
    await payment.events.wait_for(order.order_id, "PaymentCaptured")
    assert [e.type for e in payment.events.of(order.order_id)] == [
        "PaymentAuthorized",
        "PaymentCaptured",
    ]


async def test_a_refused_re_authorisation_releases_the_previous_hold_too(payment: Payment) -> None:
    """PaymentRefused ends the order: no hold may be left behind on the customer's card."""
    order = placed(await payment.card(THREE_D_SECURE))
    await payment.feed(order)
    (action,) = await payment.events.wait_for(order.order_id, "PaymentActionRequired")
    await authenticate(payment, action.payload.payment_intent_id, success=True)
    (first,) = await payment.events.wait_for(order.order_id, "PaymentAuthorized")

    await payment.feed(modified(order, matcha_quantity=1))
    second = (await payment.events.wait_for(order.order_id, "PaymentActionRequired", count=2))[1]
    await authenticate(payment, second.payload.payment_intent_id, success=False)

    (refused,) = await payment.events.wait_for(order.order_id, "PaymentRefused")
    assert refused.payload.order_revision == 1
    (released_hold,) = await payment.events.wait_for(order.order_id, "PaymentCancelled")
    assert released_hold.payload.payment_intent_id == first.payload.payment_intent_id
    assert released_hold.payload.reason.value == "other"
    assert released_hold.payload.order_revision == 0  # checkout: stale if the amount changed again
    assert (await payment.intent(first.payload.payment_intent_id))["status"] == "canceled"


async def authenticate(payment: Payment, intent_id: str, *, success: bool) -> None:
    """localstripe's 3-D Secure step, as the customer's browser would complete it."""
    secret = (await payment.intent(intent_id))["client_secret"]
    async with httpx.AsyncClient(base_url=payment.stack.localstripe_url) as http:
        answer = await http.post(
            f"/v1/payment_intents/{intent_id}/_authenticate",
            data={"client_secret": secret, "success": "true" if success else "false"},
            auth=(payment.stack.stripe_api_key, ""),
        )
    assert answer.status_code == 200, answer.text
