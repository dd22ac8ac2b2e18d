"""Attempts counted by the login slow-down and the rate limits, and housekeeping."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from accounts.repository.base import Conn

# --- throttling ------------------------------------------------------------------------------


async def lock_subject(conn: Conn, scope: str, subject: bytes) -> None:
    """Serialise, until the transaction ends, the requests that count against one subject (so a
    limit holds exactly, whichever instance answers)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || encode($2, 'hex'), 0))",
        scope,
        subject,
    )


async def record_attempt(conn: Conn, scope: str, subject: bytes, now: datetime) -> int:
    return int(
        await conn.fetchval(
            "INSERT INTO throttle_events (scope, subject, at) VALUES ($1, $2, $3) RETURNING id",
            scope,
            subject,
            now,
        )
    )


async def attempts_since(
    conn: Conn, scope: str, subject: bytes, since: datetime, *, besides: int | None = None
) -> list[datetime]:
    rows = await conn.fetch(
        """SELECT at FROM throttle_events
           WHERE scope = $1 AND subject = $2 AND at > $3 AND id IS DISTINCT FROM $4""",
        scope,
        subject,
        since,
        besides,
    )
    return [r["at"] for r in rows]


async def forget_attempts(
    conn: Conn, *, ids: Sequence[int] = (), subject: bytes | None = None, scopes: Sequence[str] = ()
) -> None:
    if ids:
        await conn.execute("DELETE FROM throttle_events WHERE id = ANY($1::bigint[])", list(ids))
    if subject is not None:
        await conn.execute(
            "DELETE FROM throttle_events WHERE subject = $1 AND scope = ANY($2::text[])",
            subject,
            list(scopes),
        )


async def purge(conn: Conn, *, throttle_before: datetime, tokens_before: datetime) -> None:
    """Housekeeping: old attempts, spent or expired links, long-ended sessions."""
    await conn.execute("DELETE FROM throttle_events WHERE at < $1", throttle_before)
    await conn.execute(
        "DELETE FROM password_reset_tokens WHERE coalesce(used_at, expires_at) < $1",
        tokens_before,
    )
    await conn.execute(
        "DELETE FROM email_changes WHERE coalesce(used_at, expires_at) < $1", tokens_before
    )
    await conn.execute(
        "DELETE FROM email_verifications WHERE coalesce(used_at, expires_at) < $1", tokens_before
    )
    await conn.execute(
        "DELETE FROM sessions WHERE coalesce(ended_at, expires_at) < $1", tokens_before
    )
    # Outbox copies of version-1 link events (a link in clear) that replicas of the previous
    # version may still have written during an upgrade: gone once relayed.
    await conn.execute(
        """DELETE FROM messaging_outbox
           WHERE event_type IN ('PasswordResetRequested', 'EmailChangeRequested')
             AND coalesce(headers ->> 'event-version', '1') = '1' AND sent_at IS NOT NULL"""
    )
