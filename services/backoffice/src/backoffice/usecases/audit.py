"""The audit trail, as the manager reads it."""

from __future__ import annotations

from backoffice import repository
from backoffice.context import Context
from backoffice.domain import Action, AuditEntry, Session
from backoffice.usecases.common import require


async def trail(ctx: Context, session: Session, order_id: str | None = None) -> list[AuditEntry]:
    await require(ctx, session, Action.READ_AUDIT)
    return await repository.list_audit(ctx.runtime.pool, 300, order_id)
