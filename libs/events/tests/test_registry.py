"""The catalogue: every event registered once, on its topic, with its key; parse() reads them."""

import json

import pytest
from jg_events import (
    ALL_EVENTS,
    Event,
    InvalidEventError,
    OrderPlaced,
    StockReplenished,
    Topic,
    UnknownEventError,
    event_class,
    events_on,
    parse,
    topic_message_type,
)
from jg_events.examples import CUSTOMER_ID, ORDER_ID, example, example_envelope
from pydantic import TypeAdapter, ValidationError

pytestmark = pytest.mark.unit

T = Topic
# The catalogue as the design and the issues describe it: event -> (topic, Kafka key field).
CATALOGUE: dict[str, tuple[Topic, str]] = {
    "OrderPlaced": (T.CHECKOUT_ORDERS, "order_id"),
    "OrderConfirmed": (T.CHECKOUT_ORDERS, "order_id"),
    "OrderModified": (T.CHECKOUT_ORDERS, "order_id"),
    "OrderCancelled": (T.CHECKOUT_ORDERS, "order_id"),
    "OrderReleased": (T.CHECKOUT_ORDERS, "order_id"),
    "PaymentAuthorized": (T.PAYMENT_PAYMENTS, "order_id"),
    "PaymentActionRequired": (T.PAYMENT_PAYMENTS, "order_id"),
    "PaymentAuthenticationExpired": (T.PAYMENT_PAYMENTS, "order_id"),
    "PaymentRefused": (T.PAYMENT_PAYMENTS, "order_id"),
    "PaymentCaptured": (T.PAYMENT_PAYMENTS, "order_id"),
    "PaymentCancelled": (T.PAYMENT_PAYMENTS, "order_id"),
    "RefundIssued": (T.PAYMENT_PAYMENTS, "order_id"),
    "InvoiceIssued": (T.PAYMENT_PAYMENTS, "order_id"),
    "OrderProcessing": (T.LOGISTICS_REQUESTS, "order_id"),
    "Backordered": (T.FULFILLMENT_ORDERS, "order_id"),
    "Shipped": (T.FULFILLMENT_ORDERS, "order_id"),
    "Delivered": (T.FULFILLMENT_ORDERS, "order_id"),
    "ReturnAccepted": (T.FULFILLMENT_ORDERS, "order_id"),
    "ReturnRejected": (T.FULFILLMENT_ORDERS, "order_id"),
    "RefundRequested": (T.FULFILLMENT_ORDERS, "order_id"),
    "ClaimOpened": (T.FULFILLMENT_ORDERS, "order_id"),
    "ClaimResolved": (T.FULFILLMENT_ORDERS, "order_id"),
    "ParcelPickedUp": (T.LOGISTICS_REPORTS, "order_id"),
    "ParcelDelivered": (T.LOGISTICS_REPORTS, "order_id"),
    "StockReplenished": (T.LOGISTICS_REPORTS, "sku"),
    "ReturnReceived": (T.LOGISTICS_REPORTS, "order_id"),
    "CustomerRegistered": (T.ACCOUNTS_CUSTOMERS, "customer_id"),
    "CustomerUpdated": (T.ACCOUNTS_CUSTOMERS, "customer_id"),
    "EmailChangeRequested": (T.ACCOUNTS_CUSTOMERS, "customer_id"),
    "PasswordResetRequested": (T.ACCOUNTS_CUSTOMERS, "customer_id"),
    "CustomerErasureRequested": (T.ACCOUNTS_CUSTOMERS, "customer_id"),
    "CustomerErased": (T.ACCOUNTS_CUSTOMERS, "customer_id"),
    "EmailVerificationRequested": (T.ACCOUNTS_CUSTOMERS, "customer_id"),
    "CustomerEmailVerified": (T.ACCOUNTS_CUSTOMERS, "customer_id"),
}


def _concrete_subclasses(cls: type[Event]) -> set[type[Event]]:
    found: set[type[Event]] = set()
    for sub in cls.__subclasses__():
        if sub.__pydantic_generic_metadata__["origin"] is None:
            if sub.is_concrete():
                found.add(sub)
            found |= _concrete_subclasses(sub)
    return found


