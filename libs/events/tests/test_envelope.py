"""The envelope: ids, UTC time, type checking against the payload, key and headers."""

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest
from jg_events import (
    Envelope,
    Event,
    OrderConfirmed,
    OrderPlaced,
    PasswordResetRequested,
    kafka_headers,
    parse,
)
from jg_events.examples import ORDER_ID, example, example_envelope
from pydantic import ValidationError

pytestmark = pytest.mark.unit


def _fields(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "event_id": str(uuid4()),
        "type": "OrderPlaced",
        "schema_version": 1,
        "occurred_at": "2026-03-02T10:14:05+01:00",
        "correlation_id": "req-1",
        "payload": example(OrderPlaced).model_dump(mode="json"),
    }
    fields.update(overrides)
    return fields


def test_wrap_fills_type_version_id_and_time() -> None:
    before = datetime.now(UTC)
    envelope = Envelope.wrap(example(OrderPlaced), correlation_id="req-1")
    assert type(envelope) is Envelope[OrderPlaced]
    assert (envelope.type, envelope.schema_version) == ("OrderPlaced", 1)
    assert isinstance(envelope.event_id, UUID)
    assert envelope.occurred_at.tzinfo is UTC
    assert before <= envelope.occurred_at <= datetime.now(UTC)
    assert envelope.causation_id is None
    assert envelope.key == str(ORDER_ID)


def test_follow_keeps_the_correlation_and_points_to_the_cause() -> None:
    cause = example_envelope(OrderPlaced)
    confirmed = Envelope.follow(example(OrderConfirmed), cause=cause)
    assert confirmed.correlation_id == cause.correlation_id
    assert confirmed.causation_id == str(cause.event_id)
    assert confirmed.event_id != cause.event_id


def test_occurred_at_is_normalised_to_utc() -> None:
    envelope = Envelope[OrderPlaced].model_validate(_fields())
    assert envelope.occurred_at == datetime(2026, 3, 2, 9, 14, 5, tzinfo=UTC)
    assert envelope.occurred_at.utcoffset() == timedelta(0)
    assert '"occurred_at":"2026-03-02T09:14:05Z"' in envelope.model_dump_json()
    paris = timezone(timedelta(hours=1))
    wrapped = Envelope.wrap(
        example(OrderPlaced),
        correlation_id="c",
        occurred_at=datetime(2026, 3, 2, 10, 0, tzinfo=paris),
    )
    assert wrapped.occurred_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("naive", ["2026-03-02T09:14:05", datetime(2026, 3, 2, 9, 14, 5)])
def test_naive_datetimes_are_refused(naive: object) -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Envelope[OrderPlaced].model_validate(_fields(occurred_at=naive))
    with pytest.raises(ValidationError, match="timezone"):
        Envelope.wrap(example(OrderPlaced), correlation_id="c", occurred_at=naive)  # type: ignore[arg-type]


def test_naive_datetimes_in_payloads_are_refused() -> None:
    data = example(PasswordResetRequested).model_dump()
    data["expires_at"] = datetime(2026, 3, 2, 10, 0)
    with pytest.raises(ValidationError, match="timezone"):
        PasswordResetRequested.model_validate(data)


def test_type_that_does_not_match_the_payload_is_refused() -> None:
    with pytest.raises(ValidationError, match="envelope says OrderConfirmed v1"):
        Envelope[OrderPlaced].model_validate(_fields(type="OrderConfirmed"))
    with pytest.raises(ValidationError, match="OrderPlaced v2"):
        Envelope[OrderPlaced].model_validate(_fields(schema_version=2))
    with pytest.raises(ValidationError, match="envelope says OrderPlaced"):
        Envelope(**_fields(payload=example(OrderConfirmed)))  # type: ignore[arg-type]


def test_an_abstract_payload_is_refused() -> None:
    with pytest.raises(ValidationError, match="event of the catalogue"):
        Envelope.model_validate(_fields())  # payload would be a bare Event
    with pytest.raises(ValidationError, match="event of the catalogue"):
        Envelope[Event].model_validate(_fields())


def test_envelope_and_payload_are_immutable() -> None:
    envelope = example_envelope(OrderPlaced)
    with pytest.raises(ValidationError):
        envelope.correlation_id = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        envelope.payload.order_number = "JG-0"  # type: ignore[misc]


def test_unknown_fields_are_ignored_so_producers_may_add_optional_fields() -> None:
    data = example_envelope(OrderPlaced).model_dump(mode="json")
    data["tenant"] = "fr"
    data["payload"]["gift_message"] = "Joyeux anniversaire"
    data["payload"]["lines"][0]["engraving"] = "Camille"
    envelope = parse(data)
    assert envelope == example_envelope(OrderPlaced)


def test_serialisation_of_an_unparametrised_envelope_keeps_the_payload() -> None:
    typed = example_envelope(OrderPlaced)
    loose = Envelope(**dict(typed))
    assert loose.model_dump_json() == typed.model_dump_json()


def test_kafka_headers() -> None:
    first = example_envelope(OrderPlaced)
    assert kafka_headers(first) == {
        "event-type": "OrderPlaced",
        "event-version": "1",
        "event-id": str(first.event_id),
        "correlation-id": first.correlation_id,
        "content-type": "application/json",
    }
    second = Envelope.follow(example(OrderConfirmed), cause=first)
    headers = kafka_headers(second)
    assert headers["causation-id"] == str(first.event_id)
    assert headers["event-type"] == "OrderConfirmed"
    assert all(isinstance(v, str) for v in headers.values())
