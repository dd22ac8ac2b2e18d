"""The order's life: payment outcomes, the modification window, release and fulfillment."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from checkout import domain
from checkout.domain import (
    ConflictError,
    Modification,
    NextAction,
    Order,
    OrderRejectedError,
    Status,
    Tracking,
)
from jg_events import (
    CancellationReason,
    CancelledBy,
    OrderCancelled,
    OrderConfirmed,
    OrderModified,
    OrderPlaced,
    OrderReleased,
)

from .conftest import ADDRESS, EXPRESS, LIMITS, NOW, placed

pytestmark = pytest.mark.unit

DELAY = timedelta(minutes=5)


def confirmed(order: Order) -> Order:
    outcome = domain.payment_authorized(order, order_revision=0, now=NOW, release_delay=DELAY)
    assert outcome.order is not None
    return outcome.order


def cancel(order: Order) -> domain.Outcome:
    return domain.cancel(
        order,
        reason=CancellationReason.CUSTOMER_REQUEST,
        cancelled_by=CancelledBy.CUSTOMER,
        note=None,
        now=NOW,
    )


def test_placing_publishes_the_priced_snapshot_and_waits_for_payment() -> None:
    outcome = domain.place(
        **{
            "order_id": placed().id,
            "sequence_value": 42,
            "customer": placed().customer,
            "lines": placed().lines,
            "shipping": EXPRESS,
            "shipping_address": ADDRESS,
            "billing_address": ADDRESS,
            "payment_method_type": placed().payment_method_type,
            "stripe_payment_method_id": "pm_card_visa",
            "now": NOW,
            "correlation_id": "c",
        }
    )
    assert outcome.order is not None
    assert outcome.order.status is Status.PENDING_PAYMENT
    assert outcome.order.number == "JG-2026-000042"
    (event,) = outcome.events
    assert isinstance(event, OrderPlaced)
    assert event.revision == 0
    assert event.totals.total == Decimal("111.50")
    assert event.stripe_payment_method_id == "pm_card_visa"


def test_authorisation_confirms_with_the_estimate_and_the_end_of_the_window(
    order: Order,
) -> None:
    outcome = domain.payment_authorized(order, order_revision=0, now=NOW, release_delay=DELAY)
    assert outcome.order is not None
    assert outcome.order.status is Status.CONFIRMED
    (event,) = outcome.events
    assert isinstance(event, OrderConfirmed)
    assert event.modifiable_until == NOW + DELAY
    assert str(event.delivery_estimate.earliest) == "2026-05-18"
    assert str(event.delivery_estimate.latest) == "2026-05-26"
    assert event.totals == order.totals and event.lines == order.lines
    # the same authorisation again (redelivered with another id) confirms nothing twice
    again = domain.payment_authorized(outcome.order, order_revision=0, now=NOW, release_delay=DELAY)
    assert again.order is None and again.events == ()


def test_3d_secure_is_a_state_with_its_next_step_then_authorisation_clears_it(
    order: Order,
) -> None:
    action = NextAction("redirect_to_url", "https://hooks.stripe.com/3d_secure/abc")
    waiting = domain.payment_action_required(order, order_revision=0, action=action, now=NOW)
    assert waiting.order is not None
    assert waiting.order.status is Status.PAYMENT_ACTION_REQUIRED
    assert waiting.order.next_action == action
    done = confirmed(waiting.order)
    assert done.status is Status.CONFIRMED and done.next_action is None


def test_a_refusal_ends_the_order_and_nothing_revives_it(order: Order) -> None:
    outcome = domain.payment_refused(order, order_revision=0, reason="insufficient_funds", now=NOW)
    assert outcome.order is not None
    assert outcome.order.status is Status.PAYMENT_REFUSED
    assert "fonds insuffisants" in outcome.timeline[0].label
    assert outcome.events == ()
    late = domain.payment_authorized(outcome.order, order_revision=0, now=NOW, release_delay=DELAY)
    assert late.order is None
    with pytest.raises(ConflictError) as exc:
        cancel(outcome.order)
    assert exc.value.code == "payment_refused"


def test_cancel_before_payment_is_accepted_but_modify_waits_for_confirmation(
    order: Order,
) -> None:
    with pytest.raises(ConflictError) as exc:
        domain.modify(order, Modification(shipping=EXPRESS), limits=LIMITS, now=NOW)
    assert exc.value.code == "payment_pending"
    outcome = cancel(order)
    assert outcome.order is not None and outcome.order.status is Status.CANCELLED
    (event,) = outcome.events
    assert isinstance(event, OrderCancelled)
    assert event.total == order.totals.total
    assert cancel(outcome.order).order is None  # cancelling again changes nothing


def test_a_modification_that_changes_the_total_waits_for_the_new_authorisation(
    order: Order,
) -> None:
    order = confirmed(order)
    outcome = domain.modify(
        order, Modification(quantities={"MATCHA-KYOTO-100": 1}), limits=LIMITS, now=NOW
    )
    modified = outcome.order
    assert modified is not None
    (event,) = outcome.events
    assert isinstance(event, OrderModified)
    assert (event.revision, event.previous_total, event.new_total, event.amount_changed) == (
        1,
        Decimal("101.50"),
        Decimal("51.70"),
        True,
    )
    later = NOW + DELAY
    assert not domain.release_due(modified, later)  # the new amount is not held yet
    stale = domain.payment_authorized(modified, order_revision=0, now=later, release_delay=DELAY)
    assert stale.order is None
    reauth = domain.payment_authorized(modified, order_revision=1, now=later, release_delay=DELAY)
    assert reauth.order is not None
    assert reauth.events == ()  # no second confirmation
    assert domain.release_due(reauth.order, later)


def test_a_modification_that_keeps_the_total_needs_no_new_authorisation(order: Order) -> None:
    order = confirmed(order)
    moved = ADDRESS.model_copy(update={"line1": "3 place Bellecour", "postal_code": "69002"})
    outcome = domain.modify(order, Modification(shipping_address=moved), limits=LIMITS, now=NOW)
    assert outcome.order is not None
    (event,) = outcome.events
    assert isinstance(event, OrderModified)
    assert event.amount_changed is False and event.shipping_address == moved
    assert domain.release_due(outcome.order, NOW + DELAY)
    # the same change again is no change: nothing is published
    assert (
        domain.modify(outcome.order, Modification(shipping_address=moved), limits=LIMITS, now=NOW)
        == domain.NOTHING
    )


def test_modifications_refuse_foreign_skus_bad_quantities_and_emptying_the_order(
    order: Order,
) -> None:
    order = confirmed(order)
    with pytest.raises(OrderRejectedError) as exc:
        domain.modify(
            order,
            Modification(quantities={"DARUMA-ROUGE-10": 1, "MATCHA-KYOTO-100": 99}),
            limits=LIMITS,
            now=NOW,
        )
    assert {p.code for p in exc.value.problems} == {"sku_not_in_order", "quantity_out_of_range"}
    with pytest.raises(OrderRejectedError) as exc:
        domain.modify(
            order,
            Modification(quantities={"MATCHA-KYOTO-100": 0, "FUROSHIKI-SAKURA": 0}),
            limits=LIMITS,
            now=NOW,
        )
    assert [p.code for p in exc.value.problems] == ["order_would_be_empty"]
    removed = domain.modify(
        order, Modification(quantities={"FUROSHIKI-SAKURA": 0}), limits=LIMITS, now=NOW
    )
    assert removed.order is not None
    assert [line.sku for line in removed.order.lines] == ["MATCHA-KYOTO-100"]


def test_release_happens_at_the_end_of_the_window_then_changes_are_refused(
    order: Order,
) -> None:
    order = confirmed(order)
    assert domain.release(order, now=NOW + DELAY - timedelta(seconds=1)).order is None
    outcome = domain.release(order, now=NOW + DELAY)
    released = outcome.order
    assert released is not None and released.status is Status.RELEASED
    (event,) = outcome.events
    assert isinstance(event, OrderReleased)
    assert event.delivery_estimate == order.delivery
    assert domain.release(released, now=NOW + DELAY).order is None  # once
    with pytest.raises(ConflictError) as exc:
        cancel(released)
    assert exc.value.code == "order_released"
    assert "transmise" in exc.value.message
    with pytest.raises(ConflictError):
        domain.modify(released, Modification(shipping=EXPRESS), limits=LIMITS, now=NOW)


def test_a_cancelled_order_is_never_released(order: Order) -> None:
    cancelled = cancel(confirmed(order)).order
    assert cancelled is not None
    assert domain.release(cancelled, now=NOW + DELAY * 10).order is None


def test_fulfillment_status_only_moves_forward(order: Order) -> None:
    released = domain.release(confirmed(order), now=NOW + DELAY).order
    assert released is not None
    tracking = Tracking("japan_post_ems", "EJ123456789JP", "https://trackings.post.japanpost.jp/x")
    shipped = domain.progress(released, Status.SHIPPED, label="x", now=NOW, tracking=tracking)
    assert shipped.order is not None and shipped.order.status is Status.SHIPPED
    late = domain.progress(shipped.order, Status.PROCESSING, label="late", now=NOW)
    assert late.order is not None
    assert late.order.status is Status.SHIPPED  # a late OrderProcessing does not go back
    assert late.order.tracking == tracking
    assert [e.kind for e in late.timeline] == ["processing"]
    delivered = domain.progress(late.order, Status.DELIVERED, label="x", now=NOW)
    assert delivered.order is not None and delivered.order.status is Status.DELIVERED


def test_an_expired_authorisation_before_release_cancels_the_order(order: Order) -> None:
    outcome = domain.payment_cancelled(confirmed(order), reason="authorization_expired", now=NOW)
    assert outcome.order is not None and outcome.order.status is Status.CANCELLED
    (event,) = outcome.events
    assert isinstance(event, OrderCancelled)
    assert event.cancelled_by is CancelledBy.SYSTEM
    superseded = domain.payment_cancelled(confirmed(order), reason="superseded", now=NOW)
    assert superseded.order is not None and superseded.order.status is Status.CONFIRMED


def test_pseudonymisation_leaves_no_personal_data(order: Order) -> None:
    erased = domain.pseudonymise(replace(order, shipping_address=ADDRESS))
    text = repr(erased)
    for personal in ("Camille", "Durand", "camille.durand", "Lilas", "69003", "+336", "Lyon"):
        assert personal not in text
    assert erased.totals == order.totals and erased.lines == order.lines
    assert erased.customer.customer_id is None


def test_releasing_the_hold_of_an_amount_since_changed_does_not_cancel_the_order(
    order: Order,
) -> None:
    """Payment releases the old hold when a re-authorisation is refused (reason 'other').

    If the customer changed the amount again meanwhile, that refusal is stale for checkout and
    the newest amount's authorisation decides: the old hold going must not cancel the order.
    """
    order = confirmed(order)
    first = domain.modify(
        order, Modification(quantities={"MATCHA-KYOTO-100": 1}), limits=LIMITS, now=NOW
    ).order
    assert first is not None
    second = domain.modify(
        first, Modification(quantities={"MATCHA-KYOTO-100": 2}), limits=LIMITS, now=NOW
    ).order
    assert second is not None and second.amount_revision == 2
    assert domain.payment_refused(second, order_revision=1, reason="other", now=NOW).order is None

    old_hold = domain.payment_cancelled(second, reason="other", order_revision=0, now=NOW)
    assert old_hold.order is not None and old_hold.order.status is Status.CONFIRMED
    assert old_hold.events == ()
    reauth = domain.payment_authorized(
        old_hold.order, order_revision=2, now=NOW + DELAY, release_delay=DELAY
    )
    assert reauth.order is not None and domain.release_due(reauth.order, NOW + DELAY)

    # The hold of the current amount going does end the order, as before.
    current = domain.payment_cancelled(second, reason="other", order_revision=2, now=NOW)
    assert current.order is not None and current.order.status is Status.CANCELLED
