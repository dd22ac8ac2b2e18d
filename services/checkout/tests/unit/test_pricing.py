"""Prices come from the catalogue only; totals are exact and show the VAT they include."""

from decimal import Decimal

import pytest
from checkout import domain
from checkout.domain import OrderRejectedError, ProductCategory, RequestedLine
from jg_events import Address

from .conftest import CATALOGUE, EXPRESS, LIMITS, STANDARD

pytestmark = pytest.mark.unit


def codes(exc: pytest.ExceptionInfo[OrderRejectedError]) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in exc.value.problems]


def test_an_order_is_priced_from_the_catalogue_with_vat_included_and_shown() -> None:
    lines = domain.price_lines(
        [RequestedLine("MATCHA-KYOTO-100", 3), RequestedLine("FUROSHIKI-SAKURA", 1)],
        CATALOGUE,
        LIMITS,
    )
    assert [(line.sku, line.unit_price, line.line_total, line.on_sale) for line in lines] == [
        ("MATCHA-KYOTO-100", Decimal("24.90"), Decimal("74.70"), False),
        ("FUROSHIKI-SAKURA", Decimal("16.90"), Decimal("16.90"), True),
    ]
    assert [line.vat_rate for line in lines] == [Decimal("5.50"), Decimal("20.00")]
    totals = domain.compute_totals(lines, STANDARD.as_method())
    assert totals.subtotal == Decimal("91.60")
    assert totals.shipping == Decimal("9.90")
    assert totals.total == Decimal("101.50")
    # Goods excluding VAT: 74.70 / 1.055 = 70.806 (tea), 16.90 / 1.2 = 14.083 (furoshiki);
    # the 9.90 of shipping follows them pro rata: 8.2575 -> 8.26 (it gets the remainder cent,
    # its fraction being the larger) and 1.6425 -> 1.64.
    tea, other = totals.vat_breakdown
    assert (tea.rate, tea.goods, tea.shipping, tea.total_incl_vat) == (
        Decimal("5.50"),
        Decimal("74.70"),
        Decimal("8.26"),
        Decimal("82.96"),
    )
    assert tea.vat == Decimal("4.32")  # 82.96 x 5.5 / 105.5 = 4.3249...
    assert (other.rate, other.goods, other.shipping, other.total_incl_vat) == (
        Decimal("20.00"),
        Decimal("16.90"),
        Decimal("1.64"),
        Decimal("18.54"),
    )
    assert other.vat == Decimal("3.09")  # 18.54 x 20 / 120 = 3.09
    assert totals.vat == Decimal("7.41")
    assert domain.vat_breakdown(lines, STANDARD.as_method()) == totals.vat_breakdown


def test_a_single_rate_order_puts_all_its_shipping_at_that_rate_whatever_the_method_says() -> None:
    lines = domain.price_lines([RequestedLine("MATCHA-KYOTO-100", 1)], CATALOGUE, LIMITS)
    method = STANDARD.as_method()
    assert method.vat_rate == Decimal("20.00")  # the nominal rate of the method
    totals = domain.compute_totals(lines, method)
    (tea,) = totals.vat_breakdown
    assert (tea.rate, tea.shipping, tea.total_incl_vat) == (
        Decimal("5.50"),
        Decimal("9.90"),
        Decimal("34.80"),
    )
    assert totals.vat == Decimal("1.81")  # 34.80 x 5.5 / 105.5 = 1.814...


def test_each_category_has_its_rate_and_a_product_takes_its_category_rate() -> None:
    assert domain.vat_rate_of(ProductCategory.TEA) == Decimal("5.50")
    assert domain.vat_rate_of(ProductCategory.FOOD) == Decimal("5.50")
    assert domain.vat_rate_of(ProductCategory.OTHER) == Decimal("20.00")
    assert set(domain.VAT_RATE_BY_CATEGORY) == set(ProductCategory)  # no category without rate
    assert CATALOGUE["MATCHA-KYOTO-100"].vat_rate == Decimal("5.50")
    assert CATALOGUE["FUROSHIKI-SAKURA"].vat_rate == Decimal("20.00")


