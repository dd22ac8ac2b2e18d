"""Invoices and credit notes: one continuous series, the PDF stored when issued, announced by
InvoiceIssued; and reading them back for their customer or internal callers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import asyncpg
import structlog
from jg_auth import Customer, Principal, Storefront
from jg_events import (
    Address,
    Envelope,
    InvoiceIssued,
    InvoiceKind,
    OrderLine,
    RefundLine,
    Shipped,
    ShippingMethod,
)
from jg_messaging import UnitOfWork
from jg_web.http import ApiError

from payment import domain, invoicing, repository
from payment.context import Context
from payment.repository import InvoiceRow, NewDocument, OrderRow, RefundRow

log = structlog.get_logger(__name__)


async def invoice_shipped_order(ctx: Context, envelope: Envelope[Shipped]) -> None:
    """Issue the order's invoice (next number of the series, PDF stored) and announce it."""
    shipped = envelope.payload
    async with ctx.runtime.messaging.handling(envelope) as uow:
        if uow.already_processed:
            return
        order = await repository.get_order(uow.conn, shipped.order_id)
        if order is None:
            # Payment must know the order to invoice it: retry, then dead-letter.
            raise LookupError(f"shipped order {shipped.order_id} is unknown to payment")
        await issue_invoice(ctx, uow.conn, uow, order, shipped.shipped_at)


async def document_pdf(ctx: Context, number: str, who: Principal) -> tuple[InvoiceRow, bytes]:
    """An invoice or credit note and its PDF, for its customer or an internal caller; anyone
    else gets 404, as for an unknown number."""
    async with ctx.pool.acquire() as conn:
        found = await repository.invoice_pdf(conn, number)
    allowed = found is not None and domain.may_read_document(
        found[0].customer_id,
        internal=isinstance(who, Storefront),
        customer_id=who.customer_id if isinstance(who, Customer) else None,
    )
    if found is None or not allowed:
        if found is not None:
            log.warning("invoice_access_denied", number=number)
        raise ApiError(404, "invoice_not_found", "Aucune facture ne correspond à ce numéro.")
    return found


def _seller(ctx: Context) -> invoicing.Seller:
    s = ctx.settings.seller
    return invoicing.Seller(
        name=s.legal_name,
        address_lines=s.address_lines,
        siren=s.siren,
        vat_number=s.vat_number,
        legal_form=s.legal_form,
        rcs=s.rcs,
    )


async def issue_invoice(
    ctx: Context, conn: asyncpg.Connection, uow: UnitOfWork, order: OrderRow, shipped_at: datetime
) -> InvoiceRow | None:
    """Issue the order's invoice (once) in the caller's transaction, with InvoiceIssued."""
    if await repository.invoice_of_order(conn, order.order_id) is not None:
        return None
    snapshot = order.snapshot
    lines = [OrderLine.model_validate(line) for line in snapshot["lines"]]
    shipping = ShippingMethod.model_validate(snapshot["shipping_method"])
    billing = Address.model_validate(snapshot["billing_address"])
    paid = domain.paying_attempt(await repository.attempts_of_order(conn, order.order_id))
    label = invoicing.method_label(order.payment_method_type, paid.card_brand if paid else None)
    paid_on = ctx.local_date(paid.updated_at) if paid else None
    seller = _seller(ctx)
    customer = invoicing.customer_of(billing, order.contact.email)
    drafts = invoicing.order_drafts(lines, shipping)

    def build(sequence: int, issued_at: datetime) -> NewDocument:
        issue_date = ctx.local_date(issued_at)
        number = invoicing.invoice_number(ctx.settings.invoice_prefix, issue_date.year, sequence)
        document = invoicing.build_document(
            kind=InvoiceKind.INVOICE,
            number=number,
            issue_date=issue_date,
            sale_date=ctx.local_date(shipped_at),
            order_number=order.order_number,
            seller=seller,
            customer=customer,
            drafts=drafts,
            payment_note=invoicing.payment_note(InvoiceKind.INVOICE, label, paid_on),
        )
        return _new_document(document, order, None)

    invoice = await repository.issue_document(conn, build)
    await uow.publish(_invoice_issued(invoice, order))
    log.info("invoice_issued", order_id=str(order.order_id), number=invoice.number)
    return invoice


