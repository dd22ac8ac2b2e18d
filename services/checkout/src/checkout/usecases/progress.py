"""Fulfillment's progress after the hand-off, shown on the order (the status only moves on)."""

from __future__ import annotations

from jg_events import Backordered, Delivered, Envelope, OrderProcessing, Shipped

from checkout import domain
from checkout.context import Context
from checkout.domain import Status, Tracking
from checkout.usecases.common import apply


async def record_processing(ctx: Context, envelope: Envelope[OrderProcessing]) -> None:
    """The logistics team prepares the order."""
    await apply(
        ctx,
        envelope,
        lambda order: domain.progress(
            order, Status.PROCESSING, label="Commande en cours de traitement", now=ctx.clock()
        ),
    )


async def record_backorder(ctx: Context, envelope: Envelope[Backordered]) -> None:
    """Items missing: backordered, with a later delivery estimate."""
    p = envelope.payload
    await apply(
        ctx,
        envelope,
        lambda order: domain.progress(
            order,
            Status.BACKORDERED,
            label="Article(s) en cours de réapprovisionnement",
            now=ctx.clock(),
            delivery=p.delivery_estimate,
            detail={"skus": [line.sku for line in p.missing_lines]},
        ),
    )


async def record_shipment(ctx: Context, envelope: Envelope[Shipped]) -> None:
    """The parcel left with the carrier: shipped, with its tracking."""
    p = envelope.payload
    tracking = Tracking(carrier=p.carrier.value, number=p.tracking_number, url=p.tracking_url)
    await apply(
        ctx,
        envelope,
        lambda order: domain.progress(
            order,
            Status.SHIPPED,
            label="Colis remis au transporteur",
            now=p.shipped_at,
            tracking=tracking,
            delivery=p.delivery_estimate,
            detail={"tracking_number": p.tracking_number},
        ),
    )


async def record_delivery(ctx: Context, envelope: Envelope[Delivered]) -> None:
    """The parcel was delivered."""
    p = envelope.payload
    await apply(
        ctx,
        envelope,
        lambda order: domain.progress(
            order, Status.DELIVERED, label="Colis livré", now=p.delivered_at
        ),
    )
