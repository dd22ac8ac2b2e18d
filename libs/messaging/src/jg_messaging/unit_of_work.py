"""One transaction for a command or an event: state changes, inbox record and outbox rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from jg_events import Envelope, Event

from . import correlation, inbox, outbox, tracing
from .db import connection


@dataclass
class UnitOfWork:
    """What a handler gets: the open transaction's connection and a way to publish.

    `already_processed` is True when the incoming event was applied before (a redelivery):
    the handler must then return without doing anything.
    """

    conn: asyncpg.Connection
    topic_prefix: str
    correlation_id: str
    causation_id: str | None
    already_processed: bool = False
    published: list[Envelope[Any]] = field(default_factory=list)

    async def publish(self, payload: Event) -> Envelope[Any]:
        """Write `payload` to the outbox, carrying this unit's correlation and causation ids."""
        envelope = Envelope.wrap(
            payload, correlation_id=self.correlation_id, causation_id=self.causation_id
        )
        await outbox.enqueue(self.conn, envelope, topic_prefix=self.topic_prefix)
        self.published.append(envelope)
        return envelope


@dataclass(frozen=True)
class Messaging:
    """A service's handle on its database for transactional work (built once in create_app)."""

    pool: asyncpg.Pool
    service: str
    topic_prefix: str = ""

    @asynccontextmanager
    async def handling(self, event: Envelope[Any]) -> AsyncIterator[UnitOfWork]:
        """Apply `event` once: inbox record, effects and new events commit together."""
        with tracing.transaction(event.type):
            async with self._handling(event) as uow:
                yield uow

    @asynccontextmanager
    async def _handling(self, event: Envelope[Any]) -> AsyncIterator[UnitOfWork]:
        async with connection(self.pool) as conn, conn.transaction():
            correlation.bind(
                correlation_id=event.correlation_id,
                causation_id=event.causation_id,
                event_id=str(event.event_id),
                event_type=event.type,
            )
            uow = UnitOfWork(
                conn=conn,
                topic_prefix=self.topic_prefix,
                correlation_id=event.correlation_id,
                causation_id=str(event.event_id),
            )
            uow.already_processed = not await inbox.claim(conn, self.service, event)
            yield uow

    @asynccontextmanager
    async def transaction(self, *, correlation_id: str | None = None) -> AsyncIterator[UnitOfWork]:
        """A command's transaction (an HTTP request, a scheduled job)."""
        cid = (
            correlation_id
            or correlation.current_correlation_id()
            or correlation.new_correlation_id()
        )
        with tracing.transaction():
            async with connection(self.pool) as conn, conn.transaction():
                yield UnitOfWork(
                    conn=conn, topic_prefix=self.topic_prefix, correlation_id=cid, causation_id=None
                )
