"""What a verified webhook's object says, read before anything is written: an intent for
payment_intent.*, the refunds of a refund or charge event (none: read them back), nothing for
other types, and an error for an object not shaped like Stripe's (answered 'malformed')."""

import pytest
from payment.usecases.webhooks import stripe_views

pytestmark = pytest.mark.unit


def test_a_payment_intent_event_gives_the_intent() -> None:
    intent, refunds = stripe_views(
        "payment_intent.succeeded",
        {"id": "pi_1", "object": "payment_intent", "status": "succeeded", "amount": 4200},
    )
    assert intent is not None
    assert (intent.id, intent.status, intent.amount) == ("pi_1", "succeeded", 4200)
    assert refunds is None


def test_a_refund_event_gives_its_refund_and_a_charge_event_its_listed_refunds() -> None:
    _, refunds = stripe_views(
        "refund.updated", {"id": "re_1", "object": "refund", "status": "failed", "amount": 500}
    )
    assert refunds is not None
    assert [(r.id, r.status) for r in refunds] == [("re_1", "failed")]
    charge = {
        "id": "ch_1",
        "object": "charge",
        "refunds": {"data": [{"id": "re_2", "status": "succeeded", "amount": 100}, "junk"]},
    }
    _, refunds = stripe_views("charge.refunded", charge)
    assert refunds is not None
    assert [r.id for r in refunds] == ["re_2"]


def test_a_charge_event_without_its_refunds_asks_for_a_read_back() -> None:
    intent, refunds = stripe_views(
        "charge.refunded", {"id": "ch_1", "object": "charge", "payment_intent": "pi_1"}
    )
    assert intent is None
    assert refunds == []


def test_other_event_types_say_nothing() -> None:
    assert stripe_views("customer.created", {"id": "cus_1", "object": "customer"}) == (None, None)
    # an intent object under a refund type is not read as an intent
    intent, _ = stripe_views("charge.refunded", {"id": "pi_1", "object": "payment_intent"})
    assert intent is None


def test_an_object_not_shaped_like_stripes_is_refused() -> None:
    with pytest.raises(TypeError):
        stripe_views("payment_intent.succeeded", {"id": 42, "object": "payment_intent"})
    with pytest.raises(KeyError):
        stripe_views("refund.updated", {"object": "refund", "status": "succeeded"})
