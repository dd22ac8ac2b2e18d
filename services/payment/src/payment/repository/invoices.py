"""Invoices and credit notes: one gapless series, the PDF stored as issued."""

# ruff: noqa: S608

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

import asyncpg

from payment.repository.rows import InvoiceRow

# --- Invoices ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewDocument:
    """What the builder returns once it knows its number and date of issue."""

    number: str
    kind: str
    order_id: UUID
    order_number: str
    customer_id: UUID | None
    corrects_invoice_number: str | None
    refund_request_id: UUID | None
    issue_date: date
    total_excl_vat_cents: int
    total_vat_cents: int
    total_incl_vat_cents: int
    document_json: str
    pdf: bytes


DocumentBuilder = Callable[[int, datetime], Awaitable[NewDocument] | NewDocument]


async def issue_document(conn: asyncpg.Connection, build: DocumentBuilder) -> InvoiceRow:
    """Allocate the next number of the series and store the document, in the caller's transaction.

    The series row stays locked until the transaction ends: a concurrent issuer waits, then
    takes the next number; a transaction that fails gives its number back (no gap). The time
    of issue is read after the lock, so numbers and dates go up together.
    """
    if not conn.is_in_transaction():
        raise RuntimeError("a document must be issued inside the transaction that stores it")
    row = await conn.fetchrow(
        """UPDATE invoice_series
           SET last_sequence = last_sequence + 1, last_issued_at = clock_timestamp()
           WHERE series = 'main' RETURNING last_sequence, last_issued_at"""
    )
    assert row is not None
    built = build(row["last_sequence"], row["last_issued_at"])
    new = await built if isinstance(built, Awaitable) else built
    await conn.execute(
        """INSERT INTO invoices (number, sequence, kind, order_id, order_number, customer_id,
               corrects_invoice_number, refund_request_id, issue_date, issued_at,
               total_excl_vat_cents, total_vat_cents, total_incl_vat_cents, document, pdf,
               pdf_sha256)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15, $16)""",
        new.number,
        row["last_sequence"],
        new.kind,
        new.order_id,
        new.order_number,
        new.customer_id,
        new.corrects_invoice_number,
        new.refund_request_id,
        new.issue_date,
        row["last_issued_at"],
        new.total_excl_vat_cents,
        new.total_vat_cents,
        new.total_incl_vat_cents,
        new.document_json,
        new.pdf,
        hashlib.sha256(new.pdf).hexdigest(),
    )
    invoice = await invoice_by_number(conn, new.number)
    assert invoice is not None
    return invoice


_INVOICE_COLUMNS = """number, sequence, kind, order_id, order_number, customer_id,
    corrects_invoice_number, refund_request_id, issue_date, issued_at, total_excl_vat_cents,
    total_vat_cents, total_incl_vat_cents, document"""


async def invoice_by_number(conn: asyncpg.Connection, number: str) -> InvoiceRow | None:
    return InvoiceRow.of(
        await conn.fetchrow(f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE number = $1", number)
    )


async def invoice_of_order(conn: asyncpg.Connection, order_id: UUID) -> InvoiceRow | None:
    return InvoiceRow.of(
        await conn.fetchrow(
            f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE order_id = $1 AND kind = 'invoice'",
            order_id,
        )
    )


async def credit_note_of_refund(
    conn: asyncpg.Connection, refund_request_id: UUID
) -> InvoiceRow | None:
    return InvoiceRow.of(
        await conn.fetchrow(
            f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE refund_request_id = $1",
            refund_request_id,
        )
    )


async def invoice_pdf(conn: asyncpg.Connection, number: str) -> tuple[InvoiceRow, bytes] | None:
    record = await conn.fetchrow(
        f"SELECT {_INVOICE_COLUMNS}, pdf FROM invoices WHERE number = $1",
        number,
    )
    invoice = InvoiceRow.of(record)
    if invoice is None or record is None:
        return None
    return invoice, bytes(record["pdf"])
