"""What the customer asks for, checked before anything is written: a placement priced from the
catalogue, a modification, and who may act on an order. Every problem is reported at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from jg_auth import Customer, Principal
from jg_events import Address, CustomerContact, OrderLine, PaymentMethodType
from jg_web import COUNTRY_NOT_DELIVERED, delivery_problem

from checkout.domain.errors import OrderRejectedError, Problem
from checkout.domain.pricing import (
    Limits,
    Product,
    RequestedLine,
    ShippingOption,
    check_address,
    price_lines,
    select_shipping,
)
from checkout.domain.window import Modification


@dataclass(frozen=True)
class PlaceOrder:
    """A cart at payment time, as the storefront sends it (no price: the catalogue's only)."""

    contact: CustomerContact
    lines: tuple[RequestedLine, ...]
    shipping_method: str
    shipping_address: Address
    billing_address: Address
    payment_method_type: PaymentMethodType
    stripe_payment_method_id: str
    fingerprint: str  # a digest of the request, to recognise a replay of its Idempotency-Key


@dataclass(frozen=True)
class PricedPlacement:
    lines: tuple[OrderLine, ...]
    shipping: ShippingOption


@dataclass(frozen=True)
class ModifyOrder:
    """What to change (None leaves a part as it is); ``lines`` are (sku, new quantity)."""

    shipping_address: Address | None = None
    billing_address: Address | None = None
    shipping_method: str | None = None
    lines: tuple[RequestedLine, ...] | None = None
    expected_revision: int | None = None


def address_problems(address: Address, field: str, countries: Sequence[str]) -> list[Problem]:
    """The address rules, and the shop delivers (and invoices) only to ``countries``."""
    return check_address(address, field) + undelivered(address, field, countries)


def undelivered(address: Address, field: str, countries: Sequence[str]) -> list[Problem]:
    """The shop delivers (and invoices) only to ``countries`` (CHECKOUT_COUNTRIES)."""
    reason = delivery_problem(address.country_code, tuple(countries))
    return [Problem(f"{field}.country_code", COUNTRY_NOT_DELIVERED, reason)] if reason else []


def price_placement(
    command: PlaceOrder,
    catalogue: Mapping[str, Product],
    options: Mapping[str, ShippingOption],
    limits: Limits,
    countries: Sequence[str],
) -> PricedPlacement:
    """The lines priced and the shipping method chosen, or every problem of the cart at once."""
    problems: list[Problem] = []
    lines: tuple[OrderLine, ...] = ()
    shipping = None
    try:
        lines = price_lines(command.lines, catalogue, limits)
    except OrderRejectedError as exc:
        problems += exc.problems
    try:
        shipping = select_shipping(command.shipping_method, options, "shipping_method")
    except OrderRejectedError as exc:
        problems += exc.problems
    shipping_address, billing_address = command.shipping_address, command.billing_address
    problems += check_address(shipping_address, "shipping_address")
    problems += check_address(billing_address, "billing_address")
    problems += undelivered(shipping_address, "shipping_address", countries)
    problems += undelivered(billing_address, "billing_address", countries)
    if problems or shipping is None:
        raise OrderRejectedError(problems)
    return PricedPlacement(lines, shipping)


def modification(
    command: ModifyOrder, options: Mapping[str, ShippingOption], countries: Sequence[str]
) -> Modification:
    """The change to apply, or every problem of the request at once (nothing read yet)."""
    problems: list[Problem] = []
    shipping = None
    if command.shipping_method is not None:
        try:
            shipping = select_shipping(command.shipping_method, options, "shipping_method")
        except OrderRejectedError as exc:
            problems += exc.problems
    if command.shipping_address:
        problems += address_problems(command.shipping_address, "shipping_address", countries)
    if command.billing_address:
        problems += address_problems(command.billing_address, "billing_address", countries)
    quantities: dict[str, int] | None = None
    if command.lines is not None:
        quantities = {}
        for index, line in enumerate(command.lines):
            if line.sku in quantities:
                problems.append(
                    Problem(f"lines.{index}.sku", "duplicate_sku", "Article en double.")
                )
            quantities[line.sku] = line.quantity
    if problems:
        raise OrderRejectedError(problems)
    return Modification(
        shipping_address=command.shipping_address,
        billing_address=command.billing_address,
        shipping=shipping,
        quantities=quantities,
    )


def idempotency_scope(caller: Principal) -> str:
    """A key is the caller's own: the storefront's, or one customer's."""
    return f"customer:{caller.customer_id}" if isinstance(caller, Customer) else "storefront"


def may_read(caller: Principal, order_customer_id: UUID | None) -> bool:
    """The storefront acts for anyone; a customer sees only the orders of their account."""
    return not isinstance(caller, Customer) or (
        order_customer_id is not None and order_customer_id == caller.customer_id
    )


def ordering_customer(caller: Principal, requested: UUID | None) -> UUID | None:
    """The account an order is placed for: the customer's own (their token), or the one the
    storefront names. Raises :class:`ForeignAccountError` for another customer's id."""
    if not isinstance(caller, Customer):
        return requested
    if requested is not None and requested != caller.customer_id:
        raise ForeignAccountError
    return caller.customer_id


class ForeignAccountError(Exception):
    """A customer's token with another customer's id in the contact (HTTP 403)."""
