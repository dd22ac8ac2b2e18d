"""Exact money, VAT rates and quantities as they travel in events.

Conventions (one place, every event follows them):

* **Money** is a :class:`~decimal.Decimal` amount in **euros** with exactly two decimal places.
  Consumer prices are TTC (VAT included) unless a field says otherwise. In Python a field accepts a
  ``Decimal``, an ``int`` or a decimal string; it **refuses a float** (``0.1 + 0.2`` is not money)
  and refuses more than two decimal places rather than rounding silently. In JSON it is always a
  string with two decimals: ``"12.50"``. Amounts are ``>= 0`` (:data:`Money`) unless the field is
  typed :data:`SignedMoney`.
* **VatRate** is a **percentage** with two decimals: ``"20.00"`` means 20 %, ``"5.50"`` means 5.5 %.
  It is written the way it appears on an invoice. A value strictly between 0 and 1 is refused,
  because it is almost certainly a fraction (``0.20``) written by mistake; no VAT rate is that low.
* **Quantity** is a strict ``int >= 1`` (``3.0``, ``"3"`` and ``True`` are refused).

Helpers: :func:`to_money` (explicit rounding to the cent, half up, for computations),
:func:`vat_included` (VAT contained in a TTC amount) and :func:`format_money`.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import Field, PlainSerializer, PlainValidator, WithJsonSchema

__all__ = [
    "CENT",
    "ZERO",
    "Money",
    "Quantity",
    "SignedMoney",
    "VatRate",
    "format_money",
    "to_money",
    "vat_included",
]

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
_HUNDRED = Decimal(100)
# Far above any order, far below the 28 digits of the default decimal context.
_MAX_AMOUNT = Decimal("999999999.99")
_DECIMAL_STRING = re.compile(r"-?\d+(?:\.\d+)?")

MONEY_PATTERN = r"^\d+\.\d{2}$"
SIGNED_MONEY_PATTERN = r"^-?\d+\.\d{2}$"
VAT_RATE_PATTERN = r"^\d{1,3}\.\d{2}$"


def _exact_cents(value: Any, what: str) -> Decimal:
    """Turn ``value`` into a Decimal quantized to the cent, refusing anything inexact."""
    if isinstance(value, bool | float):
        raise ValueError(
            f"{what} must be a Decimal, an int or a decimal string such as '12.50', "
            f"never a {type(value).__name__}"
        )
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        if not _DECIMAL_STRING.fullmatch(value):
            raise ValueError(f"{what} must be a decimal string such as '12.50', got {value!r}")
        amount = Decimal(value)
    else:
        raise ValueError(
            f"{what} must be a Decimal or a decimal string, got {type(value).__name__}"
        )
    if not amount.is_finite():
        raise ValueError(f"{what} must be a finite number")
    if abs(amount) > _MAX_AMOUNT:
        raise ValueError(f"{what} is out of range")
    try:
        quantized = amount.quantize(CENT)
    except InvalidOperation as exc:  # pragma: no cover - guarded by the range check
        raise ValueError(f"{what} is out of range") from exc
    if quantized != amount:
        raise ValueError(f"{what} must have at most two decimal places, got {value}")
    if quantized.is_zero():
        quantized = ZERO  # no "-0.00"
    return quantized


def _money(value: Any) -> Decimal:
    amount = _exact_cents(value, "money")
    if amount < 0:
        raise ValueError("money must not be negative here")
    return amount


def _signed_money(value: Any) -> Decimal:
    return _exact_cents(value, "money")


def _vat_rate(value: Any) -> Decimal:
    rate = _exact_cents(value, "VAT rate")
    if rate < 0 or rate > _HUNDRED:
        raise ValueError("VAT rate is a percentage between 0.00 and 100.00")
    if 0 < rate < 1:
        raise ValueError(
            "VAT rate is a percentage ('20.00' for 20 %); "
            f"{rate} looks like a fraction written by mistake"
        )
    return rate


def format_money(amount: Decimal) -> str:
    """The wire format of an amount: plain notation, two decimals (``"12.50"``)."""
    return format(amount.quantize(CENT), "f")


_serialize = PlainSerializer(format_money, return_type=str, when_used="json")

Money = Annotated[
    Decimal,
    PlainValidator(_money),
    _serialize,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": MONEY_PATTERN,
            "description": "Amount in euros, exactly two decimals, never negative",
            "examples": ["12.50"],
        }
    ),
]
"""Euros, two decimals, ``>= 0``; JSON string ``"12.50"``; floats refused."""

SignedMoney = Annotated[
    Decimal,
    PlainValidator(_signed_money),
    _serialize,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": SIGNED_MONEY_PATTERN,
            "description": "Amount in euros, exactly two decimals, may be negative",
            "examples": ["-4.90"],
        }
    ),
]
"""Like :data:`Money` but may be negative (differences, adjustments)."""

VatRate = Annotated[
    Decimal,
    PlainValidator(_vat_rate),
    _serialize,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": VAT_RATE_PATTERN,
            "description": "VAT rate as a percentage with two decimals: '20.00' means 20 %",
            "examples": ["20.00"],
        }
    ),
]
"""VAT rate in percent, two decimals (``"20.00"`` = 20 %)."""

Quantity = Annotated[int, Field(strict=True, ge=1)]
"""A strict positive integer count of items."""


def to_money(value: Decimal | int | str) -> Decimal:
    """Round a computed amount to the cent (half up), for use in a :data:`Money` field.

    Floats are refused here too: compute with Decimals from the start.
    """
    if isinstance(value, bool | float):
        raise TypeError("to_money() refuses floats; compute with Decimal")
    amount = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    return ZERO if amount.is_zero() else amount


def vat_included(amount_incl_vat: Decimal, rate_percent: Decimal) -> Decimal:
    """VAT contained in a TTC amount at ``rate_percent`` (e.g. ``Decimal("20.00")``).

    ``vat_included(Decimal("12.00"), Decimal("20.00")) == Decimal("2.00")``; rounded half up.
    """
    return to_money(amount_incl_vat * rate_percent / (_HUNDRED + rate_percent))
