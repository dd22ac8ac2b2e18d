"""The logistics team's reports to fulfillment (topic ``jg.logistics.reports``).

The team in Japan reads OrderProcessing on ``jg.logistics.requests`` and writes these reports,
in the same envelope as every other event (a report that does not validate goes to fulfillment's
dead-letter topic). Reports about an order are keyed by its ``order_id`` (from OrderProcessing);
stock reports by ``sku``. Times are when the fact happened, which may be before the report.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field, StringConstraints

from jg_events.common import Carrier, Sku, ValueObject
from jg_events.envelope import Event, UtcDatetime
from jg_events.money import Quantity
from jg_events.topics import Topic

__all__ = [
    "ItemCondition",
    "ParcelDelivered",
    "ParcelItem",
    "ParcelPickedUp",
    "ReceivedItem",
    "ReturnReceived",
    "StockReplenished",
]

_TrackingNumber = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ParcelItem(ValueObject):
    """A product and quantity in a parcel."""

    sku: Sku = Field(description="Product reference.")
    quantity: Quantity = Field(description="Number of items.")


class ItemCondition(StrEnum):
    """State of a returned item on arrival."""

    UNUSED = "unused"
    USED = "used"
    DAMAGED = "damaged"


class ReceivedItem(ValueObject):
    """A returned product as received by the warehouse."""

    sku: Sku = Field(description="Product reference.")
    quantity: Quantity = Field(description="Number of items in this condition.")
    condition: ItemCondition = Field(description="'unused', 'used' or 'damaged'.")


class _OrderReport(Event):
    topic: ClassVar[Topic] = Topic.LOGISTICS_REPORTS
    key_field: ClassVar[str] = "order_id"

    order_id: UUID = Field(description="Order id, as given in OrderProcessing; the Kafka key.")


class ParcelPickedUp(_OrderReport):
    """The carrier picked up an order's parcel.

    Producer: the logistics team. Consumer: fulfillment (Shipped, with the tracking link built
    for the carrier). A report for an unknown order or out of sequence is refused.
    """

    event_type: ClassVar[str] = "ParcelPickedUp"
    schema_version: ClassVar[int] = 1

    carrier: Carrier = Field(description="Carrier that took the parcel.")
    tracking_number: _TrackingNumber = Field(description="Carrier's tracking number.")
    items: tuple[ParcelItem, ...] = Field(min_length=1, description="Items in the parcel.")
    picked_up_at: UtcDatetime = Field(description="When the carrier took the parcel (UTC).")


class ParcelDelivered(_OrderReport):
    """The carrier delivered an order's parcel.

    Producer: the logistics team (from the carrier's tracking). Consumer: fulfillment
    (Delivered; the withdrawal period starts).
    """

    event_type: ClassVar[str] = "ParcelDelivered"
    schema_version: ClassVar[int] = 1

    tracking_number: _TrackingNumber = Field(description="Tracking number of the parcel.")
    delivered_at: UtcDatetime = Field(description="When it was delivered (UTC).")


class ReturnReceived(_OrderReport):
    """A customer's return parcel arrived at the warehouse.

    Producer: the logistics team. Consumer: fulfillment (refund request for the items received
    in order, ReturnRejected otherwise).
    """

    event_type: ClassVar[str] = "ReturnReceived"
    schema_version: ClassVar[int] = 1

    return_id: UUID = Field(description="Return id from ReturnAccepted (written on the parcel).")
    items: tuple[ReceivedItem, ...] = Field(
        min_length=1, description="Items received, with their condition."
    )
    received_at: UtcDatetime = Field(description="When the parcel arrived (UTC).")
    note: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        default=None, description="Warehouse remarks, if any."
    )


class StockReplenished(Event):
    """Stock arrived for a product.

    Producer: the logistics team. Consumer: fulfillment (adds to stock on hand and resumes
    backorders, oldest first). Keyed by sku.
    """

    event_type: ClassVar[str] = "StockReplenished"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[Topic] = Topic.LOGISTICS_REPORTS
    key_field: ClassVar[str] = "sku"

    sku: Sku = Field(description="Product reference; the Kafka key.")
    quantity_added: Quantity = Field(description="Number of items added to stock on hand.")
    replenished_at: UtcDatetime = Field(description="When the stock was received (UTC).")


LOGISTICS_EVENTS = (ParcelPickedUp, ParcelDelivered, StockReplenished, ReturnReceived)
