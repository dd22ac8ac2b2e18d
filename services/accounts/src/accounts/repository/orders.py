"""The "Mes commandes et factures" read model: orders, their timeline and invoices."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from accounts.repository.base import Conn
from accounts.repository.rows import HistoryOrder, InvoiceRow, TimelineRow
from accounts.repository.throttle import lock_subject

# --- order history ---------------------------------------------------------------------------


async def order_for_update(conn: Conn, order_id: UUID) -> HistoryOrder | None:
    row = await conn.fetchrow(
        "SELECT * FROM order_history WHERE order_id = $1 FOR UPDATE", order_id
    )
    return HistoryOrder.of(row) if row is not None else None


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
) -> list[HistoryOrder]:
    rows = await conn.fetch(
        """SELECT o.*, (SELECT count(*) FROM order_invoices i WHERE i.order_id = o.order_id)
                       AS invoice_count
           FROM order_history o WHERE o.customer_id = $1
           ORDER BY o.placed_at DESC NULLS LAST, o.order_number DESC
           LIMIT $2 OFFSET $3""",
        customer_id,
        limit,
        offset,
    )
    return [HistoryOrder.of(r) for r in rows]


async def count_customer_orders(conn: Conn, customer_id: UUID) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM order_history WHERE customer_id = $1", customer_id
        )
    )


async def customer_order(conn: Conn, customer_id: UUID, order_id: UUID) -> HistoryOrder | None:
    """The order only if it belongs to ``customer_id``."""
    row = await conn.fetchrow(
        "SELECT * FROM order_history WHERE order_id = $1 AND customer_id = $2",
        order_id,
        customer_id,
    )
    return HistoryOrder.of(row) if row is not None else None


async def order_timeline(conn: Conn, order_id: UUID) -> list[TimelineRow]:
    rows = await conn.fetch(
        "SELECT * FROM order_timeline WHERE order_id = $1 ORDER BY at, step", order_id
    )
    return [TimelineRow.of(r) for r in rows]


async def order_invoices(conn: Conn, order_id: UUID) -> list[InvoiceRow]:
    rows = await conn.fetch(
        "SELECT * FROM order_invoices WHERE order_id = $1 ORDER BY issue_date, invoice_number",
        order_id,
    )
    return [InvoiceRow.of(r) for r in rows]
