"""The customers' journeys of the chaos run, each noting what its customer must end up with.

A journey plays the storefront, Stripe.js, the customer and the logistics team through the
public interfaces only, and adapts to what it was told: a cancellation answered 409 (the window
closed during an outage) makes the order one that ships. What it records (the acknowledged
order, the status it must end in, the emails and the money) is checked afterwards.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from jg_devstack.drivers import (
    LogisticsTeam,
    StripeJs,
    intent_id_from,
    order_request,
    tracking_number,
    unique_email,
)
from jg_events import ItemCondition, ReceivedItem, ReturnReceived

from .harness import Resilient, patiently

CONFIRMED_OR_LATER = ("confirmed", "released", "backordered", "processing", "shipped", "delivered")
BACKORDER_SKU = "COUTEAU-SANTOKU-18"  # no stock at the start of the run: every order waits
STOCKED_SKUS = (
    "MATCHA-KYOTO-100",
    "BAGUETTES-LAQUE-5",
    "DARUMA-ROUGE-10",
    "EVENTAIL-WASHI",
    "MANEKI-NEKO-15",
    "ENCENS-KYARA-40",
)

SHIPPED = {"order_confirmed", "order_processing", "order_shipped", "invoice_issued"}
DELIVERED = SHIPPED | {"order_delivered"}


@dataclass
class Outcome:
    kind: str
    email: str
    order_id: str | None = None
    number: str | None = None
    acknowledged: bool = False  # the storefront got its 201
    status: str | None = None  # the status the journey must end in
    templates: set[str] = field(default_factory=set)  # the emails the customer must receive
    capture: Decimal | None = None  # what must be captured (None: nothing)
    refund: Decimal | None = None  # what must be refunded (None: nothing)
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # the journey itself could not go on


@dataclass
class Customers:
    """The outside world's clients, shared by every journey."""

    storefront: Resilient  # checkout, storefront token, both instances
    fulfillment: Resilient  # fulfillment, storefront token
    stripe: StripeJs
    logistics: LogisticsTeam
    stripe_patience: float = 240.0


async def _stripe(customers: Customers, call: Any) -> Any:
    """A Stripe.js call, waited out while the Stripe stand-in is down."""
    return await patiently(call, lambda _: True, "the Stripe stand-in", interval=1.0)


async def _order(customers: Customers, order_id: str) -> dict[str, Any]:
    return await customers.storefront.json("GET", f"/orders/{order_id}")


async def _wait_status(
    customers: Customers, order_id: str, *statuses: str, timeout: float = 300
) -> dict[str, Any]:
    return await patiently(
        lambda: _order(customers, order_id),
        lambda order: order["status"] in statuses,
        f"order {order_id} to be {' or '.join(statuses)}",
        timeout=timeout,
    )


async def _place(customers: Customers, outcome: Outcome, card: str, lines: list[Any]) -> None:
    pm = await _stripe(customers, lambda: customers.stripe.card(card))
    body = order_request(outcome.email, lines, pm)
    body["billing_address"] = {k: v for k, v in body["billing_address"].items() if v}
    key = f"chaos-{outcome.email}"  # the same key on every retry: one order, whatever happens
    response = await customers.storefront.request(
        "POST", "/orders", json=body, headers={"Idempotency-Key": key}
    )
    # 201; or 200 with Idempotent-Replayed when an earlier try was placed but its answer was
    # lost (an instance killed mid-request): the same order, acknowledged.
    if response.status_code not in (200, 201):
        raise AssertionError(f"order refused: {response.status_code} {response.text}")
    if response.status_code == 200:
        assert response.headers.get("Idempotent-Replayed") == "true", response.headers
        outcome.notes.append("answer lost, replayed")
    order = response.json()
    outcome.order_id, outcome.number, outcome.acknowledged = order["id"], order["number"], True


