"""Invoice numbering, VAT breakdown and the PDF's legal mentions."""

import io
from datetime import date
from decimal import Decimal

import pytest
from jg_events import InvoiceKind, OrderPlaced, RefundRequested, ShippingMethod
from jg_events.examples import example
from payment.invoicing import (
    DraftLine,
    Seller,
    build_document,
    compute_lines,
    customer_of,
    gaps,
    invoice_number,
    is_invoice_number,
    order_drafts,
    payment_note,
    refund_drafts,
    sequence_of,
)
from payment.pdf import euros, percent, render_pdf
from pypdf import PdfReader

pytestmark = pytest.mark.unit

SELLER = Seller(
    name="JapanGoodz SAS",
    address_lines=("12 rue de la Paix", "75002 Paris", "France"),
    siren="123456789",
    vat_number="FR32123456789",
    legal_form="SAS au capital de 10 000 €",
    rcs="RCS Paris 123 456 789",
)


def draft(ttc: str, rate: str = "20.00", quantity: int = 1, name: str = "Article") -> DraftLine:
    total = Decimal(ttc)
    return DraftLine(
        description=name,
        quantity=quantity,
        unit_price_incl_vat=(total / quantity).quantize(Decimal("0.01")),
        vat_rate=Decimal(rate),
        total_incl_vat=total,
    )


# --- Numbering -----------------------------------------------------------------------------


def test_numbers_carry_the_year_and_the_position_in_the_one_series() -> None:
    assert invoice_number("F", 2026, 42) == "F-2026-000042"
    assert sequence_of("F-2026-000042") == 42
    assert sequence_of("F-2027-1000000") == 1_000_000  # the series outgrows six digits
    assert is_invoice_number("F-2026-000042")
    assert not is_invoice_number("F-2026-42")
    with pytest.raises(ValueError):
        invoice_number("F", 2026, 0)


def test_the_series_does_not_restart_with_the_year() -> None:
    last_of_2026 = invoice_number("F", 2026, 41)
    first_of_2027 = invoice_number("F", 2027, 42)
    assert sequence_of(first_of_2027) == sequence_of(last_of_2026) + 1


def test_gaps_are_found() -> None:
    assert gaps([1, 2, 3]) == []
    assert gaps([3, 1]) == [2]
    assert gaps([]) == []


# --- VAT ------------------------------------------------------------------------------------


def test_vat_is_worked_out_per_rate_from_the_prices_paid() -> None:
    lines, breakdown, totals = compute_lines([draft("59.97", quantity=3), draft("24.50")])
    (vat,) = breakdown
    assert vat.rate == Decimal("20.00")
    assert vat.total_incl_vat == Decimal("84.47")
    assert vat.vat == Decimal("14.08")  # 84.47 x 20 / 120 = 14.078...
    assert vat.base_excl_vat == Decimal("70.39")
    assert (totals.excl_vat, totals.vat, totals.incl_vat) == (
        Decimal("70.39"),
        Decimal("14.08"),
        Decimal("84.47"),
    )
    assert lines[0].unit_price_excl_vat == Decimal("16.66")  # 19.99 / 1.2 = 16.658...


def test_line_amounts_excluding_vat_add_up_exactly_to_each_rate_base() -> None:
    # Three lines whose rounded amounts excluding VAT would not add up to the base.
    drafts = [draft("0.10"), draft("0.10"), draft("0.10"), draft("10.55", "5.50"), draft("3.33")]
    lines, breakdown, totals = compute_lines(drafts)
    for vat in breakdown:
        line_sum = sum(
            (line.total_excl_vat for line in lines if line.vat_rate == vat.rate), Decimal("0.00")
        )
        assert line_sum == vat.base_excl_vat
        assert vat.base_excl_vat + vat.vat == vat.total_incl_vat
    assert totals.incl_vat == Decimal("14.18")
    assert totals.excl_vat + totals.vat == totals.incl_vat
    assert [v.rate for v in breakdown] == [Decimal("5.50"), Decimal("20.00")]


def test_a_zero_rate_line_has_no_vat() -> None:
    lines, breakdown, totals = compute_lines([draft("12.00", "0.00")])
    assert (breakdown[0].vat, totals.excl_vat, lines[0].total_excl_vat) == (
        Decimal("0.00"),
        Decimal("12.00"),
        Decimal("12.00"),
    )


