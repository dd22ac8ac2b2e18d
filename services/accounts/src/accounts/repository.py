"""The accounts database: asyncpg and plain SQL. Every function takes a connection."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg
from jg_events import CustomerErasureRequested, Envelope
from jg_messaging import outbox

Conn: TypeAlias = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy

# A "live" customer can log in and act: neither erased nor waiting for erasure.

# --- keys ------------------------------------------------------------------------------------


async def key_value(conn: Conn, name: str, candidate: str) -> str:
    """The stored value of key ``name``; ``candidate`` is stored first if there is none."""
    await conn.execute(
        "INSERT INTO service_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        name,
        candidate,
    )
    return str(await conn.fetchval("SELECT value FROM service_keys WHERE name = $1", name))


# --- customers -------------------------------------------------------------------------------


async def next_customer_sequence(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT nextval('customer_number_seq')"))


async def insert_customer(
    conn: Conn,
    *,
    customer_id: UUID,
    number: str,
    email: str,
    first_name: str,
    last_name: str,
    password_hash: str,
    now: datetime,
) -> asyncpg.Record:
    """Raises asyncpg.UniqueViolationError when the email already has an account."""
    row = await conn.fetchrow(
        """INSERT INTO customers (id, customer_number, email, first_name, last_name,
                                  password_hash, created_at, updated_at, password_changed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7) RETURNING *""",
        customer_id,
        number,
        email,
        first_name,
        last_name,
        password_hash,
        now,
    )
    assert row is not None
    return row


async def live_customer(
    conn: Conn, customer_id: UUID, *, lock: bool = False
) -> asyncpg.Record | None:
    sql = """SELECT * FROM customers
             WHERE id = $1 AND erasure_requested_at IS NULL AND erased_at IS NULL"""
    return await conn.fetchrow(sql + (" FOR UPDATE" if lock else ""), customer_id)


async def live_customer_by_email(
    conn: Conn, email: str, *, lock: bool = False
) -> asyncpg.Record | None:
    sql = """SELECT * FROM customers
             WHERE email = $1 AND erasure_requested_at IS NULL AND erased_at IS NULL"""
    return await conn.fetchrow(sql + (" FOR UPDATE" if lock else ""), email)


async def customer(conn: Conn, customer_id: UUID, *, lock: bool = False) -> asyncpg.Record | None:
    sql = "SELECT * FROM customers WHERE id = $1"
    return await conn.fetchrow(sql + (" FOR UPDATE" if lock else ""), customer_id)


async def customer_by_email_and_number(
    conn: Conn, email: str, number: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM customers WHERE email = $1 AND customer_number = $2 FOR UPDATE",
        email,
        number,
    )


async def email_in_use(conn: Conn, email: str) -> bool:
    return bool(await conn.fetchval("SELECT true FROM customers WHERE email = $1", email))


async def update_profile(
    conn: Conn,
    customer_id: UUID,
    *,
    first_name: str,
    last_name: str,
    billing_address: dict[str, Any] | None,
    now: datetime,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """UPDATE customers SET first_name = $2, last_name = $3, billing_address = $4::jsonb,
                                updated_at = $5
           WHERE id = $1 RETURNING *""",
        customer_id,
        first_name,
        last_name,
        json.dumps(billing_address) if billing_address is not None else None,
        now,
    )
    assert row is not None
    return row


async def set_password(conn: Conn, customer_id: UUID, password_hash: str, now: datetime) -> None:
    await conn.execute(
        """UPDATE customers SET password_hash = $2, password_changed_at = $3, updated_at = $3
           WHERE id = $1""",
        customer_id,
        password_hash,
        now,
    )


async def rehash_password(conn: Conn, customer_id: UUID, old: str, new: str) -> None:
    """Store a stronger hash of the same password (only if it did not change meanwhile)."""
    await conn.execute(
        "UPDATE customers SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
        customer_id,
        old,
        new,
    )


async def set_email(conn: Conn, customer_id: UUID, email: str, now: datetime) -> asyncpg.Record:
    """The account's new address, not proven yet (the caller proves it: mark_email_verified).

    Raises asyncpg.UniqueViolationError when another account has the address."""
    row = await conn.fetchrow(
        """UPDATE customers SET email = $2, email_verified_at = NULL, updated_at = $3
           WHERE id = $1 RETURNING *""",
        customer_id,
        email,
        now,
    )
    assert row is not None
    return row


async def mark_email_verified(conn: Conn, customer_id: UUID, now: datetime) -> bool:
    """Record that the current address is proven; False if it already was."""
    status = await conn.execute(
        """UPDATE customers SET email_verified_at = $2, updated_at = $2
           WHERE id = $1 AND email_verified_at IS NULL""",
        customer_id,
        now,
    )
    return str(status).split()[-1] != "0"


async def mark_erasure_requested(conn: Conn, customer_id: UUID, by: str, now: datetime) -> None:
    await conn.execute(
        """UPDATE customers SET erasure_requested_at = $3, erasure_requested_by = $2
           WHERE id = $1 AND erasure_requested_at IS NULL""",
        customer_id,
        by,
        now,
    )


async def erase_customer(conn: Conn, customer_id: UUID, now: datetime) -> None:
    """Forget every personal field; the row keeps only the id, the number and the dates."""
    await conn.execute("DELETE FROM password_reset_tokens WHERE customer_id = $1", customer_id)
    await conn.execute("DELETE FROM email_changes WHERE customer_id = $1", customer_id)
    await conn.execute("DELETE FROM email_verifications WHERE customer_id = $1", customer_id)
    await conn.execute("DELETE FROM sessions WHERE customer_id = $1", customer_id)
    await conn.execute("DELETE FROM order_history WHERE customer_id = $1", customer_id)
    await conn.execute(
        """UPDATE customers SET email = NULL, first_name = NULL, last_name = NULL,
                                billing_address = NULL, password_hash = NULL,
                                email_verified_at = NULL,
                                erasure_requested_at = coalesce(erasure_requested_at, $2),
                                erased_at = $2, updated_at = $2
           WHERE id = $1""",
        customer_id,
        now,
    )


async def forget_sent_events(conn: Conn, key: str) -> int:
    """Forget the outbox copies of ``key``'s events (they hold the customer's contact): the
    published ones now, the waiting ones as soon as relayed (``outbox.forget``)."""
    return await outbox.forget(conn, [key])


# --- the erasure list ------------------------------------------------------------------------

# The erasure list keeps a proven address as long as a database backup may hold data found by
# it: 30 days of backups (deploy/k8s/overlays/prod/backup-targets.yaml), plus the base backup
# that starts the oldest of those days, plus a margin.
ERASURE_ADDRESS_KEPT_DAYS = 35


async def record_erasure_request(
    conn: Conn, envelope: Envelope[CustomerErasureRequested], topic: str
) -> bool:
    """Put a request on the erasure list; False when it is already there (applied before, or
    imported after a restore of this database)."""
    request = envelope.payload
    recorded = await conn.fetchval(
        """INSERT INTO erasure_requests (customer_id, customer_number, event_id, occurred_at,
               correlation_id, topic, requested_at, requested_by, email_verified, email)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT DO NOTHING RETURNING true""",
        request.customer_id,
        request.customer_number,
        envelope.event_id,
        envelope.occurred_at,
        envelope.correlation_id,
        topic,
        request.requested_at,
        request.requested_by.value,
        request.email_verified,
        request.email if request.email_verified else None,
    )
    return bool(recorded)


async def forget_erasure_addresses(conn: Conn, before: datetime) -> int:
    """Housekeeping: forget the addresses of the requests made before ``before``."""
    status = await conn.execute(
        """UPDATE erasure_requests SET email = NULL, email_forgotten_at = now()
           WHERE email IS NOT NULL AND requested_at < $1""",
        before,
    )
    return int(status.split()[-1])


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
) -> asyncpg.Record | None:
    """The session if it is open, not expired, and its customer still live."""
    return await conn.fetchrow(
        """SELECT s.* FROM sessions s JOIN customers c ON c.id = s.customer_id
            WHERE s.id = $1 AND s.customer_id = $2 AND s.ended_at IS NULL
              AND s.expires_at > $3 AND c.erasure_requested_at IS NULL AND c.erased_at IS NULL""",
        session_id,
        customer_id,
        now,
    )


async def session_by_refresh_token(
    conn: Conn, refresh_hash: bytes, now: datetime
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT s.* FROM sessions s JOIN customers c ON c.id = s.customer_id
            WHERE s.refresh_token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2
              AND c.erasure_requested_at IS NULL AND c.erased_at IS NULL
            FOR UPDATE OF s""",
        refresh_hash,
        now,
    )


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
) -> asyncpg.Record | None:
    sql = """SELECT t.* FROM password_reset_tokens t JOIN customers c ON c.id = t.customer_id
              WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > $2
                AND c.erasure_requested_at IS NULL AND c.erased_at IS NULL"""
    return await conn.fetchrow(sql + (" FOR UPDATE OF t" if lock else ""), token_hash, now)


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


