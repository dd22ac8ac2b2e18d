"""Accounts' event handlers and the order-history translation, without Kafka or PostgreSQL."""

from typing import Any

import pytest
from accounts.domain import STEP_STATUS, OrderStatus, TimelineStep
from accounts.handlers import (
    HANDLERS,
    ORDER_EVENTS,
    on_customer_erased,
    on_customer_erasure_requested,
    on_order_event,
)
from accounts.usecases.order_history import STEP_STATUS_LOWER_BOUND, order_fact
from jg_events import (
    CustomerErased,
    CustomerErasureRequested,
    CustomerRegistered,
    Envelope,
    InvoiceIssued,
    InvoiceKind,
    OrderCancelled,
    OrderPlaced,
    Shipped,
    Topic,
)
from jg_events.examples import example
from jg_messaging.handlers import topics_of

pytestmark = pytest.mark.unit


def envelope(event: Any) -> Envelope[Any]:
    return Envelope.wrap(event, correlation_id="corr-test")


def test_every_order_event_goes_to_the_history_and_erasures_to_their_own_handlers() -> None:
    assert {cls for cls, handler in HANDLERS.items() if handler is on_order_event} == set(
        ORDER_EVENTS
    )
    assert HANDLERS[CustomerErasureRequested] is on_customer_erasure_requested
    assert HANDLERS[CustomerErased] is on_customer_erased
    assert CustomerRegistered not in HANDLERS  # accounts' own announcement: nothing to do
    assert set(topics_of(HANDLERS)) == {
        Topic.CHECKOUT_ORDERS,
        Topic.PAYMENT_PAYMENTS,
        Topic.LOGISTICS_REQUESTS,
        Topic.FULFILLMENT_ORDERS,
        Topic.ACCOUNTS_CUSTOMERS,
    }


@pytest.mark.parametrize("event_cls", ORDER_EVENTS, ids=lambda c: c.__name__)
def test_each_order_event_gives_a_step_with_a_lower_bound_status(event_cls: Any) -> None:
    fact = order_fact(envelope(example(event_cls)))
    assert fact.step in STEP_STATUS_LOWER_BOUND
    assert isinstance(STEP_STATUS_LOWER_BOUND[fact.step], OrderStatus)


def test_the_history_keeps_no_personal_data_of_an_order() -> None:
    placed = example(OrderPlaced)
    fact = order_fact(envelope(placed))
    assert (fact.step, fact.at, fact.snapshot) == (TimelineStep.PLACED, placed.placed_at, placed)
    text = repr((fact.detail, fact.columns, fact.estimate, fact.invoice))
    assert placed.customer.email not in text


def test_a_shipment_records_its_tracking_and_a_credit_note_its_own_step() -> None:
    shipped = example(Shipped)
    fact = order_fact(envelope(shipped))
    assert fact.step is TimelineStep.SHIPPED
    assert fact.columns is not None
    assert fact.columns["tracking_number"] == shipped.tracking_number
    assert fact.estimate == {
        "earliest": shipped.delivery_estimate.earliest.isoformat(),
        "latest": shipped.delivery_estimate.latest.isoformat(),
    }
    invoice = example(InvoiceIssued)
    credit = invoice.model_copy(
        update={"kind": InvoiceKind.CREDIT_NOTE, "corrects_invoice_number": invoice.invoice_number}
    )
    assert order_fact(envelope(invoice)).step is TimelineStep.INVOICE_ISSUED
    credit_fact = order_fact(envelope(credit))
    assert credit_fact.step is TimelineStep.CREDIT_NOTE_ISSUED
    assert credit_fact.invoice is not None and credit_fact.invoice["kind"] == "credit_note"
    assert STEP_STATUS_LOWER_BOUND[TimelineStep.CREDIT_NOTE_ISSUED] is OrderStatus.SHIPPED


def test_a_cancellation_keeps_its_reason_and_other_events_are_refused() -> None:
    cancelled = example(OrderCancelled)
    fact = order_fact(envelope(cancelled))
    assert fact.detail == {"reason": cancelled.reason.value}
    assert STEP_STATUS_LOWER_BOUND[fact.step] is STEP_STATUS[TimelineStep.CANCELLED]
    with pytest.raises(TypeError, match="not an order-history event"):
        order_fact(envelope(example(CustomerErased)))
