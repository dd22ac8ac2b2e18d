"""Event handlers: released orders (checkout), the logistics team's reports, erasure requests.

Each ``on_<event>(ctx, envelope)`` calls one use case, which applies the event in one unit of
work (inbox + state + outbox). ``HANDLERS`` maps each event type consumed to its handler;
``app.py`` registers the table with ``jg_messaging.register_handlers``.
"""

from __future__ import annotations

from collections.abc import Mapping

from jg_events import (
    CustomerErasureRequested,
    Envelope,
    Event,
    OrderReleased,
    ParcelDelivered,
    ParcelPickedUp,
    ReturnReceived,
    StockReplenished,
)
from jg_messaging import Handler

from fulfillment.context import SERVICE, Context
from fulfillment.usecases import erasure, returns, shipping, stock

__all__ = ["DESCRIPTION", "HANDLERS", "SERVICE", "Context"]


async def on_order_released(ctx: Context, envelope: Envelope[OrderReleased]) -> None:
    """Reserve the order's stock: OrderProcessing (to logistics) or Backordered."""
    await stock.release_order(ctx, envelope)


async def on_parcel_picked_up(ctx: Context, envelope: Envelope[ParcelPickedUp]) -> None:
    """A carrier took a parcel: Shipped, with the carrier's tracking link."""
    await shipping.record_pick_up(ctx, envelope)


async def on_parcel_delivered(ctx: Context, envelope: Envelope[ParcelDelivered]) -> None:
    """A parcel was delivered: Delivered once every item is (withdrawal starts)."""
    await shipping.record_delivery(ctx, envelope)


async def on_return_received(ctx: Context, envelope: Envelope[ReturnReceived]) -> None:
    """A return arrived: RefundRequested for unused items, ReturnRejected for the rest."""
    await returns.receive_return(ctx, envelope)


async def on_stock_replenished(ctx: Context, envelope: Envelope[StockReplenished]) -> None:
    """Stock arrived: on hand increases, backorders resume oldest first."""
    await stock.replenish_stock(ctx, envelope)


async def on_customer_erasure_requested(
    ctx: Context, envelope: Envelope[CustomerErasureRequested]
) -> None:
    """GDPR erasure: pseudonymise the customer's orders, erase claim photos and texts."""
    await erasure.erase_customer(ctx, envelope)


HANDLERS: Mapping[type[Event], Handler[Context]] = {
    OrderReleased: on_order_released,
    ParcelPickedUp: on_parcel_picked_up,
    ParcelDelivered: on_parcel_delivered,
    ReturnReceived: on_return_received,
    StockReplenished: on_stock_replenished,
    CustomerErasureRequested: on_customer_erasure_requested,
}
"""What fulfillment consumes, registered by ``app.py`` with jg_messaging's register_handlers:
one subscriber (group ``fulfillment``) over jg.checkout.orders, jg.logistics.reports and
jg.accounts.customers."""

DESCRIPTION = (
    "Released orders (jg.checkout.orders), the logistics team's reports "
    "(jg.logistics.reports: parcels picked up and delivered, returns received, stock "
    "replenished) and erasure requests (jg.accounts.customers). A report that does not "
    "validate goes to jg.fulfillment.dead-letter; one for an unknown order or out of "
    "sequence is refused and recorded (GET /operator/rejected-reports)."
)
