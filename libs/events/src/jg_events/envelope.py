"""One envelope for every event, the payload base class and the Kafka headers.

A message on Kafka is the JSON of an :class:`Envelope` whose ``payload`` is one event of the
catalogue (a subclass of :class:`Event`). The envelope carries what every consumer needs whatever
the event: a unique id (the inbox's deduplication key), the type and schema version (what to
validate the payload with), when it happened (UTC), the correlation id (one id per customer
action, carried through every event it causes) and the causation id (the event id, or request id,
that caused this one).

Build envelopes with :meth:`Envelope.wrap` (a new action) or :meth:`Envelope.follow` (an event
caused by another); read them with :func:`jg_events.registry.parse`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, TypeVar, cast
from uuid import UUID, uuid4

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    model_validator,
)

from jg_events.topics import Topic

__all__ = [
    "CONTENT_TYPE_JSON",
    "HEADER_CAUSATION_ID",
    "HEADER_CONTENT_TYPE",
    "HEADER_CORRELATION_ID",
    "HEADER_EVENT_ID",
    "HEADER_EVENT_TYPE",
    "HEADER_EVENT_VERSION",
    "Envelope",
    "Event",
    "UtcDatetime",
    "envelope_type",
    "kafka_headers",
]

HEADER_EVENT_TYPE = "event-type"
HEADER_EVENT_VERSION = "event-version"
HEADER_EVENT_ID = "event-id"
HEADER_CORRELATION_ID = "correlation-id"
HEADER_CAUSATION_ID = "causation-id"
HEADER_CONTENT_TYPE = "content-type"
CONTENT_TYPE_JSON = "application/json"


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware datetime, normalised to UTC; naive datetimes are refused."""


