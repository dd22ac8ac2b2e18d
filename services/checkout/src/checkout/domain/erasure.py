"""GDPR erasure: the customer's personal data leave the order; amounts and products stay."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from jg_events import (
    Address,
    CustomerContact,
)

from checkout.domain.order import (
    Order,
)

ERASED_NAME = "Client"
ERASED_LAST_NAME = "Anonyme"


def pseudonymous_email(order_id: UUID) -> str:
    return f"erased-{order_id.hex[:16]}@erased.invalid"


def pseudonymise(order: Order) -> Order:
    """Replace the customer's personal data in an order; amounts and products stay (accounting).

    Free text goes too: the note the customer wrote when cancelling.
    """

    def _address(address: Address) -> Address:
        return Address(
            first_name=ERASED_NAME,
            last_name=ERASED_LAST_NAME,
            line1="Adresse supprimée",
            postal_code="00000",
            city="Supprimé",
            country_code=address.country_code,
        )

    return replace(
        order,
        customer=CustomerContact(
            customer_id=None,
            email=pseudonymous_email(order.id),
            first_name=ERASED_NAME,
            last_name=ERASED_LAST_NAME,
        ),
        shipping_address=_address(order.shipping_address),
        billing_address=_address(order.billing_address),
        stripe_payment_method_id="erased",
        cancellation=(
            replace(order.cancellation, note=None) if order.cancellation is not None else None
        ),
    )
