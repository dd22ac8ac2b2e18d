"""Login sessions (access tokens carry their id; the refresh token renews them)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from accounts.repository.base import Conn
from accounts.repository.rows import Session

# --- sessions --------------------------------------------------------------------------------


async def insert_session(
    conn: Conn,
    *,
    session_id: UUID,
    customer_id: UUID,
    refresh_hash: bytes,
    now: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO sessions (id, customer_id, refresh_token_hash, created_at, refreshed_at,
                                 expires_at)
           VALUES ($1, $2, $3, $4, $4, $5)""",
        session_id,
        customer_id,
        refresh_hash,
        now,
        expires_at,
    )


async def live_session(
    conn: Conn, session_id: UUID, customer_id: UUID, now: datetime
) -> Session | None:
    """The session if it is open, not expired, and its customer still live."""
    row = await conn.fetchrow(
        """SELECT s.* FROM sessions s JOIN customers c ON c.id = s.customer_id
            WHERE s.id = $1 AND s.customer_id = $2 AND s.ended_at IS NULL
              AND s.expires_at > $3 AND c.erasure_requested_at IS NULL AND c.erased_at IS NULL""",
        session_id,
        customer_id,
        now,
    )
    return Session.of(row) if row is not None else None


async def session_by_refresh_token(
    conn: Conn, refresh_hash: bytes, now: datetime
) -> Session | None:
    """The open session of this refresh token, locked; its customer still live."""
    row = await conn.fetchrow(
        """SELECT s.* FROM sessions s JOIN customers c ON c.id = s.customer_id
            WHERE s.refresh_token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2
              AND c.erasure_requested_at IS NULL AND c.erased_at IS NULL
            FOR UPDATE OF s""",
        refresh_hash,
        now,
    )
    return Session.of(row) if row is not None else None


async def rotate_refresh_token(
    conn: Conn, session_id: UUID, refresh_hash: bytes, now: datetime
) -> None:
    await conn.execute(
        "UPDATE sessions SET refresh_token_hash = $2, refreshed_at = $3 WHERE id = $1",
        session_id,
        refresh_hash,
        now,
    )


async def end_session(conn: Conn, session_id: UUID, reason: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE sessions SET ended_at = $3, end_reason = $2 WHERE id = $1 AND ended_at IS NULL",
        session_id,
        reason,
        now,
    )


async def end_sessions(
    conn: Conn, customer_id: UUID, reason: str, now: datetime, *, keep: UUID | None = None
) -> int:
    status = await conn.execute(
        """UPDATE sessions SET ended_at = $3, end_reason = $2
           WHERE customer_id = $1 AND ended_at IS NULL AND id IS DISTINCT FROM $4""",
        customer_id,
        reason,
        now,
        keep,
    )
    return int(status.split()[-1])
