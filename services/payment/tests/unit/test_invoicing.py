"""Invoice numbering, VAT breakdown and the PDF's legal mentions."""

import io
from datetime import date
from decimal import Decimal

import pytest
from jg_events import (
    InvoiceKind,
    OrderLine,
    OrderPlaced,
    RefundLine,
    RefundRequested,
    ShippingMethod,
)
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

FOOD = Decimal("5.50")
STANDARD = Decimal("20.00")

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
    shipping = [d for d in drafts if d.description.startswith("Livraison")]
    assert sum(d.total_incl_vat for d in shipping) == order.shipping_method.price
    _, _, totals = compute_lines(drafts)
    assert totals.incl_vat == order.totals.total
    assert totals.vat == order.totals.vat


def test_a_single_rate_order_has_one_shipping_line_at_the_goods_rate() -> None:
    order = example(OrderPlaced)
    furoshiki = [line for line in order.lines if line.vat_rate == STANDARD]
    tea = [line for line in order.lines if line.vat_rate == FOOD]
    for lines, rate in ((furoshiki, STANDARD), (tea, FOOD)):
        drafts = order_drafts(lines, order.shipping_method)
        (shipping,) = drafts[len(lines) :]
        assert shipping.description == f"Livraison : {order.shipping_method.label}"
        assert (shipping.vat_rate, shipping.total_incl_vat) == (rate, Decimal("14.90"))
        _, (vat,), _ = compute_lines(drafts)
        assert vat.rate == rate


def test_two_rates_split_the_shipping_into_one_line_per_rate_with_the_order_figures() -> None:
    order = example(OrderPlaced)  # matcha at 5.5 %, furoshiki at 20 %, EMS 14.90
    drafts = order_drafts(order.lines, order.shipping_method)
    lines, breakdown, totals = compute_lines(drafts)
    tea_shipping, other_shipping = lines[len(order.lines) :]
    # 59.97 / 1.055 = 56.84 and 24.50 / 1.2 = 20.42 excluding VAT: 73.57 % of 14.90 is 10.96.
    assert (tea_shipping.vat_rate, tea_shipping.total_incl_vat) == (FOOD, Decimal("10.96"))
    assert (other_shipping.vat_rate, other_shipping.total_incl_vat) == (STANDARD, Decimal("3.94"))
    assert tea_shipping.description.endswith("part au taux de 5,5\u00a0%")
    # Per rate, the invoice says what the order said (checkout's totals.vat_breakdown).
    assert [(v.rate, v.total_incl_vat, v.vat) for v in breakdown] == [
        (s.rate, s.total_incl_vat, s.vat) for s in order.totals.vat_breakdown
    ]
    assert [(v.rate, v.vat) for v in breakdown] == [
        (FOOD, Decimal("3.70")),  # 70.93 x 5.5 / 105.5 = 3.698
        (STANDARD, Decimal("4.74")),  # 28.44 x 20 / 120 = 4.74
    ]
    assert (totals.excl_vat, totals.vat, totals.incl_vat) == (
        Decimal("90.93"),
        Decimal("8.44"),
        Decimal("99.37"),
    )


def test_free_shipping_adds_no_line() -> None:
    order = example(OrderPlaced)
    free = ShippingMethod(code="free", label="Offerte", price=Decimal("0.00"), vat_rate="20.00")
    assert len(order_drafts(order.lines, free)) == len(order.lines)


def test_a_credit_note_lists_what_is_refunded_including_shipping() -> None:
    request = example(RefundRequested)
    order = example(OrderPlaced)
    drafts = refund_drafts(request.lines, request.shipping_refund, order.lines)
    _, _, totals = compute_lines(drafts)
    assert totals.incl_vat == request.amount


def _refund_line(line: OrderLine, quantity: int) -> RefundLine:
    return RefundLine(
        sku=line.sku,
        name=line.name,
        quantity=quantity,
        unit_price=line.unit_price,
        vat_rate=line.vat_rate,
        amount=line.unit_price * quantity,
    )


def test_a_partial_refund_at_two_rates_credits_each_rate_its_own_vat() -> None:
    order = example(OrderPlaced)
    matcha, furoshiki = order.lines  # 3 x 19.99 at 5.5 %, 1 x 24.50 at 20 %
    # One tin of matcha (of three) and the furoshiki come back; no shipping is refunded.
    refunded = [_refund_line(matcha, 1), _refund_line(furoshiki, 1)]
    lines, breakdown, totals = compute_lines(refund_drafts(refunded, Decimal("0.00"), order.lines))
    assert [(v.rate, v.total_incl_vat, v.vat) for v in breakdown] == [
        (FOOD, Decimal("19.99"), Decimal("1.04")),  # 19.99 x 5.5 / 105.5 = 1.042
        (STANDARD, Decimal("24.50"), Decimal("4.08")),  # 24.50 x 20 / 120 = 4.083
    ]
    assert totals.incl_vat == Decimal("44.49")
    assert not any(line.description.startswith("Remboursement") for line in lines)


def test_a_refund_of_the_shipping_is_split_like_the_invoice_shipping() -> None:
    order = example(OrderPlaced)
    invoice = order_drafts(order.lines, order.shipping_method)
    refunded = [_refund_line(line, line.quantity) for line in order.lines]
    # A full withdrawal refunds all the standard shipping: the credit note mirrors the invoice.
    note = refund_drafts(refunded, order.shipping_method.price, order.lines)
    _, invoice_vat, invoice_totals = compute_lines(invoice)
    note_lines, note_vat, note_totals = compute_lines(note)
    assert note_vat == invoice_vat
    assert note_totals == invoice_totals
    shipping = [line for line in note_lines if line.description.startswith("Remboursement")]
    assert [(line.vat_rate, line.total_incl_vat) for line in shipping] == [
        (FOOD, Decimal("10.96")),
        (STANDARD, Decimal("3.94")),
    ]
    # Part of it (a dearer method than the standard one): same proportions, to the cent.
    part = refund_drafts([], Decimal("9.90"), order.lines)
    assert [(d.vat_rate, d.total_incl_vat) for d in part] == [
        (FOOD, Decimal("7.28")),  # 9.90 x 73.57 % = 7.2838
        (STANDARD, Decimal("2.62")),
    ]


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
        "18,95 €",  # unit price excluding VAT of the matcha (19.99 / 1.055)
        "20 %",
        "Total HT",
        "90,93 €",
        "Total TVA",
        "8,44 €",
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
