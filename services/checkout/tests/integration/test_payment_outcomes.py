"""Payment's events drive the order: 3-D Secure, confirmation with the estimate, refusal."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from checkout import domain
from jg_events import (
    OrderConfirmed,
    PaymentActionRequired,
    PaymentAuthenticationExpired,
    PaymentMethodType,
    PaymentRefused,
    RefusalReason,
    Topic,
)

from .conftest import authorized, contact_of

pytestmark = pytest.mark.integration


def assert_estimate_and_window(confirmation: Any, confirmed: Any) -> None:
    validated_at = datetime.fromisoformat(confirmed["confirmed_at"])
    expected = domain.delivery_estimate(validated_at)
    assert confirmation.delivery_estimate == expected
    assert confirmed["delivery_estimate"] == {
        "earliest": expected.earliest.isoformat(),
        "latest": expected.latest.isoformat(),
    }
    assert (confirmation.modifiable_until - validated_at).total_seconds() == pytest.approx(300)
    assert (
        confirmed["modifiable_until"]
        == confirmation.modifiable_until.isoformat().replace("+00:00", "Z")
        or datetime.fromisoformat(confirmed["modifiable_until"]) == confirmation.modifiable_until
    )


def assert_full_snapshot(confirmed_event: Any, order: Any) -> None:
    confirmation = confirmed_event.payload
    # the full snapshot the confirmation email needs
    assert confirmation.order_number == order["number"]
    assert str(confirmation.totals.total) == "101.50"
    assert [line.sku for line in confirmation.lines] == ["MATCHA-KYOTO-100", "FUROSHIKI-SAKURA"]
    assert confirmation.shipping_address.city == "Lyon"
    assert confirmation.billing_address.line1 == "12 rue des Lilas"
    assert confirmation.shipping_method.label.startswith("Livraison standard")
    assert confirmation.customer.email == "camille.durand@example.fr"
    assert confirmed_event.causation_id is not None  # caused by the PaymentAuthorized


async def test_payment_authorized_confirms_the_order_with_the_delivery_estimate(
    start: Any,
) -> None:
    checkout = await start()
    order = await checkout.place()
    action = PaymentActionRequired(
        order_id=order["id"],
        order_number=order["number"],
        customer=contact_of(order),
        payment_intent_id="pi_3ds",
        amount=Decimal(order["totals"]["total"]),
        order_revision=0,
        next_action_type="redirect_to_url",
        next_action_url="https://hooks.stripe.com/3d_secure_2/authenticate/pi_3ds",
    )
    await checkout.feed(Topic.PAYMENT_PAYMENTS, action)
    waiting = await checkout.wait_for_status(order["id"], "payment_action_required")
    assert waiting["payment"]["next_action"] == {
        "type": "redirect_to_url",
        "url": "https://hooks.stripe.com/3d_secure_2/authenticate/pi_3ds",
    }
    assert waiting["cancellable"] is True and waiting["modifiable"] is False

    await checkout.authorize(order)
    confirmed = await checkout.wait_for_status(order["id"], "confirmed")
    assert confirmed["payment"]["next_action"] is None
    assert confirmed["payment"]["authorized"] is True
    assert confirmed["modifiable"] is True

    events = await checkout.events_of(order["id"], 2)
    assert [e.type for e in events] == ["OrderPlaced", "OrderConfirmed"]
    confirmation = events[1].payload
    assert isinstance(confirmation, OrderConfirmed)
    assert_estimate_and_window(confirmation, confirmed)
    assert_full_snapshot(events[1], order)
    assert [e["kind"] for e in confirmed["timeline"]] == [
        "placed",
        "payment_action_required",
        "confirmed",
    ]

    # a second authorisation of the same revision confirms nothing twice
    await checkout.authorize(order)
    events = await checkout.events_of(order["id"], 2, settle=1.5)
    assert [e.type for e in events] == ["OrderPlaced", "OrderConfirmed"]


async def test_a_refused_payment_ends_the_order_with_its_reason(start: Any) -> None:
    checkout = await start()
    order = await checkout.place()
    refused = PaymentRefused(
        order_id=order["id"],
        order_number=order["number"],
        customer=contact_of(order),
        payment_intent_id="pi_refused",
        amount=Decimal(order["totals"]["total"]),
        order_revision=0,
        payment_method_type=PaymentMethodType.CARD,
        reason=RefusalReason.INSUFFICIENT_FUNDS,
        stripe_error_code="card_declined",
        stripe_decline_code="insufficient_funds",
    )
    await checkout.feed(Topic.PAYMENT_PAYMENTS, refused)
    ended = await checkout.wait_for_status(order["id"], "payment_refused")
    assert ended["payment"]["refusal_reason"] == "insufficient_funds"
    assert ended["timeline"][-1]["label"] == "Paiement refusé : fonds insuffisants"
    assert ended["cancellable"] is False

    # a late authorisation does not revive it, and it cannot be cancelled any more
    await checkout.authorize(order)
    response = await checkout.http.post(f"/orders/{order['id']}/cancel")
    assert (response.status_code, response.json()["code"]) == (409, "payment_refused")
    assert (await checkout.get(order["id"]))["status"] == "payment_refused"
    events = await checkout.events_of(order["id"], 1, settle=1.0)
    assert [e.type for e in events] == ["OrderPlaced"]


async def test_an_event_for_an_unknown_order_goes_to_the_dead_letter_topic(start: Any) -> None:
    from jg_devstack.kafka_records import headers_of, read_topic
    from jg_events import dead_letter_topic

    checkout = await start()
    stranger = {
        "id": str(uuid.uuid4()),
        "number": "JG-2026-999999",
        "customer": {"email": "x@example.fr", "first_name": "X", "last_name": "Y"},
        "totals": {"total": "10.00"},
    }
    await checkout.feed(Topic.PAYMENT_PAYMENTS, authorized(stranger))
    dead = await read_topic(
        checkout.stack.kafka_bootstrap, dead_letter_topic("checkout", checkout.prefix), count=1
    )
    assert len(dead) == 1
    assert "unknown order" in headers_of(dead[0])["dlq-error"]


def assert_released_on_the_held_amount(events: Any, order: Any) -> None:
    assert [e.type for e in events] == [
        "OrderPlaced",
        "OrderConfirmed",
        "OrderModified",
        "OrderModified",
        "OrderReleased",
    ]
    undo = events[3].payload
    assert undo.restores_authorized_revision == 0
    assert undo.new_total == Decimal(order["totals"]["total"])
    assert events[4].payload.totals.total == Decimal(order["totals"]["total"])


async def test_a_raised_total_left_unauthenticated_goes_back_to_the_held_order_and_is_released(
    start: Any,
) -> None:
    checkout = await start(release_delay_seconds=3)
    order = await checkout.confirmed()
    changed = await checkout.http.patch(
        f"/orders/{order['id']}",
        json={"lines": [{"sku": "MATCHA-KYOTO-100", "quantity": 5}]},
    )
    assert changed.status_code == 200, changed.text
    raised = changed.json()
    assert Decimal(raised["totals"]["total"]) > Decimal(order["totals"]["total"])

    secret = "pi_3Reauth_secret_Xb7kQp2ZrN4s"
    await checkout.feed(
        Topic.PAYMENT_PAYMENTS,
        PaymentActionRequired(
            order_id=order["id"],
            order_number=order["number"],
            customer=contact_of(order),
            payment_intent_id="pi_3Reauth",
            amount=Decimal(raised["totals"]["total"]),
            order_revision=1,
            next_action_type="use_stripe_sdk",
            next_action_url=f"https://shop.example/commande/{order['id']}/paiement"
            "?payment_intent=pi_3Reauth",
            client_secret=secret,
        ),
    )
    waiting = await checkout.wait_for(order["id"], lambda o: o["payment"]["client_secret"])
    # What Stripe.js needs, to the order's owner, while the bank waits.
    assert waiting["payment"]["client_secret"] == secret
    assert waiting["payment"]["payment_intent_id"] == "pi_3Reauth"
    assert waiting["status"] == "confirmed" and waiting["payment"]["authorized"] is False

    await checkout.feed(
        Topic.PAYMENT_PAYMENTS,
        PaymentAuthenticationExpired(
            order_id=order["id"],
            order_number=order["number"],
            customer=contact_of(order),
            payment_intent_id="pi_3Reauth",
            amount=Decimal(raised["totals"]["total"]),
            order_revision=1,
            held_revision=0,
            held_amount=Decimal(order["totals"]["total"]),
        ),
    )
    restored = await checkout.wait_for(order["id"], lambda o: o["revision"] == 2)
    assert restored["totals"] == order["totals"]
    assert restored["lines"] == order["lines"]
    assert restored["payment"]["authorized"] is True
    assert restored["payment"]["client_secret"] is None
    assert restored["payment"]["next_action"] is None
    assert "modification_not_authenticated" in [e["kind"] for e in restored["timeline"]]

    # Released on the held amount when the window ends, never left waiting.
    await checkout.wait_for_status(order["id"], "released", timeout=15)
    events = await checkout.events_of(order["id"], 5)
    assert_released_on_the_held_amount(events, order)