class Event(BaseModel):
    """Base class of every event payload.

    Payloads are immutable and ignore fields they do not know, so a producer may add optional
    fields without breaking older consumers. A concrete event sets the class variables
    ``event_type``, ``schema_version``, ``topic`` and ``key_field`` (the payload field whose value
    is the Kafka key). A breaking change to an event is a new class with ``schema_version + 1``.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    event_type: ClassVar[str]
    schema_version: ClassVar[int]
    topic: ClassVar[Topic]
    key_field: ClassVar[str]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "event_type" not in cls.__dict__:
            return  # an abstract base (OrderEvent, CustomerEvent, ...)
        if not isinstance(cls.schema_version, int) or cls.schema_version < 1:
            raise TypeError(f"{cls.__name__}.schema_version must be an int >= 1")
        if not isinstance(cls.topic, Topic):
            raise TypeError(f"{cls.__name__}.topic must be a Topic")
        if cls.key_field not in cls.model_fields:
            raise TypeError(f"{cls.__name__}.key_field {cls.key_field!r} is not one of its fields")

    @classmethod
    def is_concrete(cls) -> bool:
        """True for a catalogue event (one that defines its own ``event_type``)."""
        return "event_type" in cls.__dict__

    def partition_key(self) -> str:
        """The Kafka key: the order id, the customer id, or the sku for stock reports."""
        return str(getattr(self, self.key_field))


P = TypeVar("P", bound=Event)
E = TypeVar("E", bound=Event)


def _payload_class(envelope_cls: type[BaseModel]) -> type[Event] | None:
    args = envelope_cls.__pydantic_generic_metadata__.get("args", ())
    if len(args) == 1 and isinstance(args[0], type) and issubclass(args[0], Event):
        return args[0] if args[0].is_concrete() else None
    return None


def _envelope_json_schema(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    """Make the schema of ``Envelope[SomeEvent]`` say which event it is."""
    event = _payload_class(cls)
    if event is None:
        return
    schema["title"] = f"{event.event_type} v{event.schema_version}"
    schema["description"] = (
        f"Envelope of a {event.event_type} event (schema version {event.schema_version}) "
        f"on topic {event.topic.value}; Kafka key: payload.{event.key_field}."
    )
    schema["properties"]["type"]["const"] = event.event_type
    schema["properties"]["schema_version"]["const"] = event.schema_version
    schema["x-topic"] = event.topic.value
    schema["x-kafka-key"] = f"payload.{event.key_field}"


class Envelope(BaseModel, Generic[P]):
    """The message written to Kafka: metadata plus one event payload.

    ``Envelope[OrderPlaced]`` is the envelope of an OrderPlaced event; ``type`` and
    ``schema_version`` must match the payload's class or the envelope is refused.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        defer_build=True,
        json_schema_extra=_envelope_json_schema,
    )

    event_id: UUID = Field(
        description="Unique id of this event; consumers deduplicate on it (inbox)."
    )
    type: str = Field(
        min_length=1, description="Event type, e.g. 'OrderPlaced'; selects the payload schema."
    )
    schema_version: int = Field(
        ge=1, strict=True, description="Version of the payload schema for this event type."
    )
    occurred_at: UtcDatetime = Field(
        description="When the event happened, ISO 8601 in UTC (timezone required)."
    )
    correlation_id: str = Field(
        min_length=1,
        max_length=200,
        description="Id shared by every event and request that stems from one customer or "
        "operator action; travels in Kafka and HTTP headers and in every log line.",
    )
    causation_id: str | None = Field(
        default=None,
        max_length=200,
        description="Id of the event (its event_id) or request that directly caused this one; "
        "null for a first event.",
    )
    payload: SerializeAsAny[P] = Field(description="The event itself.")

    @model_validator(mode="after")
    def _payload_matches_type(self) -> Envelope[P]:
        payload_cls = type(self.payload)
        if not isinstance(self.payload, Event) or not payload_cls.is_concrete():
            raise ValueError(
                "payload must be an event of the catalogue; parametrise the envelope "
                "(Envelope[OrderPlaced]) or read messages with jg_events.parse()"
            )
        if (self.type, self.schema_version) != (
            payload_cls.event_type,
            payload_cls.schema_version,
        ):
            raise ValueError(
                f"envelope says {self.type} v{self.schema_version} but the payload is "
                f"{payload_cls.event_type} v{payload_cls.schema_version}"
            )
        return self

    @property
    def key(self) -> str:
        """The Kafka key of this message (``payload.partition_key()``)."""
        return self.payload.partition_key()

    @classmethod
    def wrap(
        cls,
        payload: E,
        *,
        correlation_id: str,
        causation_id: str | None = None,
        event_id: UUID | None = None,
        occurred_at: datetime | None = None,
    ) -> Envelope[E]:
        """Put ``payload`` in an envelope: type and version come from its class.

        ``event_id`` defaults to a new UUID and ``occurred_at`` to now (UTC).
        """
        envelope_cls = envelope_type(type(payload))
        return envelope_cls(
            event_id=event_id or uuid4(),
            type=payload.event_type,
            schema_version=payload.schema_version,
            occurred_at=occurred_at or datetime.now(UTC),
            correlation_id=correlation_id,
            causation_id=causation_id,
            payload=payload,
        )

    @classmethod
    def follow(
        cls,
        payload: E,
        *,
        cause: Envelope[Any],
        event_id: UUID | None = None,
        occurred_at: datetime | None = None,
    ) -> Envelope[E]:
        """Envelope an event caused by ``cause``: same correlation id, causation = its event id."""
        return cls.wrap(
            payload,
            correlation_id=cause.correlation_id,
            causation_id=str(cause.event_id),
            event_id=event_id,
            occurred_at=occurred_at,
        )

    def to_json_bytes(self) -> bytes:
        """The Kafka message value (UTF-8 JSON)."""
        return self.model_dump_json().encode()


def envelope_type(event_cls: type[E]) -> type[Envelope[E]]:
    """``Envelope[event_cls]`` for a class known at run time (pydantic builds the model once
    per class); static ``Envelope[OrderPlaced]`` in annotations needs no helper."""
    return cast("type[Envelope[E]]", Envelope.__class_getitem__(event_cls))


def kafka_headers(envelope: Envelope[Any]) -> dict[str, str]:
    """Kafka headers for ``envelope``: routing and tracing without parsing the body.

    The body stays the source of truth; headers let brokers' tools, dead-letter inspection and
    consumers filter by type and bind the correlation id before decoding.
    """
    headers = {
        HEADER_EVENT_TYPE: envelope.type,
        HEADER_EVENT_VERSION: str(envelope.schema_version),
        HEADER_EVENT_ID: str(envelope.event_id),
        HEADER_CORRELATION_ID: envelope.correlation_id,
        HEADER_CONTENT_TYPE: CONTENT_TYPE_JSON,
    }
    if envelope.causation_id is not None:
        headers[HEADER_CAUSATION_ID] = envelope.causation_id
    return headers
