from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from checkout import domain
from checkout.domain import (
    Limits,
    Order,
    Product,
    ProductCategory,
    RequestedLine,
    ShippingOption,
)
from jg_events import Address, CustomerContact, PaymentMethodType

NOW = datetime(2026, 4, 29, 9, 0, tzinfo=UTC)  # a Wednesday

CATALOGUE = {
    p.sku: p
    for p in (
        Product(
            "MATCHA-KYOTO-100",
            "Thé matcha de Kyoto, 100 g",
            Decimal("24.90"),
            ProductCategory.TEA,
            False,
            True,
        ),
        Product(
            "FUROSHIKI-SAKURA",
            "Furoshiki en coton motif sakura",
            Decimal("16.90"),
            ProductCategory.OTHER,
            True,
            True,
        ),
        Product(
            "TAMAGOTCHI-1997",
            "Tamagotchi édition 1997",
            Decimal("29.90"),
            ProductCategory.OTHER,
            False,
            False,
        ),
        Product("PIN-0-10", "Pin's", Decimal("0.10"), ProductCategory.OTHER, False, True),
    )
}
STANDARD = ShippingOption("standard", "Livraison standard", Decimal("9.90"), Decimal("20.00"), 5, 8)
EXPRESS = ShippingOption("express", "Livraison express", Decimal("19.90"), Decimal("20.00"), 3, 5)
ADDRESS = Address(
    first_name="Camille",
    last_name="Durand",
    line1="12 rue des Lilas",
    postal_code="69003",
    city="Lyon",
    country_code="FR",
    phone="+33612345678",
)
CUSTOMER = CustomerContact(
    customer_id=UUID("5d0c2b1e-8f3a-4e6b-b7c9-1a2b3c4d5e01"),
    email="camille.durand@example.fr",
    first_name="Camille",
    last_name="Durand",
)
LIMITS = Limits(max_lines=5, max_quantity_per_line=10)


def placed(now: datetime = NOW, lines: list[RequestedLine] | None = None) -> Order:
    priced = domain.price_lines(
        lines or [RequestedLine("MATCHA-KYOTO-100", 3), RequestedLine("FUROSHIKI-SAKURA", 1)],
        CATALOGUE,
        LIMITS,
    )
    outcome = domain.place(
        order_id=UUID("0b6f8a52-3c1e-4d7a-9a55-2f1de0c7a001"),
        sequence_value=123,
        customer=CUSTOMER,
        lines=priced,
        shipping=STANDARD,
        shipping_address=ADDRESS,
        billing_address=ADDRESS,
        payment_method_type=PaymentMethodType.CARD,
        stripe_payment_method_id="pm_card_visa",
        now=now,
        correlation_id="corr-1",
    )
    assert outcome.order is not None
    return outcome.order


@pytest.fixture
def order() -> Order:
    return placed()
