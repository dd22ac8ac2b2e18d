"""Single-use links: password reset, email change, email verification (token hashes only)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from accounts.repository.base import Conn
from accounts.repository.rows import EmailChange, Link

# --- single-use tokens -----------------------------------------------------------------------


async def insert_reset_token(
    conn: Conn, token_hash: bytes, customer_id: UUID, now: datetime, expires_at: datetime
) -> None:
    await conn.execute(
        """INSERT INTO password_reset_tokens (token_hash, customer_id, created_at, expires_at)
           VALUES ($1, $2, $3, $4)""",
        token_hash,
        customer_id,
        now,
        expires_at,
    )


async def usable_reset_token(
    conn: Conn, token_hash: bytes, now: datetime, *, lock: bool = False
) -> Link | None:
    """The reset link if unused, unexpired, and its account still live."""
    sql = """SELECT t.* FROM password_reset_tokens t JOIN customers c ON c.id = t.customer_id
              WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > $2
                AND c.erasure_requested_at IS NULL AND c.erased_at IS NULL"""
    row = await conn.fetchrow(sql + (" FOR UPDATE OF t" if lock else ""), token_hash, now)
    return Link(row["customer_id"]) if row is not None else None


async def use_reset_tokens(conn: Conn, customer_id: UUID, now: datetime) -> None:
    """End every outstanding reset link of the customer (the one used and any other)."""
    await conn.execute(
        """UPDATE password_reset_tokens SET used_at = $2
           WHERE customer_id = $1 AND used_at IS NULL""",
        customer_id,
        now,
    )


async def insert_email_change(
    conn: Conn,
    token_hash: bytes,
    customer_id: UUID,
    new_email: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO email_changes (token_hash, customer_id, new_email, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5)""",
        token_hash,
        customer_id,
        new_email,
        now,
        expires_at,
    )


async def usable_email_change(conn: Conn, token_hash: bytes, now: datetime) -> EmailChange | None:
    """The email change if unused, unexpired, and its account still live; locked."""
    row = await conn.fetchrow(
        """SELECT e.* FROM email_changes e JOIN customers c ON c.id = e.customer_id
            WHERE e.token_hash = $1 AND e.used_at IS NULL AND e.expires_at > $2
              AND c.erasure_requested_at IS NULL AND c.erased_at IS NULL
            FOR UPDATE OF e""",
        token_hash,
        now,
    )
    return EmailChange(row["customer_id"], row["new_email"]) if row is not None else None


async def pending_email(conn: Conn, customer_id: UUID, now: datetime) -> str | None:
    value = await conn.fetchval(
        """SELECT new_email FROM email_changes
           WHERE customer_id = $1 AND used_at IS NULL AND expires_at > $2
           ORDER BY created_at DESC LIMIT 1""",
        customer_id,
        now,
    )
    return str(value) if value is not None else None


async def use_email_changes(conn: Conn, customer_id: UUID, now: datetime) -> None:
    await conn.execute(
        "UPDATE email_changes SET used_at = $2 WHERE customer_id = $1 AND used_at IS NULL",
        customer_id,
        now,
    )


async def insert_email_verification(
    conn: Conn,
    token_hash: bytes,
    customer_id: UUID,
    email: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO email_verifications (token_hash, customer_id, email, created_at,
                                            expires_at)
           VALUES ($1, $2, $3, $4, $5)""",
        token_hash,
        customer_id,
        email,
        now,
        expires_at,
    )


async def usable_email_verification(conn: Conn, token_hash: bytes, now: datetime) -> Link | None:
    """The link if unused, unexpired, and its account still live with the address it went to."""
    row = await conn.fetchrow(
        """SELECT v.* FROM email_verifications v JOIN customers c ON c.id = v.customer_id
            WHERE v.token_hash = $1 AND v.used_at IS NULL AND v.expires_at > $2
              AND c.email = v.email
              AND c.erasure_requested_at IS NULL AND c.erased_at IS NULL
            FOR UPDATE OF v""",
        token_hash,
        now,
    )
    return Link(row["customer_id"]) if row is not None else None


async def use_email_verifications(conn: Conn, customer_id: UUID, now: datetime) -> None:
    """End every outstanding verification link of the customer."""
    await conn.execute(
        """UPDATE email_verifications SET used_at = $2
           WHERE customer_id = $1 AND used_at IS NULL""",
        customer_id,
        now,
    )
