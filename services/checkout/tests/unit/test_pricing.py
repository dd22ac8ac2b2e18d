"""Prices come from the catalogue only; totals are exact and show the VAT they include."""

from decimal import Decimal

import pytest
from checkout import domain
from checkout.domain import OrderRejectedError, RequestedLine
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
    totals = domain.compute_totals(lines, STANDARD.as_method())
    assert totals.subtotal == Decimal("91.60")
    assert totals.shipping == Decimal("9.90")
    assert totals.total == Decimal("101.50")
    # 101.50 x 20 / 120 = 16.9166... -> 16.92 (half up), and HT + TVA = TTC exactly
    assert totals.vat == Decimal("16.92")
    (rate,) = domain.vat_breakdown(lines, STANDARD.as_method())
    assert (rate.rate, rate.total_incl_vat, rate.total_excl_vat, rate.vat) == (
        Decimal("20.00"),
        Decimal("101.50"),
        Decimal("84.58"),
        Decimal("16.92"),
    )


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
