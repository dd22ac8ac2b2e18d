"""A modification whose new total is never authenticated (3-D Secure) is undone: the order
goes back to what the standing hold covers and is released on it, never left waiting."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from checkout import domain
from checkout.domain import Modification, NextAction, Order, Status
from jg_events import OrderCancelled, OrderModified

from .conftest import ADDRESS, LIMITS, NOW

pytestmark = pytest.mark.unit

DELAY = timedelta(minutes=5)
MOVED = ADDRESS.model_copy(update={"line1": "8 quai Saint-Antoine"})
SECRET = "pi_3Re2_secret_Zz9"


def confirmed(order: Order) -> Order:
    outcome = domain.payment_authorized(order, order_revision=0, now=NOW, release_delay=DELAY)
    assert outcome.order is not None
    return outcome.order


def raised_and_waiting(order: Order) -> Order:
    """Confirmed at 101.50, the matcha raised from 3 to 5 and the parcel sent elsewhere in the
    same change, and the bank asks for 3-D Secure."""
    raised = domain.modify(
        confirmed(order),
        Modification(quantities={"MATCHA-KYOTO-100": 5}, shipping_address=MOVED),
        limits=LIMITS,
        now=NOW,
    ).order
    assert raised is not None and raised.totals.total > Decimal("101.50")
    action = NextAction("use_stripe_sdk", "https://shop.example/auth", "pi_3Re2", SECRET)
    waiting = domain.payment_action_required(raised, order_revision=1, action=action, now=NOW)
    assert waiting.order is not None
    return waiting.order


def test_the_pending_authentication_carries_the_intent_and_its_secret_out_of_the_repr(
    order: Order,
) -> None:
    waiting = raised_and_waiting(order)
    assert waiting.status is Status.CONFIRMED
    assert waiting.next_action is not None
    assert waiting.next_action.payment_intent_id == "pi_3Re2"
    assert waiting.next_action.client_secret == SECRET
    assert SECRET not in repr(waiting)
    assert not domain.release_due(waiting, NOW + DELAY)  # the new total is not held


def test_an_expired_re_authorisation_restores_the_held_order_and_releases_it(
    order: Order,
) -> None:
    waiting = raised_and_waiting(order)
    outcome = domain.authentication_expired(waiting, order_revision=1, held_revision=0, now=NOW)
    restored = outcome.order
    assert restored is not None
    assert restored.revision == 2
    assert restored.totals.total == Decimal("101.50")
    assert restored.lines == confirmed(order).lines
    assert restored.shipping_address == MOVED  # the addresses do not change the amount
    assert restored.next_action is None
    assert restored.amount_authorized
    assert domain.release_due(restored, NOW + DELAY)
    (event,) = outcome.events
    assert isinstance(event, OrderModified)
    assert event.restores_authorized_revision == 0
    assert (event.previous_total, event.new_total) == (waiting.totals.total, Decimal("101.50"))
    assert outcome.timeline[0].kind == "modification_not_authenticated"


def test_an_expiry_changes_nothing_once_the_order_moved_on(order: Order) -> None:
    waiting = raised_and_waiting(order)
    authorised = domain.payment_authorized(
        waiting, order_revision=1, now=NOW, release_delay=DELAY
    ).order
    assert authorised is not None
    assert (
        domain.authentication_expired(authorised, order_revision=1, held_revision=0, now=NOW)
        is domain.NOTHING
    )
    again = domain.modify(
        waiting, Modification(quantities={"MATCHA-KYOTO-100": 6}), limits=LIMITS, now=NOW
    ).order
    assert again is not None  # modified again: its own authorisation decides
    assert (
        domain.authentication_expired(again, order_revision=1, held_revision=0, now=NOW)
        is domain.NOTHING
    )
    cancelled = domain.cancel(
        waiting,
        reason=domain.CancellationReason.CUSTOMER_REQUEST,
        cancelled_by=domain.CancelledBy.CUSTOMER,
        note=None,
        now=NOW,
    ).order
    assert cancelled is not None
    assert (
        domain.authentication_expired(cancelled, order_revision=1, held_revision=0, now=NOW)
        is domain.NOTHING
    )


def test_without_a_record_of_what_the_hold_covers_the_order_is_cancelled_not_left_waiting(
    order: Order,
) -> None:
    legacy = replace(raised_and_waiting(order), authorized_content=None)
    outcome = domain.authentication_expired(legacy, order_revision=1, held_revision=0, now=NOW)
    assert outcome.order is not None and outcome.order.status is Status.CANCELLED
    (event,) = outcome.events
    assert isinstance(event, OrderCancelled)