async def usable_email_change(conn: Conn, token_hash: bytes, now: datetime) -> asyncpg.Record:
    return await conn.fetchrow(
        """SELECT e.* FROM email_changes e JOIN customers c ON c.id = e.customer_id
            WHERE e.token_hash = $1 AND e.used_at IS NULL AND e.expires_at > $2
              AND c.erasure_requested_at IS NULL AND c.erased_at IS NULL
            FOR UPDATE OF e""",
        token_hash,
        now,
    )


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


async def usable_email_verification(
    conn: Conn, token_hash: bytes, now: datetime
) -> asyncpg.Record | None:
    """The link if unused, unexpired, and its account still live with the address it went to."""
    return await conn.fetchrow(
        """SELECT v.* FROM email_verifications v JOIN customers c ON c.id = v.customer_id
            WHERE v.token_hash = $1 AND v.used_at IS NULL AND v.expires_at > $2
              AND c.email = v.email
              AND c.erasure_requested_at IS NULL AND c.erased_at IS NULL
            FOR UPDATE OF v""",
        token_hash,
        now,
    )


async def use_email_verifications(conn: Conn, customer_id: UUID, now: datetime) -> None:
    """End every outstanding verification link of the customer."""
    await conn.execute(
        """UPDATE email_verifications SET used_at = $2
           WHERE customer_id = $1 AND used_at IS NULL""",
        customer_id,
        now,
    )


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


