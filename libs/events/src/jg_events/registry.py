"""Every event class by (type, schema version), and reading messages back into envelopes.

``parse(message_value)`` reads the envelope's ``type`` and ``schema_version``, picks the event
class and validates the whole envelope with it. It raises :class:`UnknownEventError` for a type or
version this code does not know, and :class:`InvalidEventError` for anything that does not
validate; both are :class:`EventParseError` (a ``ValueError``), which consumers send to their
dead-letter topic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Union

from pydantic import Discriminator, Tag, ValidationError

from jg_events.accounts import ACCOUNT_EVENTS
from jg_events.envelope import Envelope, Event, envelope_type
from jg_events.fulfillment import FULFILLMENT_EVENTS
from jg_events.logistics import LOGISTICS_EVENTS
from jg_events.orders import ORDER_EVENTS
from jg_events.payments import PAYMENT_EVENTS
from jg_events.topics import Topic

__all__ = [
    "ALL_EVENTS",
    "EventParseError",
    "InvalidEventError",
    "UnknownEventError",
    "event_class",
    "events_on",
    "is_known_type",
    "parse",
    "topic_message_type",
]

ALL_EVENTS: tuple[type[Event], ...] = (
    *ORDER_EVENTS,
    *PAYMENT_EVENTS,
    *FULFILLMENT_EVENTS,
    *LOGISTICS_EVENTS,
    *ACCOUNT_EVENTS,
)
"""Every event class of the catalogue, every version still understood."""


def _build_registry() -> dict[tuple[str, int], type[Event]]:
    registry: dict[tuple[str, int], type[Event]] = {}
    for cls in ALL_EVENTS:
        key = (cls.event_type, cls.schema_version)
        if key in registry:
            raise RuntimeError(f"two event classes for {key[0]} v{key[1]}")
        registry[key] = cls
    return registry


_REGISTRY = _build_registry()
_KNOWN_TYPES = frozenset(t for (t, _) in _REGISTRY)


class EventParseError(ValueError):
    """A message that cannot be read as an event of the catalogue."""

    def __init__(
        self, message: str, *, event_type: str | None = None, schema_version: int | None = None
    ) -> None:
        super().__init__(message)
        self.event_type = event_type
        self.schema_version = schema_version


class UnknownEventError(EventParseError):
    """The envelope names a type or version this code does not know."""


class InvalidEventError(EventParseError):
    """The message is not valid JSON, not an envelope, or its payload does not validate."""


def event_class(event_type: str, schema_version: int) -> type[Event]:
    """The class of ``event_type`` version ``schema_version``, or :class:`UnknownEventError`."""
    try:
        return _REGISTRY[(event_type, schema_version)]
    except KeyError:
        known = sorted(v for (t, v) in _REGISTRY if t == event_type)
        if known:
            detail = f"unknown schema_version {schema_version} for {event_type} (known: {known})"
        else:
            detail = f"unknown event type {event_type!r}"
        raise UnknownEventError(
            detail, event_type=event_type, schema_version=schema_version
        ) from None


def is_known_type(event_type: str) -> bool:
    """True when some version of ``event_type`` is in the catalogue."""
    return event_type in _KNOWN_TYPES


def events_on(topic: Topic | str) -> tuple[type[Event], ...]:
    """The event classes published on ``topic`` (a base name, without prefix)."""
    topic = Topic(topic)
    return tuple(cls for cls in ALL_EVENTS if cls.topic is topic)


def parse(raw: bytes | bytearray | str | Mapping[str, Any]) -> Envelope[Any]:
    """Read a message value (JSON bytes or an already decoded dict) into a typed envelope.

    The result is an ``Envelope[TheEventClass]``; ``envelope.payload`` is an instance of it.
    """
    if isinstance(raw, Mapping):
        data: Any = raw
    else:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidEventError(f"message is not JSON: {exc}") from exc
    if not isinstance(data, Mapping):
        raise InvalidEventError("message is not a JSON object (an envelope)")
    event_type = data.get("type")
    version = data.get("schema_version")
    if not isinstance(event_type, str) or not isinstance(version, int) or isinstance(version, bool):
        raise InvalidEventError("envelope has no string 'type' and integer 'schema_version'")
    envelope_cls = envelope_type(event_class(event_type, version))
    try:
        if isinstance(raw, Mapping):
            return envelope_cls.model_validate(raw)
        return envelope_cls.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidEventError(
            f"invalid {event_type} v{version}: {exc}", event_type=event_type, schema_version=version
        ) from exc


def _tag_of(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return f"{value.get('type')}.v{value.get('schema_version')}"
    if isinstance(value, Envelope):
        return f"{value.type}.v{value.schema_version}"
    return None


@cache
def topic_message_type(topic: Topic | str) -> Any:
    """A pydantic type accepting the envelope of any event on ``topic``.

    Use it to type a FastStream subscriber (one handler per topic) so the AsyncAPI document
    lists every message of the topic; dispatch on ``type(envelope.payload)``.
    """
    members = [
        Annotated[envelope_type(cls), Tag(f"{cls.event_type}.v{cls.schema_version}")]
        for cls in events_on(topic)
    ]
    if len(members) == 1:
        return envelope_type(events_on(topic)[0])
    return Annotated[Union[tuple(members)], Discriminator(_tag_of)]  # noqa: UP007
