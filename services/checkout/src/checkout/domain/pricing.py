"""The catalogue, shipping and pricing: VAT by category, lines priced from the catalogue only,
the totals and their VAT breakdown, the shipping method and the address rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from jg_events import (
    Address,
    OrderLine,
    ShippingMethod,
    Totals,
    VatShare,
    order_vat_shares,
)
from jg_events.money import ZERO

from checkout.domain.errors import OrderRejectedError, Problem


class ProductCategory(StrEnum):
    """What a product is, as far as its VAT rate is concerned (stored in the catalogue)."""

    TEA = "tea"  # tea, matcha, infusions: food
    FOOD = "food"  # other food for human consumption
    OTHER = "other"  # every other good: tableware, textiles, decoration, toys, incense...


REDUCED_RATE = Decimal("5.50")
STANDARD_RATE = Decimal("20.00")

VAT_RATE_BY_CATEGORY: dict[ProductCategory, Decimal] = {
    # CGI art. 278-0 bis A, 1°: food for human consumption (tea included) at 5.5 %.
    ProductCategory.TEA: REDUCED_RATE,
    ProductCategory.FOOD: REDUCED_RATE,
    # CGI art. 278: the standard rate.
    ProductCategory.OTHER: STANDARD_RATE,
}


def vat_rate_of(category: ProductCategory) -> Decimal:
    """The VAT rate (percent) of a product of ``category`` sold in France."""
    return VAT_RATE_BY_CATEGORY[category]


class CatalogueError(ValueError):
    """A catalogue entry contradicts a rule (e.g. a VAT rate that is not its category's)."""


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: Decimal  # TTC, euros, two decimals
    category: ProductCategory
    on_sale: bool
    active: bool

    @property
    def vat_rate(self) -> Decimal:
        """Percent, e.g. ``Decimal("5.50")``: always the rate of the product's category."""
        return vat_rate_of(self.category)


@dataclass(frozen=True)
class ShippingOption:
    code: str
    label: str
    price: Decimal
    vat_rate: Decimal
    transit_days_min: int
    transit_days_max: int

    def as_method(self) -> ShippingMethod:
        return ShippingMethod(
            code=self.code, label=self.label, price=self.price, vat_rate=self.vat_rate
        )


@dataclass(frozen=True)
class Limits:
    max_lines: int = 30
    max_quantity_per_line: int = 10


@dataclass(frozen=True)
class RequestedLine:
    sku: str
    quantity: int


def price_lines(
    requested: Sequence[RequestedLine], catalogue: Mapping[str, Product], limits: Limits
) -> tuple[OrderLine, ...]:
    """Price the requested lines from the catalogue only; every problem is reported at once.

    The same sku on two lines is merged into one line (quantities added), so an order has one
    line per product, and the quantity limit applies to the merged line.
    """
    problems: list[Problem] = []
    if not requested:
        problems.append(
            Problem("lines", "no_lines", "La commande doit contenir au moins un article.")
        )
    if len(requested) > limits.max_lines:
        problems.append(
            Problem(
                "lines",
                "too_many_lines",
                f"Une commande ne peut pas dépasser {limits.max_lines} lignes "
                f"({len(requested)} reçues).",
            )
        )
    merged: dict[str, int] = {}
    first_index: dict[str, int] = {}
    for index, line in enumerate(requested):
        product = catalogue.get(line.sku)
        if product is None:
            problems.append(
                Problem(
                    f"lines.{index}.sku",
                    "unknown_sku",
                    f"L'article « {line.sku} » n'existe pas dans notre catalogue.",
                )
            )
        elif not product.active:
            problems.append(
                Problem(
                    f"lines.{index}.sku",
                    "inactive_sku",
                    f"L'article « {product.name} » n'est plus disponible à la vente.",
                )
            )
        if not 1 <= line.quantity <= limits.max_quantity_per_line:
            problems.append(_quantity_problem(index, line.quantity, limits))
            continue
        merged[line.sku] = merged.get(line.sku, 0) + line.quantity
        first_index.setdefault(line.sku, index)
    for sku, quantity in merged.items():
        if quantity > limits.max_quantity_per_line and sku in catalogue:
            problems.append(_quantity_problem(first_index[sku], quantity, limits))
    if problems:
        raise OrderRejectedError(problems)
    return tuple(_line(catalogue[sku], quantity) for sku, quantity in merged.items())


def _quantity_problem(index: int, quantity: int, limits: Limits) -> Problem:
    return Problem(
        f"lines.{index}.quantity",
        "quantity_out_of_range",
        f"La quantité doit être comprise entre 1 et {limits.max_quantity_per_line} "
        f"par article ({quantity} demandée).",
    )


def _line(product: Product, quantity: int) -> OrderLine:
    return OrderLine(
        sku=product.sku,
        name=product.name,
        quantity=quantity,
        unit_price=product.price,
        vat_rate=product.vat_rate,
        line_total=product.price * quantity,
        on_sale=product.on_sale,
    )


def vat_breakdown(lines: Iterable[OrderLine], shipping: ShippingMethod) -> tuple[VatShare, ...]:
    """VAT per rate; the shipping follows the goods, split pro rata of their amounts excl. VAT.

    The shipping method's own ``vat_rate`` plays no part: shipping is an accessory of the goods
    it carries (CGI art. 267), see :mod:`jg_events.vat`.
    """
    return order_vat_shares(lines, shipping.price)


def compute_totals(lines: Sequence[OrderLine], shipping: ShippingMethod) -> Totals:
    """Exact totals TTC: lines, shipping, and the VAT they include, with its breakdown per rate."""
    subtotal = sum((line.line_total for line in lines), ZERO)
    breakdown = vat_breakdown(lines, shipping)
    return Totals(
        subtotal=subtotal,
        shipping=shipping.price,
        total=subtotal + shipping.price,
        vat=sum((v.vat for v in breakdown), ZERO),
        vat_breakdown=breakdown,
    )


def stored_totals(
    lines: Sequence[OrderLine],
    *,
    subtotal: Decimal,
    shipping: Decimal,
    total: Decimal,
    vat: Decimal,
) -> Totals:
    """The totals of a stored order, with their breakdown per rate worked out again.

    An order priced before the shipping followed the goods' rates keeps the VAT it was priced
    with: when the breakdown computed now does not add up to it, none is attached.
    """
    breakdown = order_vat_shares(lines, shipping)
    if sum((v.vat for v in breakdown), ZERO) != vat:
        breakdown = ()
    return Totals(
        subtotal=subtotal, shipping=shipping, total=total, vat=vat, vat_breakdown=breakdown
    )


def select_shipping(code: str, options: Mapping[str, ShippingOption], field: str) -> ShippingOption:
    option = options.get(code)
    if option is None:
        known = ", ".join(sorted(options))
        raise OrderRejectedError(
            [
                Problem(
                    field,
                    "unknown_shipping_method",
                    f"Le mode de livraison « {code} » n'existe pas (modes proposés : {known}).",
                )
            ]
        )
    return option


def check_address(address: Address, field: str) -> list[Problem]:
    """Rules beyond the shape: a French postal code has five digits."""
    problems = []
    if address.country_code == "FR" and not (
        len(address.postal_code) == 5 and address.postal_code.isdigit()
    ):
        problems.append(
            Problem(
                f"{field}.postal_code",
                "invalid_postal_code",
                "Un code postal français comporte cinq chiffres.",
            )
        )
    return problems
