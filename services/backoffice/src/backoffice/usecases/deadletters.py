"""Dead letters (copied from the services' dead-letter topics) and parked outbox rows (read
from each service): the manager's replay queue."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import structlog

from backoffice import repository
from backoffice.context import Context
from backoffice.domain import Action, DeadLetter, Outcome, Session, replay_headers, service_of
from backoffice.letterbox import Record
from backoffice.usecases.common import Block, act, block, flash, record, require

log = structlog.get_logger(__name__)

SERVICES_WITH_OUTBOX = ("accounts", "checkout", "payment", "fulfillment", "notifications")


async def keep(ctx: Context, rec: Record) -> None:
    """Keep a copy of a dead letter (once per topic, partition and offset)."""
    letter = DeadLetter(
        id=0,
        service=service_of(rec.topic, ctx.letterbox.prefix),
        topic=rec.topic,
        partition=rec.partition,
        offset=rec.offset,
        key=rec.key,
        value=rec.value or b"",
        headers=[(k, v or b"") for k, v in (rec.headers or ())],
        received_at=ctx.clock(),
    )
    if await repository.add_dead_letter(ctx.runtime.pool, letter):
        log.info("dead_letter_kept", service=letter.service, event_type=letter.event_type)


async def letters(ctx: Context) -> list[DeadLetter]:
    return await repository.list_dead_letters(ctx.runtime.pool)


async def replay(ctx: Context, session: Session, letter_id: int) -> bool:
    """Send a dead letter back to its original topic (manager only), once."""
    await require(ctx, session, Action.REPLAY_DEAD_LETTER, target=letter_id)
    pool = ctx.runtime.pool
    async with pool.acquire() as conn, conn.transaction():
        letter = await repository.get_dead_letter(conn, letter_id, for_update=True)
        if letter is None or not letter.replayable or letter.replayed_at is not None:
            why = "already_replayed" if letter and letter.replayed_at else "not_replayable"
            await record(
                ctx,
                session,
                Action.REPLAY_DEAD_LETTER,
                Outcome.REFUSED,
                target=letter_id,
                reason=why,
            )
            await flash(ctx, session, "Ce message ne peut pas être rejoué.", ok=False)
            return False
        assert letter.original_topic is not None
        await ctx.letterbox.send(
            letter.original_topic, letter.value, letter.key, replay_headers(letter)
        )
        await repository.mark_replayed(conn, letter.id, ctx.clock(), session.member.email)
    await record(
        ctx,
        session,
        Action.REPLAY_DEAD_LETTER,
        Outcome.DONE,
        target=letter_id,
        service=letter.service,
        event_type=letter.event_type,
    )
    await flash(ctx, session, "Le message est renvoyé à son service.")
    return True


@dataclass(frozen=True)
class Parked:
    service: str
    rows: Block


async def parked(ctx: Context, session: Session) -> list[Parked]:
    """Each service's parked outbox rows (a manager's page)."""
    await require(ctx, session, Action.REPLAY_OUTBOX)

    async def one(service: str) -> Parked:
        read = ctx.services.get_json(service, "/operator/outbox/parked", session.token)
        return Parked(service, await block(service, read))

    return list(await asyncio.gather(*(one(s) for s in SERVICES_WITH_OUTBOX)))


async def replay_parked(ctx: Context, session: Session, service: str, row_id: int) -> bool:
    if service not in SERVICES_WITH_OUTBOX:
        return False

    async def call() -> Any:
        return await ctx.services.call(
            service, "POST", f"/operator/outbox/parked/{row_id}/replay", token=session.token
        )

    done = "Le message en attente est renvoyé."
    return await act(ctx, session, Action.REPLAY_OUTBOX, call, done, target=f"{service}/{row_id}")