def test_an_order_stored_before_the_split_keeps_the_vat_it_was_priced_with() -> None:
    lines = domain.price_lines(
        [RequestedLine("MATCHA-KYOTO-100", 3), RequestedLine("FUROSHIKI-SAKURA", 1)],
        CATALOGUE,
        LIMITS,
    )
    now = domain.compute_totals(lines, STANDARD.as_method())
    reloaded = domain.stored_totals(
        lines, subtotal=now.subtotal, shipping=now.shipping, total=now.total, vat=now.vat
    )
    assert reloaded == now
    legacy = domain.stored_totals(
        lines, subtotal=now.subtotal, shipping=now.shipping, total=now.total, vat=Decimal("8.00")
    )
    assert (legacy.vat, legacy.vat_breakdown) == (Decimal("8.00"), ())


def test_vat_is_computed_on_the_total_of_each_rate_not_rounded_line_by_line() -> None:
    lines = domain.price_lines(
        [RequestedLine("PIN-0-10", 1), RequestedLine("FUROSHIKI-SAKURA", 1)], CATALOGUE, LIMITS
    )
    free = EXPRESS.as_method().model_copy(update={"price": Decimal("0.00")})
    # per line: 0.02 + 2.82 = 2.84; on the total 17.00: 2.83
    assert domain.compute_totals(lines, free).vat == Decimal("2.83")


def test_the_same_product_on_two_lines_is_merged_and_the_limit_applies_to_the_sum() -> None:
    lines = domain.price_lines(
        [RequestedLine("MATCHA-KYOTO-100", 4), RequestedLine("MATCHA-KYOTO-100", 2)],
        CATALOGUE,
        LIMITS,
    )
    assert [(line.sku, line.quantity) for line in lines] == [("MATCHA-KYOTO-100", 6)]
    with pytest.raises(OrderRejectedError) as exc:
        domain.price_lines(
            [RequestedLine("MATCHA-KYOTO-100", 6), RequestedLine("MATCHA-KYOTO-100", 6)],
            CATALOGUE,
            LIMITS,
        )
    assert codes(exc) == [("lines.0.quantity", "quantity_out_of_range")]


def test_every_problem_of_a_cart_is_reported_at_once_with_its_field() -> None:
    with pytest.raises(OrderRejectedError) as exc:
        domain.price_lines(
            [
                RequestedLine("NOPE-404", 1),
                RequestedLine("TAMAGOTCHI-1997", 1),
                RequestedLine("MATCHA-KYOTO-100", 0),
                RequestedLine("FUROSHIKI-SAKURA", 11),
            ],
            CATALOGUE,
            LIMITS,
        )
    assert codes(exc) == [
        ("lines.0.sku", "unknown_sku"),
        ("lines.1.sku", "inactive_sku"),
        ("lines.2.quantity", "quantity_out_of_range"),
        ("lines.3.quantity", "quantity_out_of_range"),
    ]
    assert "n'existe pas" in exc.value.problems[0].message


def test_too_many_lines_and_an_empty_cart_are_refused() -> None:
    with pytest.raises(OrderRejectedError) as exc:
        domain.price_lines([RequestedLine("PIN-0-10", 1)] * 6, CATALOGUE, LIMITS)
    assert ("lines", "too_many_lines") in codes(exc)
    with pytest.raises(OrderRejectedError) as exc:
        domain.price_lines([], CATALOGUE, LIMITS)
    assert codes(exc) == [("lines", "no_lines")]


def test_an_unknown_shipping_method_is_refused_with_the_known_ones() -> None:
    with pytest.raises(OrderRejectedError) as exc:
        domain.select_shipping("teleport", {"standard": STANDARD}, "shipping_method")
    assert codes(exc) == [("shipping_method", "unknown_shipping_method")]
    assert "standard" in exc.value.problems[0].message


def test_a_french_postal_code_has_five_digits() -> None:
    address = Address(
        first_name="A",
        last_name="B",
        line1="1 rue",
        postal_code="6900",
        city="Lyon",
        country_code="FR",
    )
    assert [p.code for p in domain.check_address(address, "shipping_address")] == [
        "invalid_postal_code"
    ]
    abroad = address.model_copy(update={"country_code": "BE", "postal_code": "1000"})
    assert domain.check_address(abroad, "shipping_address") == []
