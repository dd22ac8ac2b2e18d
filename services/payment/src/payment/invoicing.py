"""Invoices and credit notes: numbering, VAT breakdown and document content (pure, unit tested).

French rules applied (CGI art. 242 nonies A, Code de commerce L123-22):

* one continuous chronological series for invoices *and* credit notes: the number is
  ``<prefix>-<year of issue>-<sequence>``, the sequence never restarts and never skips (it is
  allocated in the transaction that stores the document, see the repository);
* the legal mentions: seller's name, address, SIREN and VAT number; the customer's name and
  address; the date of issue and of the sale; per line the quantity, the description, the unit
  price excluding VAT and the VAT rate; the totals excluding VAT, of VAT per rate and including
  VAT. Shipping is a line like any other, but it follows the VAT of the goods it carries: with
  goods at several rates it is split into one line per rate, pro rata of the goods excluding VAT
  and to the cent (:mod:`jg_events.vat`, the same split as the order's ``totals.vat_breakdown``);
  a credit note splits the shipping it refunds in the same proportions as the invoice.

Consumer prices are TTC: amounts excluding VAT are derived from them, per VAT rate, so the
document's total including VAT is exactly what the customer paid. Line amounts excluding VAT are
rounded so that they add up exactly to each rate's base (largest remainder).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from typing import Annotated

from jg_events import (
    Address,
    InvoiceKind,
    OrderLine,
    RefundLine,
    ShippingMethod,
    order_vat_shares,
    split_pro_rata,
    to_money,
    vat_included,
)
from jg_events.vat import goods_by_rate, shipping_weights
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

CENT = Decimal("0.01")
_HUNDRED = Decimal(100)

Amount = Annotated[Decimal, PlainSerializer(lambda d: format(d, "f"), return_type=str)]

_NUMBER = re.compile(r"^(?P<prefix>[A-Z]{1,4})-(?P<year>\d{4})-(?P<seq>\d{6,})$")


# --- Numbering -----------------------------------------------------------------------------------


def invoice_number(prefix: str, year: int, sequence: int) -> str:
    """``F-2026-000042``: the prefix, the year of issue and the position in the one series."""
    if sequence < 1:
        raise ValueError("the series starts at 1")
    return f"{prefix}-{year:04d}-{sequence:06d}"


def sequence_of(number: str) -> int:
    """The position in the series of an invoice number (ValueError if it is not one)."""
    match = _NUMBER.match(number)
    if match is None:
        raise ValueError(f"not an invoice number: {number!r}")
    return int(match["seq"])


def is_invoice_number(number: str) -> bool:
    return _NUMBER.match(number) is not None


def gaps(sequences: Iterable[int]) -> list[int]:
    """Positions missing from a series that should run 1, 2, 3... (for audits and tests)."""
    seen = sorted(set(sequences))
    if not seen:
        return []
    present = set(seen)
    return [n for n in range(1, seen[-1] + 1) if n not in present]


# --- Document ------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Party(_Model):
    name: str
    address_lines: tuple[str, ...]


class Seller(Party):
    siren: str
    vat_number: str
    legal_form: str
    rcs: str


class Customer(Party):
    email: str | None = None


class DocumentLine(_Model):
    description: str
    sku: str | None = None
    quantity: int
    unit_price_excl_vat: Amount
    unit_price_incl_vat: Amount
    vat_rate: Amount
    total_excl_vat: Amount
    total_incl_vat: Amount


class VatLine(_Model):
    rate: Amount
    base_excl_vat: Amount
    vat: Amount
    total_incl_vat: Amount


class Totals(_Model):
    excl_vat: Amount
    vat: Amount
    incl_vat: Amount


class InvoiceDocument(_Model):
    """Everything printed on an invoice or a credit note (stored with it, never changed)."""

    kind: InvoiceKind
    number: str
    issue_date: date
    sale_date: date | None = Field(description="Date of the sale (shipment), if another day")
    order_number: str
    corrects_invoice_number: str | None = None
    seller: Seller
    customer: Customer
    lines: tuple[DocumentLine, ...]
    vat_breakdown: tuple[VatLine, ...]
    totals: Totals
    payment_note: str


class DraftLine(_Model):
    """A line before its amounts excluding VAT are worked out."""

    description: str
    sku: str | None = None
    quantity: int = Field(ge=1)
    unit_price_incl_vat: Amount
    vat_rate: Amount
    total_incl_vat: Amount


def compute_lines(
    drafts: Sequence[DraftLine],
) -> tuple[tuple[DocumentLine, ...], tuple[VatLine, ...], Totals]:
    """Lines excluding VAT, the breakdown per VAT rate and the totals, from TTC amounts.

    Per rate: VAT = the VAT included in the rate's TTC sum (rounded half up), base = TTC - VAT.
    The lines' amounts excluding VAT are then rounded so they add up exactly to that base.
    """
    by_rate: dict[Decimal, list[int]] = defaultdict(list)
    for index, draft in enumerate(drafts):
        by_rate[draft.vat_rate].append(index)

    excl: dict[int, Decimal] = {}
    breakdown: list[VatLine] = []
    for rate in sorted(by_rate):
        indexes = by_rate[rate]
        ttc = sum((drafts[i].total_incl_vat for i in indexes), Decimal("0.00"))
        vat = vat_included(ttc, rate)
        base = ttc - vat
        breakdown.append(VatLine(rate=rate, base_excl_vat=base, vat=vat, total_incl_vat=ttc))
        excl.update(_apportion(base, {i: _excl(drafts[i].total_incl_vat, rate) for i in indexes}))

    lines = tuple(
        DocumentLine(
            description=d.description,
            sku=d.sku,
            quantity=d.quantity,
            unit_price_excl_vat=to_money(_excl(d.unit_price_incl_vat, d.vat_rate)),
            unit_price_incl_vat=d.unit_price_incl_vat,
            vat_rate=d.vat_rate,
            total_excl_vat=excl[i],
            total_incl_vat=d.total_incl_vat,
        )
        for i, d in enumerate(drafts)
    )
    totals = Totals(
        excl_vat=sum((v.base_excl_vat for v in breakdown), Decimal("0.00")),
        vat=sum((v.vat for v in breakdown), Decimal("0.00")),
        incl_vat=sum((v.total_incl_vat for v in breakdown), Decimal("0.00")),
    )
    return lines, tuple(breakdown), totals


def _excl(amount_incl_vat: Decimal, rate: Decimal) -> Decimal:
    """Exact (unrounded) amount excluding VAT."""
    return amount_incl_vat * _HUNDRED / (_HUNDRED + rate)


def _apportion(target: Decimal, exact: dict[int, Decimal]) -> dict[int, Decimal]:
    """Round each exact amount to the cent so that they add up to ``target`` exactly."""
    floors = {i: v.quantize(CENT, rounding=ROUND_FLOOR) for i, v in exact.items()}
    missing = int((target - sum(floors.values(), Decimal("0.00"))) / CENT)
    by_remainder = sorted(exact, key=lambda i: (exact[i] - floors[i], -i), reverse=True)
    result = dict(floors)
    if missing >= 0:
        for i in by_remainder[:missing]:
            result[i] += CENT
    else:  # pragma: no cover - floors never exceed a base rounded half up from the same sums
        for i in by_remainder[::-1][:-missing]:
            result[i] -= CENT
    return result


def _rate_label(rate: Decimal) -> str:
    """``Decimal("5.50")`` -> ``"5,5 %"`` (no-break space before the sign)."""
    text = f"{rate:.2f}".rstrip("0").rstrip(".")
    return f"{text.replace('.', ',')}\u00a0%"


def _shipping_drafts(description: str, shares: Mapping[Decimal, Decimal]) -> list[DraftLine]:
    """One line per rate with a share of the shipping (the rate named when there are several)."""
    paid = {rate: amount for rate, amount in sorted(shares.items()) if amount > 0}
    return [
        DraftLine(
            description=description
            + (f" – part au taux de {_rate_label(rate)}" if len(paid) > 1 else ""),
            sku=None,
            quantity=1,
            unit_price_incl_vat=amount,
            vat_rate=rate,
            total_incl_vat=amount,
        )
        for rate, amount in paid.items()
    ]


def order_drafts(lines: Sequence[OrderLine], shipping: ShippingMethod) -> list[DraftLine]:
    """An order's products, then its shipping (when it is not free), split per goods' rate."""
    drafts = [
        DraftLine(
            description=line.name,
            sku=line.sku,
            quantity=line.quantity,
            unit_price_incl_vat=line.unit_price,
            vat_rate=line.vat_rate,
            total_incl_vat=line.line_total,
        )
        for line in lines
    ]
    if shipping.price > 0:
        shares = {s.rate: s.shipping for s in order_vat_shares(lines, shipping.price)}
        drafts += _shipping_drafts(f"Livraison : {shipping.label}", shares)
    return drafts


def refund_drafts(
    lines: Sequence[RefundLine], shipping_refund: Decimal, order_lines: Sequence[OrderLine]
) -> list[DraftLine]:
    """The lines of a credit note: what is refunded per product, then the shipping refunded.

    The shipping refunded is split between the rates in the proportions of the invoice: pro
    rata of the whole order's goods excluding VAT (so refunding all the shipping gives back
    exactly the invoice's shipping lines).
    """
    drafts = [
        DraftLine(
            description=line.name,
            sku=line.sku,
            quantity=line.quantity,
            unit_price_incl_vat=to_money(line.amount / line.quantity),
            vat_rate=line.vat_rate,
            total_incl_vat=line.amount,
        )
        for line in lines
    ]
    if shipping_refund > 0:
        goods = goods_by_rate((line.vat_rate, line.line_total) for line in order_lines)
        shares = split_pro_rata(shipping_refund, shipping_weights(goods))
        drafts += _shipping_drafts("Remboursement des frais de livraison", shares)
    return drafts


def customer_of(address: Address, email: str | None) -> Customer:
    """The customer as printed on the invoice: the billing address."""
    name = f"{address.first_name} {address.last_name}"
    lines = [address.company] if address.company else []
    lines.append(address.line1)
    if address.line2:
        lines.append(address.line2)
    lines.append(f"{address.postal_code} {address.city}")
    lines.append(_COUNTRIES.get(address.country_code, address.country_code))
    return Customer(name=name, address_lines=tuple(lines), email=email)


_COUNTRIES = {
    "FR": "France",
    "BE": "Belgique",
    "LU": "Luxembourg",
    "CH": "Suisse",
    "MC": "Monaco",
    "DE": "Allemagne",
    "ES": "Espagne",
    "IT": "Italie",
    "NL": "Pays-Bas",
    "PT": "Portugal",
    "GB": "Royaume-Uni",
    "JP": "Japon",
}


def build_document(
    *,
    kind: InvoiceKind,
    number: str,
    issue_date: date,
    sale_date: date | None,
    order_number: str,
    seller: Seller,
    customer: Customer,
    drafts: Sequence[DraftLine],
    payment_note: str,
    corrects_invoice_number: str | None = None,
) -> InvoiceDocument:
    if not drafts:
        raise ValueError("a document needs at least one line")
    if (kind is InvoiceKind.CREDIT_NOTE) != (corrects_invoice_number is not None):
        raise ValueError("a credit note, and only a credit note, names the invoice it corrects")
    lines, breakdown, totals = compute_lines(drafts)
    return InvoiceDocument(
        kind=kind,
        number=number,
        issue_date=issue_date,
        sale_date=sale_date if sale_date != issue_date else None,
        order_number=order_number,
        corrects_invoice_number=corrects_invoice_number,
        seller=seller,
        customer=customer,
        lines=lines,
        vat_breakdown=breakdown,
        totals=totals,
        payment_note=payment_note,
    )


def payment_note(kind: InvoiceKind, method_label: str, paid_on: date | None) -> str:
    """The payment mention (a consumer sale is paid at order: the invoice is 'acquittée')."""
    if kind is InvoiceKind.CREDIT_NOTE:
        return f"Montant remboursé sur le moyen de paiement d'origine ({method_label})."
    when = f" le {paid_on.strftime('%d/%m/%Y')}" if paid_on else ""
    return f"Facture acquittée : payée{when} par {method_label}."


def method_label(payment_method_type: str, card_brand: str | None) -> str:
    if payment_method_type == "revolut_pay":
        return "Revolut Pay"
    brands = {"visa": "Visa", "mastercard": "Mastercard", "maestro": "Maestro"}
    brand = brands.get((card_brand or "").lower())
    return f"carte bancaire {brand}" if brand else "carte bancaire"