def test_an_order_is_invoiced_with_its_shipping_as_a_line_and_totals_equal_to_the_price_paid() -> (
    None
):
    order = example(OrderPlaced)
    drafts = order_drafts(order.lines, order.shipping_method)
    assert drafts[-1].description.startswith("Livraison")
    assert drafts[-1].total_incl_vat == order.shipping_method.price
    _, _, totals = compute_lines(drafts)
    assert totals.incl_vat == order.totals.total
    assert totals.vat == order.totals.vat


def test_free_shipping_adds_no_line() -> None:
    order = example(OrderPlaced)
    free = ShippingMethod(code="free", label="Offerte", price=Decimal("0.00"), vat_rate="20.00")
    assert len(order_drafts(order.lines, free)) == len(order.lines)


def test_a_credit_note_lists_what_is_refunded_including_shipping() -> None:
    request = example(RefundRequested)
    drafts = refund_drafts(request.lines, request.shipping_refund, Decimal("20.00"))
    _, _, totals = compute_lines(drafts)
    assert totals.incl_vat == request.amount


def test_a_credit_note_must_name_the_invoice_it_corrects() -> None:
    order = example(OrderPlaced)
    kwargs = {
        "number": "F-2026-000002",
        "issue_date": date(2026, 3, 20),
        "sale_date": None,
        "order_number": order.order_number,
        "seller": SELLER,
        "customer": customer_of(order.billing_address, None),
        "drafts": [draft("10.00")],
        "payment_note": "x",
    }
    with pytest.raises(ValueError):
        build_document(kind=InvoiceKind.CREDIT_NOTE, **kwargs)
    with pytest.raises(ValueError):
        build_document(kind=InvoiceKind.INVOICE, corrects_invoice_number="F-2026-000001", **kwargs)


# --- PDF ------------------------------------------------------------------------------------


def _invoice(
    issue_date: date = date(2026, 3, 10), sale_date: date = date(2026, 3, 9)
) -> tuple[OrderPlaced, bytes]:
    order = example(OrderPlaced)
    document = build_document(
        kind=InvoiceKind.INVOICE,
        number="F-2026-000007",
        issue_date=issue_date,
        sale_date=sale_date,
        order_number=order.order_number,
        seller=SELLER,
        customer=customer_of(order.billing_address, order.customer.email),
        drafts=order_drafts(order.lines, order.shipping_method),
        payment_note=payment_note(InvoiceKind.INVOICE, "carte bancaire Visa", date(2026, 3, 2)),
    )
    return order, render_pdf(document)


def test_the_pdf_opens_and_carries_every_legal_mention() -> None:
    order, pdf = _invoice()
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for mention in (
        "Facture n° F-2026-000007",
        "JapanGoodz SAS",
        "12 rue de la Paix",
        "75002 Paris",
        "SIREN : 123456789",
        "N° TVA intracommunautaire : FR32123456789",
        "Camille Durand",
        "12 rue des Lilas",
        "69003 Lyon",
        "Date d'émission : 10 mars 2026",
        "Date de la vente (expédition) : 9 mars 2026",
        "Commande n° JG-2026-000123",
        "Thé matcha de Kyoto, 100 g",
        "Furoshiki motif sakura",
        "Livraison : Japan Post EMS",
        "P.U. HT",
        "16,66 €",  # unit price excluding VAT of the matcha
        "20 %",
        "Total HT",
        "82,81 €",
        "Total TVA",
        "16,56 €",
        "Total TTC",
        "99,37 €",
        "SAS au capital de 10 000 €",
        "RCS Paris 123 456 789",
    ):
        assert mention in text, mention
    assert order.totals.total == Decimal("99.37")


def test_dates_are_written_in_french_with_1er_on_the_first_of_a_month() -> None:
    _, pdf = _invoice(issue_date=date(2026, 4, 1), sale_date=date(2026, 3, 31))
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Date d'émission : 1er avril 2026" in text
    assert "Date de la vente (expédition) : 31 mars 2026" in text


def test_the_same_document_always_renders_the_same_bytes() -> None:
    assert _invoice()[1] == _invoice()[1]


def test_french_formats() -> None:
    assert euros(Decimal("1234.5")) == "1 234,50 €"
    assert euros(Decimal("0.07")) == "0,07 €"
    assert percent(Decimal("20.00")) == "20 %"
    assert percent(Decimal("5.50")) == "5,5 %"
