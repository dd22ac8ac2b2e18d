"""Render an invoice or a credit note as PDF with ReportLab (pure Python, no system library).

The standard Helvetica font covers French (accents, the euro sign) through WinAnsi encoding, so
nothing has to be installed or embedded. The rendering is deterministic for a given document
(``invariant``): the same document always gives the same bytes.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from jg_events import InvoiceKind
from jg_shop import french_date
from reportlab.lib import colors  # type: ignore[import-untyped]  # reportlab ships no types
from reportlab.lib.enums import TA_RIGHT  # type: ignore[import-untyped]  # reportlab ships no types
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]  # reportlab ships no types
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet  # type: ignore[import-untyped]  # reportlab ships no types
from reportlab.lib.units import mm  # type: ignore[import-untyped]  # reportlab ships no types
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle  # type: ignore[import-untyped]  # reportlab ships no types

from payment.invoicing import InvoiceDocument

_STYLES = getSampleStyleSheet()
_BODY = ParagraphStyle("body", parent=_STYLES["Normal"], fontName="Helvetica", fontSize=9)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=7.5, textColor=colors.grey)
_TITLE = ParagraphStyle("title", parent=_BODY, fontName="Helvetica-Bold", fontSize=16)
_RIGHT = ParagraphStyle("right", parent=_BODY, alignment=TA_RIGHT)
_BOLD = ParagraphStyle("bold", parent=_BODY, fontName="Helvetica-Bold")
_BOLD_RIGHT = ParagraphStyle("bold_right", parent=_BOLD, alignment=TA_RIGHT)


def euros(amount: Decimal) -> str:
    """French money format: ``1 234,50 €``."""
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{' '.join(groups)},{cents} €"


def percent(rate: Decimal) -> str:
    text = f"{rate:.2f}".rstrip("0").rstrip(".")
    return f"{text.replace('.', ',')} %"


def _p(text: str, style: ParagraphStyle = _BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def render_pdf(doc: InvoiceDocument) -> bytes:
    """The PDF of ``doc`` (A4, French)."""
    buffer = io.BytesIO()
    title = "Avoir" if doc.kind is InvoiceKind.CREDIT_NOTE else "Facture"
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{title} {doc.number}",
        author=doc.seller.name,
        subject=f"{title} {doc.number} - commande {doc.order_number}",
        creator="JapanGoodz payment",
        invariant=True,
    )
    story: list[Any] = [
        *_header(doc, title),
        *_facts(doc),
        *_lines(doc),
        *_summary(doc),
        _p(doc.payment_note),
        Spacer(1, 10 * mm),
        _footer(doc),
    ]
    template.build(story)
    return buffer.getvalue()


def _header(doc: InvoiceDocument, title: str) -> list[Any]:
    """The title, the seller and the customer."""
    seller = doc.seller
    seller_block = "\n".join(
        [
            seller.name,
            *seller.address_lines,
            f"SIREN : {seller.siren}",
            f"N° TVA intracommunautaire : {seller.vat_number}",
        ]
    )
    customer_lines = [doc.customer.name, *doc.customer.address_lines]
    if doc.customer.email:
        customer_lines.append(doc.customer.email)
    header = Table(
        [
            [_p(f"{title} n° {doc.number}", _TITLE), ""],
            [_p(seller_block), _p("Client :\n" + "\n".join(customer_lines))],
        ],
        colWidths=[95 * mm, 79 * mm],
    )
    header.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("SPAN", (0, 0), (1, 0)),
                ("BOTTOMPADDING", (0, 0), (1, 0), 4 * mm),
            ]
        )
    )
    return [header, Spacer(1, 6 * mm)]


def _facts(doc: InvoiceDocument) -> list[Any]:
    """Dates, the order, the invoice a credit note corrects."""
    facts = [
        f"Date d'émission : {french_date(doc.issue_date)}",
    ]
    if doc.sale_date:
        facts.append(f"Date de la vente (expédition) : {french_date(doc.sale_date)}")
    facts.append(f"Commande n° {doc.order_number}")
    if doc.corrects_invoice_number:
        facts.append(f"Avoir sur la facture n° {doc.corrects_invoice_number}")
    return [_p("\n".join(facts)), Spacer(1, 6 * mm)]


def _lines(doc: InvoiceDocument) -> list[Any]:
    """One row per line: designation, quantity, unit price, VAT rate, totals."""
    rows: list[list[Any]] = [
        [
            _p("Désignation", _BOLD),
            _p("Qté", _BOLD_RIGHT),
            _p("P.U. HT", _BOLD_RIGHT),
            _p("TVA", _BOLD_RIGHT),
            _p("Total HT", _BOLD_RIGHT),
            _p("Total TTC", _BOLD_RIGHT),
        ]
    ]
    for line in doc.lines:
        description = line.description + (f"\nRéf. {line.sku}" if line.sku else "")
        rows.append(
            [
                _p(description),
                _p(str(line.quantity), _RIGHT),
                _p(euros(line.unit_price_excl_vat), _RIGHT),
                _p(percent(line.vat_rate), _RIGHT),
                _p(euros(line.total_excl_vat), _RIGHT),
                _p(euros(line.total_incl_vat), _RIGHT),
            ]
        )
    table = Table(rows, colWidths=[70 * mm, 12 * mm, 22 * mm, 16 * mm, 26 * mm, 28 * mm])
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return [table, Spacer(1, 6 * mm)]


def _summary(doc: InvoiceDocument) -> list[Any]:
    """The VAT breakdown by rate and the totals."""
    credit = doc.kind is InvoiceKind.CREDIT_NOTE
    vat_rows: list[list[Any]] = [
        [
            _p("Taux de TVA", _BOLD),
            _p("Base HT", _BOLD_RIGHT),
            _p("TVA", _BOLD_RIGHT),
            _p("TTC", _BOLD_RIGHT),
        ]
    ]
    for vat in doc.vat_breakdown:
        vat_rows.append(
            [
                _p(percent(vat.rate)),
                _p(euros(vat.base_excl_vat), _RIGHT),
                _p(euros(vat.vat), _RIGHT),
                _p(euros(vat.total_incl_vat), _RIGHT),
            ]
        )
    totals = doc.totals
    total_rows = [
        [_p("Total HT"), _p(euros(totals.excl_vat), _RIGHT)],
        [_p("Total TVA"), _p(euros(totals.vat), _RIGHT)],
        [
            _p("Total TTC remboursé" if credit else "Total TTC", _BOLD),
            _p(euros(totals.incl_vat), _RIGHT),
        ],
    ]
    vat_table = Table(vat_rows, colWidths=[24 * mm, 24 * mm, 20 * mm, 24 * mm])
    vat_table.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black)]))
    totals_table = Table(total_rows, colWidths=[40 * mm, 30 * mm])
    totals_table.setStyle(TableStyle([("LINEABOVE", (0, 2), (-1, 2), 0.8, colors.black)]))
    summary = Table([[vat_table, totals_table]], colWidths=[100 * mm, 74 * mm])
    summary.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [summary, Spacer(1, 8 * mm)]


def _footer(doc: InvoiceDocument) -> Paragraph:
    """The seller's legal mentions."""
    seller = doc.seller
    return _p(
        f"{seller.name}, {seller.legal_form} - {seller.rcs} - SIREN {seller.siren} - "
        f"TVA {seller.vat_number} - " + ", ".join(seller.address_lines),
        _SMALL,
    )
