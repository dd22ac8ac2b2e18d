"""VAT per rate with the shipping split pro rata of the goods (the figures every document shows)."""

import json
from decimal import Decimal

import pytest
from jg_events import (
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    Totals,
    order_vat_shares,
    parse,
    split_pro_rata,
    vat_included,
    vat_shares,
)
from jg_events.examples import example, example_envelope
from pydantic import ValidationError

pytestmark = pytest.mark.unit

FOOD = Decimal("5.50")
STANDARD = Decimal("20.00")


def D(value: str) -> Decimal:  # noqa: N802 - reads like a literal
    return Decimal(value)


def test_a_single_rate_order_taxes_all_its_shipping_at_the_goods_rate() -> None:
    (share,) = vat_shares([(STANDARD, D("79.00")), (STANDARD, D("19.00"))], D("9.90"))
    assert (share.rate, share.goods, share.shipping) == (STANDARD, D("98.00"), D("9.90"))
    assert share.total_incl_vat == D("107.90")
    assert share.vat == D("17.98")  # 107.90 x 20 / 120 = 17.983...
    # Tea alone: the shipping follows the tea at 5.5 %, not the shipping method's 20 %.
    (tea,) = vat_shares([(FOOD, D("24.90"))], D("9.90"))
    assert (tea.rate, tea.shipping, tea.vat) == (FOOD, D("9.90"), vat_included(D("34.80"), FOOD))


def test_two_rates_split_the_shipping_pro_rata_of_the_goods_excluding_vat() -> None:
    tea, teapot = vat_shares([(FOOD, D("24.90")), (STANDARD, D("79.00"))], D("9.90"))
    assert (tea.rate, teapot.rate) == (FOOD, STANDARD)
    # Goods excluding VAT: 24.90 / 1.055 = 23.6019 and 79.00 / 1.2 = 65.8333 (total 89.4352):
    # the tea carries 26.39 % of the shipping (2.6126), the teapot 73.61 % (7.2874).
    assert (tea.shipping, teapot.shipping) == (D("2.61"), D("7.29"))
    assert tea.shipping + teapot.shipping == D("9.90")
    assert tea.vat == vat_included(D("27.51"), FOOD) == D("1.43")
    assert teapot.vat == vat_included(D("86.29"), STANDARD) == D("14.38")
    assert tea.total_excl_vat + tea.vat == tea.total_incl_vat


def test_a_split_that_would_round_to_one_cent_too_many_gives_the_remainder_cent_once() -> None:
    # Equal goods excluding VAT (10.00 at each rate): each rate's share of 4.95 is 2.475.
    # Rounding each half up would charge 4.96; the remainder cent goes to one rate only.
    tea, other = vat_shares([(FOOD, D("10.55")), (STANDARD, D("12.00"))], D("4.95"))
    assert tea.shipping + other.shipping == D("4.95")
    assert (tea.shipping, other.shipping) == (D("2.47"), D("2.48"))  # tie: the higher rate


def test_split_pro_rata_always_adds_up_to_the_amount() -> None:
    weights = {D("2.10"): D("1"), FOOD: D("1"), D("10.00"): D("1"), STANDARD: D("1")}
    for cents in range(0, 1001):
        amount = Decimal(cents) / 100
        split = split_pro_rata(amount, weights)
        assert sum(split.values()) == amount
        assert max(split.values()) - min(split.values()) <= D("0.01")
    assert split_pro_rata(D("5.00"), {FOOD: D("0"), STANDARD: D("3")}) == {
        FOOD: D("0.00"),
        STANDARD: D("5.00"),
    }
    with pytest.raises(ValueError):
        split_pro_rata(D("5.00"), {FOOD: D("0")})


def test_free_shipping_is_split_into_nothing() -> None:
    tea, teapot = vat_shares([(FOOD, D("24.90")), (STANDARD, D("79.00"))], D("0.00"))
    assert tea.shipping == teapot.shipping == D("0.00")


def test_the_example_order_carries_its_breakdown_and_it_matches_the_shared_computation() -> None:
    order = example(OrderPlaced)
    assert [s.rate for s in order.totals.vat_breakdown] == [FOOD, STANDARD]
    assert order.totals.vat_breakdown == order_vat_shares(order.lines, order.totals.shipping)
    assert order.vat_shares() == order.totals.vat_breakdown


def test_an_older_event_without_the_breakdown_still_parses_and_gets_it_computed() -> None:
    raw = json.loads(example_envelope(OrderConfirmed).to_json_bytes())
    del raw["payload"]["totals"]["vat_breakdown"]
    old = parse(json.dumps(raw).encode()).payload
    assert isinstance(old, OrderConfirmed)
    assert old.totals.vat_breakdown == ()
    assert old.vat_shares() == example(OrderConfirmed).totals.vat_breakdown


def test_a_breakdown_that_disagrees_with_the_totals_or_the_lines_is_refused() -> None:
    order = example(OrderPlaced)
    tea, other = order.totals.vat_breakdown
    with pytest.raises(ValidationError, match="shipping"):
        Totals(
            **order.totals.model_dump(exclude={"vat_breakdown"}),
            vat_breakdown=(tea.model_copy(update={"shipping": D("0.00")}), other),
        )
    # Goods at the wrong rate: the tea line says 5.5 %, the breakdown puts it at 20 %.
    lines = tuple(
        line.model_copy(update={"vat_rate": STANDARD}) if line.vat_rate == FOOD else line
        for line in order.lines
    )
    assert all(isinstance(line, OrderLine) for line in lines)
    with pytest.raises(ValidationError, match="per rate"):
        OrderPlaced.model_validate({**order.model_dump(), "lines": lines})