# --- order history ---------------------------------------------------------------------------


async def order_for_update(conn: Conn, order_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM order_history WHERE order_id = $1 FOR UPDATE", order_id
    )


async def insert_order(
    conn: Conn,
    *,
    order_id: UUID,
    customer_id: UUID | None,
    order_number: str,
    status: str,
    guest_email_hash: bytes | None = None,
) -> None:
    await conn.execute(
        """INSERT INTO order_history (order_id, customer_id, order_number, status,
                                      guest_email_hash)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (order_id) DO NOTHING""",
        order_id,
        customer_id,
        order_number,
        status,
        guest_email_hash,
    )


GUEST_EMAIL_SCOPE = "guest_email"


async def lock_guest_email(conn: Conn, guest_email_hash: bytes) -> None:
    """Serialise, until the transaction ends, the recording of a guest order of an address and
    the proof of that address (which links its guest orders): either the order is recorded
    first and the linking sees it, or the proof is committed first and the order sees it."""
    await lock_subject(conn, GUEST_EMAIL_SCOPE, guest_email_hash)


async def verified_owner_of(conn: Conn, email: str) -> UUID | None:
    """The live account that proved it owns ``email``, if any (under lock_guest_email)."""
    row = await conn.fetchrow(
        """SELECT id, email_verified_at, erasure_requested_at FROM customers
           WHERE email = $1 AND erased_at IS NULL""",
        email,
    )
    if row is None or row["email_verified_at"] is None or row["erasure_requested_at"]:
        return None
    return UUID(str(row["id"]))


