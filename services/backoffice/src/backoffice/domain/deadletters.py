"""Dead letters as the console keeps them, and the headers of their replay (pure).

A replay is the original message (value, key, original headers) sent back to its original
topic, without the ``dlq-*`` headers, with ``replayed-from`` and ``replay-count`` added, as
tools/dlq_replay.py does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

DLQ_PREFIX = "dlq-"
Headers = Sequence[tuple[str, bytes]]


@dataclass(frozen=True)
class DeadLetter:
    id: int
    service: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    received_at: datetime
    replayed_at: datetime | None = None
    replayed_by: str | None = None

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", "replace")
        return None

    @property
    def original_topic(self) -> str | None:
        return self.header("dlq-original-topic")

    @property
    def event_type(self) -> str:
        return self.header("event-type") or ""

    @property
    def reason(self) -> str:
        return self.header("dlq-reason") or ""

    @property
    def error(self) -> str:
        return self.header("dlq-error") or ""

    @property
    def replayable(self) -> bool:
        """An unreadable message would fail again; one without its origin has nowhere to go."""
        return self.original_topic is not None and self.reason != "unreadable"


def replay_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    """The original headers, without the dead-letter ones, plus where the replay came from."""
    kept = [
        (k, v)
        for k, v in letter.headers
        if not k.startswith(DLQ_PREFIX) and k not in {"replayed-from", "replay-count"}
    ]
    count = int(letter.header("replay-count") or "0") + 1
    return [
        *kept,
        ("replayed-from", f"{letter.topic}/{letter.partition}/{letter.offset}".encode()),
        ("replay-count", str(count).encode()),
    ]


def service_of(topic: str, prefix: str) -> str:
    """'payment' from '<prefix>jg.payment.dead-letter'."""
    name = topic[len(prefix) :] if topic.startswith(prefix) else topic
    return name.removeprefix("jg.").removesuffix(".dead-letter")
