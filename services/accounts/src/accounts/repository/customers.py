"""Customers (the account and its personal data) and the service's stored keys."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from jg_messaging import outbox

from accounts.repository.base import Conn
from accounts.repository.rows import Account, CustomerRecord

# A "live" customer can log in and act: neither erased nor waiting for erasure.


def _account(row: Any) -> Account | None:
    return Account.of(row) if row is not None else None


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
) -> Account:
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
    return Account.of(row)


async def live_customer(conn: Conn, customer_id: UUID, *, lock: bool = False) -> Account | None:
    """The customer if live: neither erased nor waiting for erasure."""
    sql = """SELECT * FROM customers
             WHERE id = $1 AND erasure_requested_at IS NULL AND erased_at IS NULL"""
    return _account(await conn.fetchrow(sql + (" FOR UPDATE" if lock else ""), customer_id))


async def live_customer_by_email(conn: Conn, email: str, *, lock: bool = False) -> Account | None:
    sql = """SELECT * FROM customers
             WHERE email = $1 AND erasure_requested_at IS NULL AND erased_at IS NULL"""
    return _account(await conn.fetchrow(sql + (" FOR UPDATE" if lock else ""), email))


async def customer(conn: Conn, customer_id: UUID, *, lock: bool = False) -> CustomerRecord | None:
    """Any customer, erased or not."""
    sql = "SELECT * FROM customers WHERE id = $1"
    row = await conn.fetchrow(sql + (" FOR UPDATE" if lock else ""), customer_id)
    return CustomerRecord.of(row) if row is not None else None


async def customer_by_email_and_number(conn: Conn, email: str, number: str) -> Account | None:
    """The (not erased) account of this address and number, locked; it may be waiting for
    its erasure."""
    return _account(
        await conn.fetchrow(
            "SELECT * FROM customers WHERE email = $1 AND customer_number = $2 FOR UPDATE",
            email,
            number,
        )
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
) -> Account:
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
    return Account.of(row)


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


async def set_email(conn: Conn, customer_id: UUID, email: str, now: datetime) -> Account:
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
    return Account.of(row)


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
