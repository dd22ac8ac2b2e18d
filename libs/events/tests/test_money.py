"""Money is exact: Decimal euros with two places, never a float, a string in JSON."""

from decimal import Decimal

import pytest
from jg_events import OrderLine, Totals, VatRate, to_money, vat_included
from jg_events.money import Money
from pydantic import ValidationError

pytestmark = pytest.mark.unit


def _line(**overrides: object) -> OrderLine:
    fields: dict[str, object] = {
        "sku": "MATCHA-KYOTO-100",
        "name": "Thé matcha de Kyoto, 100 g",
        "quantity": 3,
        "unit_price": "19.99",
        "vat_rate": "20.00",
        "line_total": "59.97",
        "on_sale": False,
    }
    fields.update(overrides)
    return OrderLine.model_validate(fields)


def test_json_round_trip_keeps_exact_cents() -> None:
    line = _line()
    text = line.model_dump_json()
    assert '"unit_price":"19.99"' in text
    assert '"line_total":"59.97"' in text
    assert '"vat_rate":"20.00"' in text
    back = OrderLine.model_validate_json(text)
    assert back == line
    assert back.unit_price * back.quantity == Decimal("59.97")
    assert back.line_total == Decimal("59.97")


def test_amounts_are_normalised_to_two_places() -> None:
    line = _line(unit_price=Decimal("20"), line_total="60.0")
    assert line.model_dump(mode="json")["unit_price"] == "20.00"
    assert line.model_dump(mode="json")["line_total"] == "60.00"
    assert isinstance(line.unit_price, Decimal)


@pytest.mark.parametrize("value", [19.99, 20.0, float("nan")])
def test_floats_are_refused_from_python(value: float) -> None:
    with pytest.raises(ValidationError, match="never a float"):
        _line(unit_price=value)


def test_json_numbers_are_refused_money_is_a_string() -> None:
    text = _line().model_dump_json().replace('"unit_price":"19.99"', '"unit_price":19.99')
    with pytest.raises(ValidationError, match="never a float"):
        OrderLine.model_validate_json(text)


@pytest.mark.parametrize("value", ["19.999", Decimal("0.001"), "1e3", "12,50", "NaN", "", True])
def test_inexact_or_malformed_amounts_are_refused(value: object) -> None:
    with pytest.raises(ValidationError):
        _line(unit_price=value)


def test_money_is_never_negative_unless_signed() -> None:
    with pytest.raises(ValidationError, match="negative"):
        Totals(subtotal="-1.00", shipping="0.00", total="-1.00", vat="0.00")


def test_line_total_must_match_quantity_times_price() -> None:
    with pytest.raises(ValidationError, match="line_total"):
        _line(line_total="59.98")


def test_totals_must_add_up() -> None:
    with pytest.raises(ValidationError, match="subtotal"):
        Totals(subtotal="84.47", shipping="14.90", total="99.36", vat="16.56")


@pytest.mark.parametrize("value", [3.0, "3", True, 0])
def test_quantities_are_strict_positive_ints(value: object) -> None:
    with pytest.raises(ValidationError, match="quantity"):
        _line(quantity=value, line_total="59.97")


def test_vat_rate_is_a_percentage_and_a_fraction_is_refused() -> None:
    from pydantic import TypeAdapter

    rate = TypeAdapter(VatRate)
    assert rate.validate_python("5.5") == Decimal("5.50")
    assert rate.dump_json(Decimal("20")) == b'"20.00"'
    with pytest.raises(ValidationError, match="fraction"):
        rate.validate_python("0.20")
    with pytest.raises(ValidationError):
        rate.validate_python("120.00")


def test_helpers_round_half_up_and_compute_included_vat() -> None:
    assert to_money(Decimal("16.5616")) == Decimal("16.56")
    assert to_money(Decimal("0.125")) == Decimal("0.13")
    assert vat_included(Decimal("99.37"), Decimal("20.00")) == Decimal("16.56")
    assert vat_included(Decimal("12.00"), Decimal("20.00")) == Decimal("2.00")
    with pytest.raises(TypeError):
        to_money(0.1)  # type: ignore[arg-type]


def test_money_json_schema_is_a_two_decimal_string() -> None:
    from pydantic import TypeAdapter

    schema = TypeAdapter(Money).json_schema()
    assert schema["type"] == "string"
    assert schema["pattern"] == r"^\d+\.\d{2}$"