async def _ship(customers: Customers, outcome: Outcome, *, deliver: bool) -> None:
    assert outcome.order_id is not None
    pick_list = await customers.logistics.wait_pick_list(outcome.order_id, timeout=400)
    number = tracking_number()
    await customers.logistics.picked_up(pick_list, number)
    await _wait_status(customers, outcome.order_id, "shipped", "delivered")
    if not deliver:
        return
    await customers.logistics.delivered(pick_list, number)
    await _wait_status(customers, outcome.order_id, "delivered")


async def _paid(customers: Customers, outcome: Outcome, lines: list[Any]) -> dict[str, Any]:
    await _place(customers, outcome, StripeJs.VISA, lines)
    assert outcome.order_id is not None
    return await _wait_status(customers, outcome.order_id, *CONFIRMED_OR_LATER)


def _total(order: dict[str, Any]) -> Decimal:
    return Decimal(order["totals"]["total"])


async def delivered(customers: Customers, outcome: Outcome, *, deliver: bool = True) -> None:
    order = await _paid(customers, outcome, [(STOCKED_SKUS[0], 1), (STOCKED_SKUS[1], 1)])
    outcome.capture = _total(order)
    await _ship(customers, outcome, deliver=deliver)
    outcome.status = "delivered" if deliver else "shipped"
    outcome.templates = DELIVERED if deliver else SHIPPED


async def shipped(customers: Customers, outcome: Outcome) -> None:
    await delivered(customers, outcome, deliver=False)


async def three_d_secure(customers: Customers, outcome: Outcome) -> None:
    await _place(customers, outcome, StripeJs.THREE_D_SECURE, [(STOCKED_SKUS[2], 2)])
    assert outcome.order_id is not None
    waiting = await _wait_status(
        customers, outcome.order_id, "payment_action_required", *CONFIRMED_OR_LATER
    )
    if waiting["status"] == "payment_action_required":
        intent = intent_id_from(waiting["payment"]["next_action"]["url"])
        await _stripe(customers, lambda: customers.stripe.authenticate(intent, success=True))
    order = await _wait_status(customers, outcome.order_id, *CONFIRMED_OR_LATER)
    outcome.capture = _total(order)
    await _ship(customers, outcome, deliver=True)
    outcome.status, outcome.templates = "delivered", DELIVERED


async def declined(customers: Customers, outcome: Outcome) -> None:
    await _place(customers, outcome, StripeJs.DECLINED, [(STOCKED_SKUS[3], 1)])
    assert outcome.order_id is not None
    await _wait_status(customers, outcome.order_id, "payment_refused", *CONFIRMED_OR_LATER)
    outcome.status, outcome.templates = "payment_refused", {"payment_refused"}


async def cancelled(customers: Customers, outcome: Outcome) -> None:
    order = await _paid(customers, outcome, [(STOCKED_SKUS[4], 1)])
    assert outcome.order_id is not None
    answer = await customers.storefront.request(
        "POST", f"/orders/{outcome.order_id}/cancel", json={"note": "Je me suis trompée"}
    )
    if answer.status_code == 200:
        outcome.status = "cancelled"
        outcome.templates = {"order_confirmed", "order_cancelled", "payment_released"}
        await _wait_status(customers, outcome.order_id, "cancelled")
        return
    assert answer.status_code == 409, answer.text  # the window closed during an outage
    outcome.notes.append("cancellation refused: window closed")
    outcome.capture = _total(order)
    await _ship(customers, outcome, deliver=True)
    outcome.status, outcome.templates = "delivered", DELIVERED