async def link_guest_orders(conn: Conn, customer_id: UUID, guest_email_hash: bytes) -> int:
    """Give the account the guest orders placed with its (just proven) address."""
    status = await conn.execute(
        """UPDATE order_history SET customer_id = $1, updated_at = now()
           WHERE customer_id IS NULL AND guest_email_hash = $2""",
        customer_id,
        guest_email_hash,
    )
    return int(status.split()[-1])


async def forget_guest_orders(conn: Conn, guest_email_hash: bytes) -> int:
    """Delete the guest orders of an address no account has linked (erasure by a proven
    address: the stragglers that arrived after the linking)."""
    status = await conn.execute(
        "DELETE FROM order_history WHERE customer_id IS NULL AND guest_email_hash = $1",
        guest_email_hash,
    )
    return int(status.split()[-1])


async def update_order(conn: Conn, order_id: UUID, changes: dict[str, Any]) -> None:
    """Set the given columns (names from this module only, never from input)."""
    if not changes:
        return
    columns = list(changes)
    values = [
        json.dumps(v) if c in ("content", "delivery_estimate") else v for c, v in changes.items()
    ]
    assignments = ", ".join(
        f"{c} = ${i + 2}{'::jsonb' if c in ('content', 'delivery_estimate') else ''}"
        for i, c in enumerate(columns)
    )
    await conn.execute(
        f"UPDATE order_history SET {assignments}, updated_at = now() WHERE order_id = $1",  # noqa: S608
        order_id,
        *values,
    )


async def add_timeline(
    conn: Conn,
    *,
    event_id: UUID,
    order_id: UUID,
    step: str,
    at: datetime,
    detail: dict[str, Any] | None,
) -> None:
    await conn.execute(
        """INSERT INTO order_timeline (event_id, order_id, step, at, detail)
           VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (event_id) DO NOTHING""",
        event_id,
        order_id,
        step,
        at,
        json.dumps(detail) if detail is not None else None,
    )


async def add_invoice(conn: Conn, order_id: UUID, invoice: dict[str, Any]) -> None:
    await conn.execute(
        """INSERT INTO order_invoices (invoice_number, order_id, kind, corrects_invoice_number,
                                       issue_date, total_excl_vat, total_vat, total_incl_vat,
                                       download_path)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (invoice_number) DO NOTHING""",
        invoice["invoice_number"],
        order_id,
        invoice["kind"],
        invoice["corrects_invoice_number"],
        invoice["issue_date"],
        invoice["total_excl_vat"],
        invoice["total_vat"],
        invoice["total_incl_vat"],
        invoice["download_path"],
    )


async def customer_orders(
    conn: Conn, customer_id: UUID, *, limit: int, offset: int
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT o.*, (SELECT count(*) FROM order_invoices i WHERE i.order_id = o.order_id)
                       AS invoice_count
           FROM order_history o WHERE o.customer_id = $1
           ORDER BY o.placed_at DESC NULLS LAST, o.order_number DESC
           LIMIT $2 OFFSET $3""",
        customer_id,
        limit,
        offset,
    )
    return rows


async def count_customer_orders(conn: Conn, customer_id: UUID) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM order_history WHERE customer_id = $1", customer_id
        )
    )


async def customer_order(conn: Conn, customer_id: UUID, order_id: UUID) -> asyncpg.Record | None:
    """The order only if it belongs to ``customer_id``."""
    return await conn.fetchrow(
        "SELECT * FROM order_history WHERE order_id = $1 AND customer_id = $2",
        order_id,
        customer_id,
    )


async def order_timeline(conn: Conn, order_id: UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM order_timeline WHERE order_id = $1 ORDER BY at, step", order_id
    )
    return rows


async def order_invoices(conn: Conn, order_id: UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM order_invoices WHERE order_id = $1 ORDER BY issue_date, invoice_number",
        order_id,
    )
    return rows
