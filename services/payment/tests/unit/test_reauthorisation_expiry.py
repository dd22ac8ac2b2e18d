"""A re-authorisation left waiting for 3-D Secure is given up after the timeout, never a first
authorisation; the client secret is handed on only when it has Stripe's shape."""

from datetime import UTC, datetime, timedelta

import pytest
from payment.domain import (
    AttemptStatus,
    Desired,
    IntentView,
    reauthorisation_expired,
    standing_hold,
    usable_client_secret,
)

pytestmark = pytest.mark.unit

S = AttemptStatus
NOW = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)
TIMEOUT = timedelta(minutes=30)


def test_the_standing_hold_is_the_latest_earlier_revision_still_authorised_and_wanted() -> None:
    attempts = [
        (0, S.AUTHORIZED, Desired.AUTHORIZED),
        (1, S.CANCELLED, Desired.CANCELLED),
        (2, S.AUTHORIZED, Desired.AUTHORIZED),
        (3, S.REQUIRES_ACTION, Desired.AUTHORIZED),
    ]
    assert standing_hold(3, attempts) == 2
    # A hold being released (superseded) or a later revision does not cover the order.
    assert standing_hold(3, [(0, S.AUTHORIZED, Desired.CANCELLED)]) is None
    assert standing_hold(1, [(2, S.AUTHORIZED, Desired.AUTHORIZED)]) is None
    assert standing_hold(0, [(0, S.REQUIRES_ACTION, Desired.AUTHORIZED)]) is None


@pytest.mark.parametrize(
    ("waited", "expired"),
    [(timedelta(minutes=29, seconds=59), False), (TIMEOUT, True), (timedelta(hours=3), True)],
)
def test_a_re_authorisation_expires_once_it_waited_the_timeout(
    waited: timedelta, expired: bool
) -> None:
    assert (
        reauthorisation_expired(
            S.REQUIRES_ACTION,
            Desired.AUTHORIZED,
            NOW - waited,
            held_revision=0,
            now=NOW,
            timeout=TIMEOUT,
        )
        is expired
    )


@pytest.mark.parametrize(
    ("status", "desired", "held_revision"),
    [
        (S.REQUIRES_ACTION, Desired.AUTHORIZED, None),  # a first authorisation: no other hold
        (S.AUTHORIZED, Desired.AUTHORIZED, 0),  # the customer authenticated in time
        (S.REQUIRES_ACTION, Desired.CANCELLED, 0),  # already given up (or order cancelled)
        (S.AWAITING, Desired.AUTHORIZED, 0),  # no authentication asked
    ],
)
def test_only_a_re_authorisation_waiting_for_the_customer_over_a_standing_hold_expires(
    status: AttemptStatus, desired: Desired, held_revision: int | None
) -> None:
    assert not reauthorisation_expired(
        status,
        desired,
        NOW - timedelta(days=1),
        held_revision=held_revision,
        now=NOW,
        timeout=TIMEOUT,
    )


def test_the_client_secret_is_read_from_the_intent_and_kept_out_of_its_repr() -> None:
    secret = "pi_3OqX2b_secret_Xb7kQp2ZrN4s"
    intent = IntentView.from_stripe(
        {"id": "pi_3OqX2b", "status": "requires_action", "amount": 100, "client_secret": secret}
    )
    assert intent.client_secret == secret
    assert secret not in repr(intent)
    assert usable_client_secret(secret, "pi_3OqX2b") == secret


@pytest.mark.parametrize(
    "secret",
    [None, "", "pi_other_secret_abc", "pi_3OqX2b_secret_", "pi_3OqX2b_secret_a b", "sk_live_x"],
)
def test_a_client_secret_of_another_shape_is_not_handed_on(secret: str | None) -> None:
    assert usable_client_secret(secret, "pi_3OqX2b") is None