async def modified(customers: Customers, outcome: Outcome) -> None:
    order = await _paid(customers, outcome, [(STOCKED_SKUS[2], 1), (STOCKED_SKUS[3], 1)])
    assert outcome.order_id is not None
    answer = await customers.storefront.request(
        "PATCH",
        f"/orders/{outcome.order_id}",
        json={"lines": [{"sku": STOCKED_SKUS[2], "quantity": 3}]},
    )
    templates = set(DELIVERED)
    if answer.status_code == 200:
        order = answer.json()
        templates.add("order_modified")
    else:
        assert answer.status_code == 409, answer.text
        outcome.notes.append("modification refused: window closed")
    outcome.capture = _total(order)
    await _ship(customers, outcome, deliver=True)
    outcome.status, outcome.templates = "delivered", templates


async def backordered(customers: Customers, outcome: Outcome) -> None:
    order = await _paid(customers, outcome, [(BACKORDER_SKU, 1)])
    assert outcome.order_id is not None
    outcome.capture = _total(order)
    await _wait_status(
        customers, outcome.order_id, "backordered", "processing", "shipped", "delivered"
    )
    # Every backordered journey brings one unit, whatever it saw: units in equal units out, so
    # no order waits for a unit nobody sends. What it saw cannot decide: checkout reads the
    # pick list's OrderProcessing (jg.logistics.requests) and the Backordered before it
    # (jg.fulfillment.orders) independently, so "processing" may show before "backordered".
    await customers.logistics.replenished(BACKORDER_SKU, 1)
    await _ship(customers, outcome, deliver=True)
    # Delivered follows Backordered on the same topic and key: the timeline now says whether
    # this order waited (its email is then due) or took a unit another journey brought.
    final = await _order(customers, outcome.order_id)
    templates = set(DELIVERED)
    if any(entry["kind"] == "backordered" for entry in final["timeline"]):
        templates.add("order_backordered")
    else:
        outcome.notes.append("served from stock left by another order's unit")
    outcome.status, outcome.templates = "delivered", templates


async def withdrawn(customers: Customers, outcome: Outcome) -> None:
    await delivered(customers, outcome)
    assert outcome.order_id is not None
    answer = await customers.fulfillment.request(
        "POST", f"/orders/{outcome.order_id}/returns", json={"items": [], "items_unused": True}
    )
    assert answer.status_code == 201, answer.text
    withdrawal = answer.json()
    pick_list = customers.logistics.pick_lists(outcome.order_id)[0]
    await customers.logistics.report(
        ReturnReceived(
            order_id=pick_list.payload.order_id,
            return_id=withdrawal["return_id"],
            items=tuple(
                ReceivedItem(sku=line.sku, quantity=line.quantity, condition=ItemCondition.UNUSED)
                for line in pick_list.payload.lines
            ),
            received_at=datetime.now(UTC),
        ),
        about=pick_list,
    )
    outcome.refund = Decimal(withdrawal["expected_refund"])
    outcome.templates = DELIVERED | {"return_accepted", "refund_issued", "credit_note_issued"}


JOURNEYS: dict[str, Any] = {
    "card, delivered": delivered,
    "card, shipped": shipped,
    "3-D Secure, delivered": three_d_secure,
    "declined": declined,
    "cancelled in the window": cancelled,
    "modified, delivered": modified,
    "backordered, replenished": backordered,
    "withdrawal, refunded": withdrawn,
}

# How many of each, out of the run's orders (at least 300 in all).
MIX: dict[str, int] = {
    "card, delivered": 70,
    "card, shipped": 30,
    "3-D Secure, delivered": 40,
    "declined": 30,
    "cancelled in the window": 35,
    "modified, delivered": 35,
    "backordered, replenished": 30,
    "withdrawal, refunded": 30,
}


async def play(customers: Customers, kind: str, start_after: float) -> Outcome:
    """One customer's journey, started ``start_after`` seconds into the run."""
    await asyncio.sleep(start_after)
    outcome = Outcome(kind=kind, email=unique_email("chaos"))
    try:
        await JOURNEYS[kind](customers, outcome)
    except Exception as exc:  # recorded: the checks report it with the order
        outcome.error = f"{type(exc).__name__}: {exc}"[:500]
    return outcome
