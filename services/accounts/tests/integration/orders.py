"""Order events as checkout, payment and fulfillment publish them, for one customer's order."""

from typing import Any
from uuid import UUID, uuid4

from jg_events import (
    CustomerContact,
    Delivered,
    Event,
    InvoiceIssued,
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    OrderProcessing,
    Shipped,
    Topic,
)
from jg_events.examples import example

TOPIC_OF: dict[type[Event], Topic] = {
    OrderPlaced: Topic.CHECKOUT_ORDERS,
    OrderConfirmed: Topic.CHECKOUT_ORDERS,
    OrderCancelled: Topic.CHECKOUT_ORDERS,
    OrderProcessing: Topic.LOGISTICS_REQUESTS,
    Shipped: Topic.FULFILLMENT_ORDERS,
    Delivered: Topic.FULFILLMENT_ORDERS,
    InvoiceIssued: Topic.PAYMENT_PAYMENTS,
}


class Order:
    """One order of one customer: builds its events from the catalogue's examples."""

    def __init__(
        self,
        customer_id: UUID | None,
        number: str,
        *,
        email: str = "camille.durand@example.fr",
        first_name: str = "Camille",
        last_name: str = "Durand",
    ) -> None:
        self.id = uuid4()
        self.number = number
        self.contact = CustomerContact(
            customer_id=customer_id, email=email, first_name=first_name, last_name=last_name
        )
        self.invoice_number = f"F-2026-{number[-6:]}"

    def event(self, cls: type[Event], **changes: Any) -> Any:
        base = {"order_id": self.id, "order_number": self.number, "customer": self.contact}
        if cls is InvoiceIssued:
            base |= {
                "invoice_number": self.invoice_number,
                "download_path": f"/invoices/{self.invoice_number}.pdf",
            }
        return example(cls).model_copy(update=base | changes)