async def issue_credit_note(
    ctx: Context, conn: asyncpg.Connection, uow: UnitOfWork, order: OrderRow, refund: RefundRow
) -> InvoiceRow | None:
    """Issue the credit note of a refund (once), correcting the order's invoice."""
    if await repository.credit_note_of_refund(conn, refund.refund_request_id) is not None:
        return None
    invoice = await repository.invoice_of_order(conn, order.order_id)
    if invoice is None:
        log.error(
            "credit_note_without_invoice",
            order_id=str(order.order_id),
            refund_request_id=str(refund.refund_request_id),
        )
        return None
    original = invoicing.InvoiceDocument.model_validate(invoice.document)
    request = refund.request
    lines = [RefundLine.model_validate(line) for line in request.get("lines", [])]
    order_lines = [OrderLine.model_validate(line) for line in order.snapshot["lines"]]
    drafts = invoicing.refund_drafts(
        lines, Decimal(request.get("shipping_refund", "0.00")), order_lines
    )
    seller = _seller(ctx)
    label = invoicing.method_label(order.payment_method_type, None)

    def build(sequence: int, issued_at: datetime) -> NewDocument:
        issue_date = ctx.local_date(issued_at)
        number = invoicing.invoice_number(ctx.settings.invoice_prefix, issue_date.year, sequence)
        document = invoicing.build_document(
            kind=InvoiceKind.CREDIT_NOTE,
            number=number,
            issue_date=issue_date,
            sale_date=None,
            order_number=order.order_number,
            seller=seller,
            customer=original.customer,
            drafts=drafts,
            payment_note=invoicing.payment_note(InvoiceKind.CREDIT_NOTE, label, None),
            corrects_invoice_number=invoice.number,
        )
        return _new_document(document, order, refund.refund_request_id)

    note = await repository.issue_document(conn, build)
    await uow.publish(_invoice_issued(note, order))
    log.info("credit_note_issued", order_id=str(order.order_id), number=note.number)
    return note


def _new_document(
    document: invoicing.InvoiceDocument, order: OrderRow, refund_request_id: UUID | None
) -> NewDocument:
    # ReportLab (13 MB resident) is imported when the first PDF is drawn, not at start-up.
    from payment.pdf import render_pdf

    pdf = render_pdf(document)
    totals = document.totals
    return NewDocument(
        number=document.number,
        kind=document.kind.value,
        order_id=order.order_id,
        order_number=order.order_number,
        customer_id=order.customer_id,
        corrects_invoice_number=document.corrects_invoice_number,
        refund_request_id=refund_request_id,
        issue_date=document.issue_date,
        total_excl_vat_cents=domain.to_cents(totals.excl_vat),
        total_vat_cents=domain.to_cents(totals.vat),
        total_incl_vat_cents=domain.to_cents(totals.incl_vat),
        document_json=document.model_dump_json(),
        pdf=pdf,
    )


def _invoice_issued(invoice: InvoiceRow, order: OrderRow) -> InvoiceIssued:
    return InvoiceIssued(
        order_id=order.order_id,
        order_number=order.order_number,
        customer=order.contact,
        invoice_number=invoice.number,
        kind=InvoiceKind(invoice.kind),
        corrects_invoice_number=invoice.corrects_invoice_number,
        issue_date=invoice.issue_date,
        total_excl_vat=domain.from_cents(invoice.total_excl_vat_cents),
        total_vat=domain.from_cents(invoice.total_vat_cents),
        total_incl_vat=domain.from_cents(invoice.total_incl_vat_cents),
        download_path=f"/invoices/{invoice.number}.pdf",
    )
