"""What the API answers: response models and how rows become them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from jg_events import Carrier, ClaimKind, ClaimResolution, DeliveryEstimate, Money
from pydantic import BaseModel, Field

from fulfillment import domain, repository
from fulfillment.usecases import stock as stock_usecases
from fulfillment.usecases.queries import OrderFile


class ItemView(BaseModel):
    sku: str = Field(description="Product reference.")
    name: str = Field(description="Product name in French.")
    quantity: int = Field(description="Items ordered.")
    shipped: int = Field(description="Items a carrier picked up.")
    unit_price: Money = Field(description="Unit price paid, TTC.")
    on_sale: bool = Field(description="Bought on sale.")


class ParcelView(BaseModel):
    carrier: str = Field(description="Carrier code, e.g. 'japan_post_ems'.")
    carrier_label: str = Field(description="Carrier name shown to the customer.")
    tracking_number: str = Field(description="Carrier's tracking number.")
    tracking_url: str = Field(description="Public tracking page ('suivre mon colis').")
    items: list[dict[str, Any]] = Field(description="Items in the parcel: [{sku, quantity}].")
    picked_up_at: datetime = Field(description="When the carrier took the parcel (UTC).")
    delivered_at: datetime | None = Field(description="When it was delivered (UTC), if it was.")


class ReturnView(BaseModel):
    return_id: UUID = Field(description="Return id, to write on the parcel.")
    order_id: UUID = Field(description="Order id.")
    status: domain.ReturnStatus = Field(description="Where it stands.")
    kind: domain.ReturnKind | None = Field(
        description="Legal withdrawal (14 days) or goodwill return; null when rejected."
    )
    items: list[dict[str, Any]] = Field(description="Items concerned.")
    send_before: date | None = Field(description="Last day to send the items back.")
    expected_refund: Money | None = Field(description="Refund once received in order, TTC.")
    shipping_refund: Money | None = Field(description="Part of it for the delivery.")
    instructions: str | None = Field(description="How to send the items back (French).")
    rejection_reason: str | None = Field(description="Machine reason when rejected.")
    requested_at: datetime = Field(description="When the customer asked (UTC).")
    received_at: datetime | None = Field(description="When the warehouse received it (UTC).")
    refunded_amount: Money | None = Field(description="Amount refunded on receipt, TTC.")


class ClaimView(BaseModel):
    claim_id: UUID = Field(description="Claim id.")
    order_id: UUID = Field(description="Order id.")
    kind: ClaimKind = Field(description="'missing_item' or 'damaged_item'.")
    status: domain.ClaimStatus = Field(description="Open until customer service decides.")
    items: list[dict[str, Any]] = Field(description="Items concerned: [{sku, name, quantity}].")
    message: str | None = Field(description="The customer's description.")
    tracking_number: str | None = Field(description="Tracking number given (missing item).")
    photos: list[dict[str, Any]] = Field(
        description="Photos stored: [{photo_id, content_type, size_bytes, sha256, erased}]."
    )
    opened_at: datetime = Field(description="When the claim was opened (UTC).")
    resolution: ClaimResolution | None = Field(description="'reship', 'refund' or 'rejected'.")
    resolution_message: str | None = Field(description="Customer service's note (French).")
    refund_amount: Money | None = Field(description="Amount refunded, for a refund.")
    resolved_at: datetime | None = Field(description="When it was resolved (UTC).")


class OrderView(BaseModel):
    order_id: UUID = Field(description="Order id.")
    order_number: str = Field(description="Human order number.")
    status: domain.OrderStatus = Field(
        description="'backordered' (en cours de réapprovisionnement), 'processing' (en cours "
        "de traitement, with logistics), 'shipped', 'delivered'."
    )
    delivery_estimate: DeliveryEstimate = Field(description="Current delivery window.")
    items: list[ItemView] = Field(description="Products of the order.")
    parcels: list[ParcelView] = Field(description="Parcels and their tracking links.")
    withdrawal_deadline: date | None = Field(
        description="Last day to withdraw (14 days after delivery of the last item)."
    )
    returns: list[ReturnView] = Field(description="Return requests.")
    claims: list[ClaimView] = Field(description="After-sales claims.")


class StockView(BaseModel):
    sku: str = Field(description="Product reference.")
    name_fr: str = Field(description="French name.")
    name_ja: str | None = Field(description="Japanese name, for the warehouse.")
    name_romaji: str | None = Field(description="Japanese name in romaji.")
    on_hand: int = Field(description="Items in the warehouse.")
    reserved: int = Field(description="Items held for orders not yet shipped.")
    available: int = Field(description="on_hand - reserved; never negative.")
    updated_at: datetime = Field(description="Last change (UTC).")


class StockChange(BaseModel):
    stock: StockView = Field(description="The stock after the change.")
    resumed_orders: list[UUID] = Field(
        description="Backordered orders that proceeded to OrderProcessing thanks to it."
    )


class MissingView(BaseModel):
    sku: str = Field(description="Product reference.")
    quantity: int = Field(description="Items ordered.")
    missing: int = Field(description="Items still waiting for stock.")


class BackorderView(BaseModel):
    order_id: UUID = Field(description="Order id.")
    order_number: str = Field(description="Human order number.")
    released_at: datetime = Field(description="When checkout released the order (UTC).")
    backordered_at: datetime | None = Field(description="When it was backordered (UTC).")
    missing: list[MissingView] = Field(description="Lines waiting for stock.")


class RejectedReportView(BaseModel):
    id: int = Field(description="Sequence number of the refusal.")
    event_id: UUID = Field(description="event_id of the refused report.")
    event_type: str = Field(description="Its type, e.g. 'ParcelPickedUp'.")
    order_id: UUID | None = Field(description="Order it was about, if any.")
    sku: str | None = Field(description="Sku it was about (StockReplenished).")
    reason: str = Field(description="Machine reason, e.g. 'unknown_order'.")
    detail: str = Field(description="Explanation (English, for staff).")
    report: dict[str, Any] = Field(description="The report as received (its envelope).")
    received_at: datetime = Field(description="When it was refused (UTC).")


def return_view(ret: repository.Return) -> ReturnView:
    return ReturnView(
        return_id=ret.return_id,
        order_id=ret.order_id,
        status=ret.status,
        kind=ret.kind,
        items=ret.items,
        send_before=ret.send_before,
        expected_refund=ret.expected_refund,
        shipping_refund=ret.shipping_refund,
        instructions=ret.message if ret.status is not domain.ReturnStatus.REJECTED else None,
        rejection_reason=ret.rejection_reason,
        requested_at=ret.requested_at,
        received_at=ret.received_at,
        refunded_amount=ret.refunded_amount,
    )


def claim_view(claim: repository.Claim) -> ClaimView:
    return ClaimView(
        claim_id=claim.claim_id,
        order_id=claim.order_id,
        kind=claim.kind,
        status=claim.status,
        items=claim.items,
        message=claim.message,
        tracking_number=claim.tracking_number,
        photos=claim.photos,
        opened_at=claim.opened_at,
        resolution=claim.resolution,
        resolution_message=claim.resolution_message,
        refund_amount=claim.refund_amount,
        resolved_at=claim.resolved_at,
    )


def order_view(file: OrderFile) -> OrderView:
    order = file.order
    return OrderView(
        order_id=order.order_id,
        order_number=order.order_number,
        status=order.status,
        delivery_estimate=order.delivery_estimate,
        items=[
            ItemView(
                sku=i.sku,
                name=i.name,
                quantity=i.quantity,
                shipped=i.shipped,
                unit_price=i.unit_price,
                on_sale=i.on_sale,
            )
            for i in file.items
        ],
        parcels=[
            ParcelView(
                carrier=p.carrier,
                carrier_label=domain.CARRIER_LABELS[Carrier(p.carrier)],
                tracking_number=p.tracking_number,
                tracking_url=p.tracking_url,
                items=p.items,
                picked_up_at=p.picked_up_at,
                delivered_at=p.delivered_at,
            )
            for p in file.parcels
        ],
        withdrawal_deadline=order.withdrawal_deadline,
        returns=[return_view(r) for r in file.returns],
        claims=[claim_view(c) for c in file.claims],
    )


def stock_view(product: repository.Product) -> StockView:
    return StockView(
        sku=product.sku,
        name_fr=product.name_fr,
        name_ja=product.name_ja,
        name_romaji=product.name_romaji,
        on_hand=product.on_hand,
        reserved=product.reserved,
        available=product.available,
        updated_at=product.updated_at,
    )


def stock_change_view(change: stock_usecases.StockChange) -> StockChange:
    return StockChange(stock=stock_view(change.product), resumed_orders=change.resumed)


def backorder_view(backorder: repository.Backorder) -> BackorderView:
    return BackorderView(
        order_id=backorder.order_id,
        order_number=backorder.order_number,
        released_at=backorder.released_at,
        backordered_at=backorder.backordered_at,
        missing=[
            MissingView(sku=m.sku, quantity=m.quantity, missing=m.missing)
            for m in backorder.missing
        ],
    )


def rejected_report_view(report: repository.RejectedReport) -> RejectedReportView:
    return RejectedReportView(
        id=report.id,
        event_id=report.event_id,
        event_type=report.event_type,
        order_id=report.order_id,
        sku=report.sku,
        reason=report.reason,
        detail=report.detail,
        report=report.report,
        received_at=report.received_at,
    )