def test_the_catalogue_is_complete_and_every_event_class_is_registered() -> None:
    assert {cls.event_type for cls in ALL_EVENTS} == set(CATALOGUE)
    assert _concrete_subclasses(Event) == set(ALL_EVENTS)
    assert len({(c.event_type, c.schema_version) for c in ALL_EVENTS}) == len(ALL_EVENTS)


def test_every_event_belongs_to_exactly_one_topic_its_documented_one() -> None:
    for topic in Topic:
        expected = {name for name, (t, _) in CATALOGUE.items() if t is topic}
        assert {cls.event_type for cls in events_on(topic)} == expected, topic
    placements = [cls for topic in Topic for cls in events_on(topic)]
    assert sorted(c.__name__ for c in placements) == sorted(c.__name__ for c in ALL_EVENTS)


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=lambda c: c.event_type)
def test_partition_key(cls: type[Event]) -> None:
    envelope = example_envelope(cls)
    key_field = CATALOGUE[cls.event_type][1]
    expected = {"order_id": str(ORDER_ID), "customer_id": str(CUSTOMER_ID)}.get(
        key_field, "FUROSHIKI-SAKURA"
    )
    assert envelope.key == expected
    assert envelope.key == str(getattr(envelope.payload, key_field))


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=lambda c: c.event_type)
def test_parse_reads_every_event_from_bytes_and_dicts(cls: type[Event]) -> None:
    envelope = example_envelope(cls)
    from_bytes = parse(envelope.to_json_bytes())
    assert from_bytes == envelope
    assert type(from_bytes.payload) is cls
    assert from_bytes.model_dump_json() == envelope.model_dump_json()
    assert parse(json.loads(envelope.to_json_bytes())) == envelope


def test_parse_rejects_unknown_types_and_versions() -> None:
    data = example_envelope(OrderPlaced).model_dump(mode="json")
    with pytest.raises(UnknownEventError, match="unknown event type 'OrderTeleported'"):
        parse({**data, "type": "OrderTeleported"})
    with pytest.raises(
        UnknownEventError, match=r"schema_version 7 for OrderPlaced \(known: \[1\]\)"
    ):
        parse({**data, "schema_version": 7})
    with pytest.raises(UnknownEventError):
        event_class("OrderPlaced", 2)


def test_parse_rejects_invalid_payloads_with_the_reason() -> None:
    data = example_envelope(OrderPlaced).model_dump(mode="json")
    missing = {**data, "payload": {k: v for k, v in data["payload"].items() if k != "lines"}}
    with pytest.raises(InvalidEventError, match="invalid OrderPlaced v1") as caught:
        parse(json.dumps(missing).encode())
    assert "lines" in str(caught.value)
    assert caught.value.event_type == "OrderPlaced"
    floated = json.dumps(data).replace('"total": "99.37"', '"total": 99.37')
    assert floated != json.dumps(data)
    with pytest.raises(InvalidEventError, match="never a float"):
        parse(floated.encode())
    with pytest.raises(InvalidEventError, match="not JSON"):
        parse(b"\xff{not json")
    with pytest.raises(InvalidEventError, match="not a JSON object"):
        parse(b"[1, 2]")
    with pytest.raises(InvalidEventError, match="no string 'type'"):
        parse({**data, "schema_version": "1"})
    with pytest.raises(InvalidEventError, match="event_id"):
        parse({**data, "event_id": "not-a-uuid"})


def test_topic_message_type_accepts_every_event_of_the_topic_and_only_those() -> None:
    adapter = TypeAdapter(topic_message_type(Topic.LOGISTICS_REPORTS))
    for cls in events_on(Topic.LOGISTICS_REPORTS):
        envelope = adapter.validate_json(example_envelope(cls).to_json_bytes())
        assert type(envelope.payload) is cls
    with pytest.raises(ValidationError):
        adapter.validate_json(example_envelope(OrderPlaced).to_json_bytes())
    single = TypeAdapter(topic_message_type(Topic.LOGISTICS_REQUESTS))
    assert single.json_schema()["title"] == "OrderProcessing v1"
    assert example(StockReplenished).partition_key() == "FUROSHIKI-SAKURA"


def test_is_known_type() -> None:
    from jg_events import is_known_type

    assert is_known_type("OrderPlaced")
    assert not is_known_type("OrderTeleported")
