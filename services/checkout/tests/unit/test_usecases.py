"""The use cases' decisions that come before any database work, and the checks they apply (a
cart priced and checked at once, a modification, the caller's rights, the Idempotency-Key).

The context's runtime is never started: a use case that reached the database here would fail
with "the service is not started", so each test also shows the refusal comes first."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from checkout import domain
from checkout.app import MIGRATIONS
from checkout.context import SERVICE, Context
from checkout.domain import (
    ModifyOrder,
    OrderRejectedError,
    PlaceOrder,
    RequestedLine,
)
from checkout.routes.dependencies import idempotency_key
from checkout.settings import CheckoutSettings
from checkout.usecases import ordering, window
from jg_auth import Customer, CustomerClaims, Storefront
from jg_events import Address, PaymentMethodType
from jg_messaging import ServiceRuntime
from jg_web.http import ApiError

from .conftest import ADDRESS, CATALOGUE, CUSTOMER, EXPRESS, LIMITS, STANDARD

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
OPTIONS = {"standard": STANDARD, "express": EXPRESS}
COUNTRIES = ("FR", "BE", "MC")


def context(monkeypatch: pytest.MonkeyPatch) -> Context:
    monkeypatch.setenv("JG_ENVIRONMENT", "development")
    settings = CheckoutSettings()
    runtime = ServiceRuntime(SERVICE, settings, MIGRATIONS)  # opens nothing
    return Context(runtime=runtime, settings=settings, clock=lambda: NOW)


def customer(customer_id: UUID) -> Customer:
    claims = CustomerClaims(
        customer_id=customer_id,
        email="camille.durand@example.fr",
        session_id=uuid4(),
        expires_at=NOW + timedelta(minutes=15),
    )
    return Customer(claims)


def cart(**changes: Any) -> PlaceOrder:
    values: dict[str, Any] = {
        "contact": CUSTOMER,
        "lines": (RequestedLine("MATCHA-KYOTO-100", 2),),
        "shipping_method": "standard",
        "shipping_address": ADDRESS,
        "billing_address": ADDRESS,
        "payment_method_type": PaymentMethodType.CARD,
        "stripe_payment_method_id": "pm_card_visa",
        "fingerprint": "f" * 64,
    }
    values.update(changes)
    return PlaceOrder(**values)


def abroad(country: str, postal_code: str = "1000") -> Address:
    return ADDRESS.model_copy(update={"country_code": country, "postal_code": postal_code})


# --- placing an order --------------------------------------------------------------------------


async def test_a_customer_cannot_place_an_order_for_another_account(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    someone = customer(uuid4())
    command = cart(contact=CUSTOMER)  # CUSTOMER's account id, not the token's
    with pytest.raises(ApiError) as refused:
        await ordering.place_order(context(monkeypatch), someone, "key-1", command)
    assert (refused.value.status, refused.value.code) == (403, "forbidden")
    assert refused.value.message == "Ce compte client ne correspond pas au jeton."


def test_the_account_of_an_order_comes_from_the_token_or_the_storefront() -> None:
    own = customer(CUSTOMER.customer_id)
    assert domain.ordering_customer(own, None) == CUSTOMER.customer_id  # the token's
    assert domain.ordering_customer(own, CUSTOMER.customer_id) == CUSTOMER.customer_id
    assert domain.ordering_customer(Storefront(), None) is None  # a guest
    named = uuid4()
    assert domain.ordering_customer(Storefront(), named) == named
    with pytest.raises(domain.ForeignAccountError):
        domain.ordering_customer(own, uuid4())


def test_idempotency_keys_are_the_callers_own_and_customers_see_only_their_orders() -> None:
    mine = customer(CUSTOMER.customer_id)
    assert domain.idempotency_scope(Storefront()) == "storefront"
    assert domain.idempotency_scope(mine) == f"customer:{CUSTOMER.customer_id}"
    assert domain.may_read(Storefront(), None)
    assert domain.may_read(Storefront(), uuid4())
    assert domain.may_read(mine, CUSTOMER.customer_id)
    assert not domain.may_read(mine, uuid4())
    assert not domain.may_read(mine, None)  # a guest order is not the customer's


def test_every_problem_of_a_cart_is_reported_at_once_in_the_fields_order() -> None:
    command = cart(
        lines=(RequestedLine("NOPE-1", 1), RequestedLine("MATCHA-KYOTO-100", 11)),
        shipping_method="teleport",
        shipping_address=ADDRESS.model_copy(update={"postal_code": "6900"}),
        billing_address=abroad("US", "10001"),
    )
    with pytest.raises(OrderRejectedError) as rejected:
        domain.price_placement(command, CATALOGUE, OPTIONS, LIMITS, COUNTRIES)
    assert [(p.field, p.code) for p in rejected.value.problems] == [
        ("lines.0.sku", "unknown_sku"),
        ("lines.1.quantity", "quantity_out_of_range"),
        ("shipping_method", "unknown_shipping_method"),
        ("shipping_address.postal_code", "invalid_postal_code"),
        ("billing_address.country_code", "country_not_delivered"),
    ]


def test_a_cart_is_priced_from_the_catalogue_with_the_chosen_shipping() -> None:
    priced = domain.price_placement(
        cart(shipping_method="express", billing_address=abroad("BE")),
        CATALOGUE,
        OPTIONS,
        LIMITS,
        COUNTRIES,
    )
    assert priced.shipping == EXPRESS
    (line,) = priced.lines
    assert (line.sku, line.quantity, line.line_total) == ("MATCHA-KYOTO-100", 2, Decimal("49.80"))


# --- the modification window -------------------------------------------------------------------


async def test_a_modification_with_problems_is_refused_before_the_order_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    command = ModifyOrder(
        shipping_method="teleport",
        shipping_address=abroad("US", "10001"),
        lines=(RequestedLine("MATCHA-KYOTO-100", 1), RequestedLine("MATCHA-KYOTO-100", 2)),
    )
    with pytest.raises(OrderRejectedError) as rejected:
        await window.modify_order(context(monkeypatch), Storefront(), uuid4(), command)
    assert [(p.field, p.code) for p in rejected.value.problems] == [
        ("shipping_method", "unknown_shipping_method"),
        ("shipping_address.country_code", "country_not_delivered"),
        ("lines.1.sku", "duplicate_sku"),
    ]


def test_a_modification_keeps_what_it_does_not_name() -> None:
    change = domain.modification(
        ModifyOrder(shipping_method="express", lines=(RequestedLine("PIN-0-10", 0),)),
        OPTIONS,
        COUNTRIES,
    )
    assert change.shipping == EXPRESS
    assert change.quantities == {"PIN-0-10": 0}
    assert change.shipping_address is None and change.billing_address is None
    nothing = domain.modification(ModifyOrder(), OPTIONS, COUNTRIES)
    assert nothing == domain.Modification()


# --- the Idempotency-Key header ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "idempotency_key_required"),
        ("   ", "invalid_idempotency_key"),
        ("clé-accentuée", "invalid_idempotency_key"),
        ("k" * 256, "invalid_idempotency_key"),
    ],
)
def test_an_order_needs_a_printable_ascii_idempotency_key(header: str | None, code: str) -> None:
    with pytest.raises(ApiError) as refused:
        idempotency_key(header)
    assert (refused.value.status, refused.value.code) == (400, code)


def test_an_idempotency_key_is_trimmed() -> None:
    assert idempotency_key("  order-42  ") == "order-42"
