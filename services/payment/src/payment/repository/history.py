"""What customer service reads of an order's payments: its refunds and documents."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from payment.repository.rows import InvoiceRow, RefundRow


async def refunds_of_order(conn: asyncpg.Connection, order_id: UUID) -> list[RefundRow]:
    rows = await conn.fetch(
        "SELECT * FROM payment_refunds WHERE order_id = $1 ORDER BY created_at", order_id
    )
    return [r for r in map(RefundRow.of, rows) if r is not None]


async def documents_of_order(conn: asyncpg.Connection, order_id: UUID) -> list[InvoiceRow]:
    rows = await conn.fetch(
        """SELECT number, sequence, kind, order_id, order_number, customer_id,
                  corrects_invoice_number, refund_request_id, issue_date, issued_at,
                  total_excl_vat_cents, total_vat_cents, total_incl_vat_cents, document
             FROM invoices WHERE order_id = $1 ORDER BY sequence""",
        order_id,
    )
    return [r for r in map(InvoiceRow.of, rows) if r is not None]
