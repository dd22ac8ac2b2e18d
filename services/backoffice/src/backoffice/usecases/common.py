"""What every use case shares: the audit trail, the role check, the flash message, the
translation of a service's answer into an outcome."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog

from backoffice import repository
from backoffice.clients import SERVICE_NAMES_FR, ForbiddenError, RefusedError, UnavailableError
from backoffice.context import Context
from backoffice.domain import Action, AuditEntry, Outcome, Session, may

log = structlog.get_logger(__name__)
T = TypeVar("T")


class NotAllowedError(Exception):
    """The member's role does not allow the action (the page answers 403)."""


def unavailable_message(service: str) -> str:
    name = SERVICE_NAMES_FR.get(service, service)
    return (
        f"Le service des {name} ne répond pas pour le moment. "
        "Les autres informations restent à jour\u00a0; réessayez dans quelques instants."
    )


@dataclass(frozen=True)
class Block:
    """One service's part of a page: its data, or why it is missing (a French sentence)."""

    data: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


async def block(service: str, read: Awaitable[T]) -> Block:
    """Run ``read``; a service that is away gives a polite message instead of its data."""
    try:
        return Block(await read)
    except UnavailableError:
        return Block(error=unavailable_message(service))
    except RefusedError as exc:
        return Block(error=exc.message or "Le service n’a pas pu répondre à cette demande.")


async def record(
    ctx: Context,
    session: Session,
    action: Action,
    outcome: Outcome,
    **where: Any,
) -> None:
    """One line of the audit trail: who (the member), when, what, where, how it went."""
    entry = AuditEntry(
        at=ctx.clock(),
        actor=session.member.email,
        role=session.member.role.value,
        action=action,
        outcome=outcome,
        order_id=_text(where.pop("order_id", None)),
        claim_id=_text(where.pop("claim_id", None)),
        target=_text(where.pop("target", None)),
        detail={k: str(v) for k, v in where.items() if v is not None},
    )
    await repository.add_audit(ctx.runtime.pool, entry)
    log.info("console_action", actor=entry.actor, action=action.value, outcome=outcome.value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


async def require(ctx: Context, session: Session, action: Action, **where: Any) -> None:
    """Refuse (and record) an action the member's role does not allow."""
    if not may(session.member.role, action):
        await record(ctx, session, action, Outcome.FORBIDDEN, **where)
        raise NotAllowedError(action.value)


async def flash(ctx: Context, session: Session, message: str, *, ok: bool = True) -> None:
    await repository.set_flash(ctx.runtime.pool, session.id, message, ok)


async def act(
    ctx: Context,
    session: Session,
    action: Action,
    call: Callable[[], Awaitable[Any]],
    done: str,
    **where: Any,
) -> bool:
    """Do ``call`` through a service, record it in the audit trail and say how it went."""
    await require(ctx, session, action, **where)
    try:
        await call()
    except ForbiddenError as exc:
        await record(ctx, session, action, Outcome.FORBIDDEN, **where)
        await flash(ctx, session, exc.message or "Cette action vous est refusée.", ok=False)
        return False
    except RefusedError as exc:
        await record(ctx, session, action, Outcome.REFUSED, reason=exc.message, **where)
        await flash(ctx, session, exc.message or "Le service a refusé cette action.", ok=False)
        return False
    except UnavailableError as exc:
        await record(ctx, session, action, Outcome.FAILED, **where)
        await flash(ctx, session, unavailable_message(exc.service), ok=False)
        return False
    await record(ctx, session, action, Outcome.DONE, **where)
    await flash(ctx, session, done)
    return True
