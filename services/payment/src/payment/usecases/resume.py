"""The synchronisation pass (run by :mod:`payment.sync`): the safety net behind webhooks."""

from __future__ import annotations

import structlog

from payment import repository
from payment.context import Context
from payment.usecases.attempts import drive
from payment.usecases.reauthorisation import expire_reauthorisations
from payment.usecases.refunds import drive_refund

log = structlog.get_logger(__name__)


async def resume_unfinished(ctx: Context, *, quiet_for: float) -> int:
    """Give up the re-authorisations waiting too long, resume the attempts and refunds nobody
    worked on for ``quiet_for`` seconds (same idempotency keys), reading back the pending ones.
    Returns how many it looked at."""
    expired = await expire_reauthorisations(ctx)
    async with ctx.pool.acquire() as conn:
        attempts = await repository.attempts_to_resume(conn, quiet_for=quiet_for)
        refunds = await repository.refunds_to_resume(conn, quiet_for=quiet_for)
    for attempt_id in attempts:
        await drive(ctx, [attempt_id], read_back=True)
    for refund_request_id in refunds:
        await drive_refund(ctx, refund_request_id, read_back=True)
    if attempts or refunds:
        log.debug("stripe_sync_pass", attempts=len(attempts), refunds=len(refunds))
    return expired + len(attempts) + len(refunds)
