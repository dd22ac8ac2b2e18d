"""VAT of an order per rate, with the shipping split between the goods' rates (pure, exact).

French rule (CGI art. 267, I-2°; BOI-TVA-LIQ-10-10): shipping charged with the goods is an
accessory of their sale and follows their VAT rate. When the goods of one order are taxed at
several rates (tea at 5.5 %, a teapot at 20 %), the shipping is split between the rates **pro
rata of the goods' amounts excluding VAT** (the taxable value of each rate group), and each share
is taxed at its rate.

Conventions, shared by checkout (order), notifications (emails) and payment (invoice, credit
note) so that every document shows the same figures:

* the shares are amounts TTC, to the cent, rounded by largest remainder so that they add up
  **exactly** to the shipping price (a remaining cent goes to the share whose exact value lost
  the most in rounding; on a tie, to the higher rate);
* the VAT of a rate is the VAT included in (goods TTC + shipping share TTC) at that rate, rounded
  half up once per rate, as an invoice's breakdown per rate shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_FLOOR, Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from jg_events.money import CENT, ZERO, Money, VatRate, vat_included

__all__ = ["VatShare", "goods_by_rate", "shipping_weights", "split_pro_rata", "vat_shares"]

_HUNDRED = Decimal(100)


class VatShare(BaseModel):
    """The part of an order taxed at one VAT rate: its goods, its share of shipping, its VAT."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    rate: VatRate = Field(description="VAT rate in percent ('5.50', '20.00').")
    goods: Money = Field(description="Goods taxed at this rate, TTC.")
    shipping: Money = Field(description="Share of the shipping taxed at this rate, TTC.")
    total_incl_vat: Money = Field(description="goods + shipping, TTC.")
    vat: Money = Field(description="VAT included in total_incl_vat at this rate.")

    @model_validator(mode="after")
    def _consistent(self) -> VatShare:
        if self.total_incl_vat != self.goods + self.shipping:
            raise ValueError("total_incl_vat must equal goods + shipping")
        if self.vat > self.total_incl_vat:
            raise ValueError("VAT cannot exceed the amount it is included in")
        return self

    @property
    def total_excl_vat(self) -> Decimal:
        """The base excluding VAT (HT) of this rate."""
        return self.total_incl_vat - self.vat


def _excl_vat(amount_incl_vat: Decimal, rate: Decimal) -> Decimal:
    """Exact (unrounded) amount excluding VAT of a TTC amount."""
    return amount_incl_vat * _HUNDRED / (_HUNDRED + rate)


def split_pro_rata(amount: Decimal, weights: Mapping[Decimal, Decimal]) -> dict[Decimal, Decimal]:
    """Split ``amount`` between VAT rates in proportion to ``weights``, to the cent, exactly.

    Each rate gets the floor of its exact share; the cents still missing go one by one to the
    largest remainders (on a tie, to the higher rate). The result always adds up to ``amount``.
    Rates whose weight is zero get nothing; with no positive weight at all there is nothing to
    split against and a ValueError is raised.
    """
    if amount < 0:
        raise ValueError("the amount to split must not be negative")
    total = sum(weights.values(), ZERO)
    if total <= 0:
        raise ValueError("no goods to split the amount against")
    exact = {rate: amount * weight / total for rate, weight in weights.items()}
    shares = {rate: value.quantize(CENT, rounding=ROUND_FLOOR) for rate, value in exact.items()}
    missing = int((amount - sum(shares.values(), ZERO)) / CENT)
    by_remainder = sorted(exact, key=lambda rate: (exact[rate] - shares[rate], rate), reverse=True)
    for rate in by_remainder[:missing]:
        shares[rate] += CENT
    return shares


def goods_by_rate(amounts: Iterable[tuple[Decimal, Decimal]]) -> dict[Decimal, Decimal]:
    """Sum (rate, amount TTC) pairs per rate."""
    by_rate: dict[Decimal, Decimal] = {}
    for rate, amount in amounts:
        by_rate[rate] = by_rate.get(rate, ZERO) + amount
    return by_rate


def shipping_weights(goods: Mapping[Decimal, Decimal]) -> dict[Decimal, Decimal]:
    """What the shipping is split by: each rate group's goods excluding VAT (exact)."""
    return {rate: _excl_vat(amount, rate) for rate, amount in goods.items()}


def vat_shares(goods: Iterable[tuple[Decimal, Decimal]], shipping: Decimal) -> tuple[VatShare, ...]:
    """VAT per rate of goods given as (rate, amount TTC) pairs plus ``shipping`` TTC.

    Sorted by rate. Shipping is split pro rata of the goods excluding VAT (see the module).
    """
    by_rate = goods_by_rate(goods)
    if not by_rate:
        raise ValueError("an order has goods")
    split = split_pro_rata(shipping, shipping_weights(by_rate)) if shipping > 0 else {}
    shares = []
    for rate in sorted(by_rate):
        share = split.get(rate, ZERO)
        total = by_rate[rate] + share
        shares.append(
            VatShare(
                rate=rate,
                goods=by_rate[rate],
                shipping=share,
                total_incl_vat=total,
                vat=vat_included(total, rate),
            )
        )
    return tuple(shares)
