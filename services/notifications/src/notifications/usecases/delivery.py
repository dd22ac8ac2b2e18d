"""The dispatcher's steps, each a short transaction of its own (never around an SMTP call).

Claim due emails under a lease, renew the lease while a send lasts, and record the outcome
under that lease: sent, suppressed, failed (permanently, or given up after deferrals), or to
retry later. Every outcome is recorded only under the lease that tried the send; one offered
under a lease that is no longer the row's changes nothing and is logged
(``email_outcome_discarded_lease_lost``). See :mod:`notifications.dispatcher`.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from uuid import UUID

import asyncpg
import structlog
from jg_messaging import utcnow

from notifications import domain, repository
from notifications.domain import EmailStatus, FailureKind, FailureOutcome
from notifications.mail import Failure
from notifications.repository import ClaimedEmail
from notifications.settings import NotificationsSettings

__all__ = [
    "DELAYED_ALERT_AFTER",
    "claim",
    "record_failure",
    "record_sent",
    "record_suppressed",
    "renew_lease",
]

log = structlog.get_logger(__name__)

# An email still not delivered this long after it was written is an error an operator sees.
DELAYED_ALERT_AFTER = 3600.0

Mark = Callable[[asyncpg.Connection, int, UUID], Awaitable[bool]]


async def claim(pool: asyncpg.Pool, *, limit: int, lease: float) -> list[ClaimedEmail]:
    """Reserve up to ``limit`` due emails for ``lease`` seconds, each with a new lease token."""
    async with pool.acquire() as conn:
        return await repository.claim_due(conn, limit=limit, lease=lease)


async def renew_lease(pool: asyncpg.Pool, email: ClaimedEmail, lease: float) -> bool:
    """Extend the claim of ``email`` by ``lease`` seconds; False when its lease is lost."""
    async with pool.acquire() as conn:
        return await repository.renew_lease(conn, email.id, email.lease_token, lease)


async def record_suppressed(
    pool: asyncpg.Pool, email: ClaimedEmail, bound: structlog.stdlib.BoundLogger
) -> None:
    """The address or the account asked for erasure meanwhile: not sent, forgotten."""
    if await _under_lease(pool, email, bound, EmailStatus.SUPPRESSED, repository.mark_suppressed):
        bound.info("email_suppressed")


async def record_sent(
    pool: asyncpg.Pool, email: ClaimedEmail, response: str, bound: structlog.stdlib.BoundLogger
) -> None:
    """The relay accepted the message (its answer is kept)."""

    def mark(conn: asyncpg.Connection, email_id: int, token: UUID) -> Awaitable[bool]:
        return repository.mark_sent(conn, email_id, token, response)

    if await _under_lease(pool, email, bound, EmailStatus.SENT, mark):
        bound.info("email_sent")


async def record_failure(
    pool: asyncpg.Pool,
    email: ClaimedEmail,
    failure: Failure,
    settings: NotificationsSettings,
    bound: structlog.stdlib.BoundLogger,
) -> None:
    """A send failed: end the email (permanent, or deferred for too long) or retry it later."""
    now = utcnow()
    waited = (now - email.created_at).total_seconds()
    deferred_for = 0.0
    if not failure.outage and email.deferred_since is not None:
        deferred_for = (now - email.deferred_since).total_seconds()
    outcome = domain.failure_outcome(
        permanent=failure.permanent,
        outage=failure.outage,
        deferred_for=deferred_for,
        give_up_after=settings.give_up_after,
    )
    if outcome is FailureOutcome.RETRY:
        await _retry(pool, email, failure, settings, bound, waited=waited)
        return
    kind = FailureKind.PERMANENT if outcome is FailureOutcome.FAILED else FailureKind.EXPIRED

    def mark(conn: asyncpg.Connection, email_id: int, token: UUID) -> Awaitable[bool]:
        return repository.mark_failed(conn, email_id, token, kind, failure.reason)

    if not await _under_lease(pool, email, bound, EmailStatus.FAILED, mark):
        return
    if outcome is FailureOutcome.FAILED:
        bound.error("email_failed_permanently", reason=failure.reason)
    else:
        bound.error(
            "email_given_up",
            reason=failure.reason,
            deferred_for_seconds=round(deferred_for),
            age_seconds=round(waited),
        )


async def _retry(
    pool: asyncpg.Pool,
    email: ClaimedEmail,
    failure: Failure,
    settings: NotificationsSettings,
    bound: structlog.stdlib.BoundLogger,
    *,
    waited: float,
) -> None:
    delay = domain.retry_delay(
        email.attempts,
        first=settings.retry_first_delay,
        maximum=settings.retry_max_delay,
        jitter=random.uniform(-1, 1),
    )

    def mark(conn: asyncpg.Connection, email_id: int, token: UUID) -> Awaitable[bool]:
        return repository.mark_retry(
            conn, email_id, token, failure.reason, delay, deferred=not failure.outage
        )

    if await _under_lease(pool, email, bound, FailureOutcome.RETRY, mark):
        level = bound.error if waited >= DELAYED_ALERT_AFTER else bound.warning
        level(
            "email_retry_scheduled",
            reason=failure.reason,
            retry_in=delay,
            outage=failure.outage,
            waiting_for_seconds=round(waited),
        )


async def _under_lease(
    pool: asyncpg.Pool,
    email: ClaimedEmail,
    bound: structlog.stdlib.BoundLogger,
    outcome: EmailStatus | FailureOutcome,
    mark: Mark,
) -> bool:
    """Record an outcome under the email's lease; False (logged) if the lease was lost."""
    async with pool.acquire() as conn:
        recorded = await mark(conn, email.id, email.lease_token)
    if not recorded:
        bound.warning("email_outcome_discarded_lease_lost", outcome=outcome)
    return recorded
