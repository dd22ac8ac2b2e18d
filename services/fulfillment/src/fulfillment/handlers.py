"""Event handlers: released orders (checkout), the logistics team's reports, erasure requests.

Each ``on_<event>(ctx, envelope)`` calls one use case, which applies the event in one unit of
work (inbox + state + outbox). ``HANDLERS`` maps each event type consumed to its handler;
``register_handlers`` subscribes them on the service's one consumer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from jg_events import (
    CustomerErasureRequested,
    Envelope,
    Event,
    OrderReleased,
    ParcelDelivered,
    ParcelPickedUp,
    ReturnReceived,
    StockReplenished,
    Topic,
)
from jg_messaging import handles, subscribe

from fulfillment.context import SERVICE, Context
from fulfillment.usecases import erasure, returns, shipping, stock

__all__ = ["CONSUMED", "HANDLERS", "SERVICE", "Context", "register_handlers"]


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


Handler = Callable[[Context, Envelope[Any]], Awaitable[None]]

HANDLERS: Mapping[type[Event], Handler] = {
    OrderReleased: on_order_released,
    ParcelPickedUp: on_parcel_picked_up,
    ParcelDelivered: on_parcel_delivered,
    ReturnReceived: on_return_received,
    StockReplenished: on_stock_replenished,
    CustomerErasureRequested: on_customer_erasure_requested,
}

CONSUMED = (Topic.CHECKOUT_ORDERS, Topic.LOGISTICS_REPORTS, Topic.ACCOUNTS_CUSTOMERS)


def register_handlers(ctx: Context) -> None:
    """Fulfillment's subscriber: one consumer (group ``fulfillment``) for the three topics."""
    events = subscribe(
        ctx.runtime.broker,
        *CONSUMED,
        service=SERVICE,
        topic_prefix=ctx.settings.platform.topic_prefix,
        title="fulfillment inputs",
        description="Released orders (jg.checkout.orders), the logistics team's reports "
        "(jg.logistics.reports: parcels picked up and delivered, returns received, stock "
        "replenished) and erasure requests (jg.accounts.customers). A report that does not "
        "validate goes to jg.fulfillment.dead-letter; one for an unknown order or out of "
        "sequence is refused and recorded (GET /operator/rejected-reports).",
    )
    for event_type, handler in HANDLERS.items():
        events(filter=handles(event_type))(_consumer(ctx, event_type, handler))


def _consumer(
    ctx: Context, event_type: type[Event], handler: Handler
) -> Callable[[Envelope[Any]], Awaitable[None]]:
    """The subscriber's function for one event type: decodes ``Envelope[event_type]``."""

    async def consume(event: Envelope[Any]) -> None:
        await handler(ctx, event)

    consume.__annotations__ = {"event": Envelope[event_type], "return": None}  # type: ignore[valid-type]
    consume.__name__ = consume.__qualname__ = handler.__name__.removeprefix("on_")
    consume.__doc__ = handler.__doc__
    return consume
