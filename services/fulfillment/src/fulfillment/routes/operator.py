"""Operators' routes (``Authorization: Bearer <FULFILLMENT_OPERATOR_TOKEN>``, or a team
member's staff token from accounts): stock, the backorder queue, refused logistics reports,
claims and their resolution, an order's file and the returns."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response
from jg_auth import Operator, staff_or_operator
from jg_events import ClaimResolution, Money
from jg_web import MultiLine, SingleLine
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fulfillment import domain
from fulfillment.routes.dependencies import Ctx
from fulfillment.routes.errors import ERRORS, UNREADABLE, ErrorBody
from fulfillment.routes.views import (
    BackorderView,
    ClaimView,
    OrderView,
    RejectedReportView,
    ReturnView,
    StockChange,
    StockView,
    backorder_view,
    claim_view,
    order_view,
    rejected_report_view,
    return_view,
    stock_change_view,
    stock_view,
)
from fulfillment.usecases import claims, queries, stock

_Label = Annotated[str, StringConstraints(min_length=1, max_length=200), SingleLine]
SkuPath = Annotated[str, Path(min_length=1, max_length=64, description="Product reference.")]
ClaimId = Annotated[UUID, Path(description="Claim id (from ClaimOpened).")]
PhotoId = Annotated[UUID, Path(description="Photo id (from the claim's photos).")]
OrderId = Annotated[UUID, Path(description="Order id (from checkout).")]
BELOW_RESERVED: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "Below the reserved items"}
}

Who = Annotated[Operator, Depends(staff_or_operator("agent"))]

router = APIRouter(
    prefix="/operator",
    tags=["operators"],
    dependencies=[Depends(staff_or_operator("agent"))],
    responses={401: ERRORS[401]},
)


class InventoryCount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_fr: _Label = Field(description="French product name (as in checkout's catalogue).")
    name_ja: _Label | None = Field(
        default=None, description="Japanese name for the warehouse's pick list."
    )
    name_romaji: _Label | None = Field(default=None, description="The Japanese name in romaji.")
    on_hand: int = Field(
        ge=0, le=1_000_000, strict=True, description="Items counted in the warehouse."
    )
    note: Annotated[str, StringConstraints(max_length=500), MultiLine] | None = Field(
        default=None, description="Why (recorded with the stock movement)."
    )


class StockAdjustment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delta: int = Field(
        ge=-1_000_000,
        le=1_000_000,
        strict=True,
        description="Items added (positive) or removed (negative: breakage, loss).",
    )
    note: Annotated[str, StringConstraints(min_length=1, max_length=500), MultiLine] = Field(
        description="Why (recorded with the stock movement)."
    )


class ClaimDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: ClaimResolution = Field(
        description="'reship' (the items are sent again: stock reserved, OrderProcessing to "
        "logistics), 'refund' (RefundRequested) or 'rejected'."
    )
    message: Annotated[str, StringConstraints(min_length=1, max_length=4000), MultiLine] | None = (
        Field(default=None, description="Note to the customer, in French (required when rejected).")
    )
    amount: Money | None = Field(
        default=None,
        description="Refund, TTC, as a string ('19.99'); default: the price paid for the "
        "claimed items. Only for 'refund'.",
    )


@router.get("/stock", summary="Stock of every sku")
async def list_stock(ctx: Ctx) -> list[StockView]:
    return [stock_view(p) for p in await queries.list_stock(ctx)]


@router.get("/stock/{sku}", summary="Stock of one sku", responses={404: ERRORS[404]})
async def read_stock(sku: SkuPath, ctx: Ctx) -> StockView:
    return stock_view(await queries.read_stock(ctx, sku))


@router.put(
    "/stock/{sku}",
    summary="Inventory count: set a sku's labels and items on hand (creates the sku)",
    responses={**UNREADABLE, **BELOW_RESERVED},
)
async def count_stock(sku: SkuPath, body: InventoryCount, ctx: Ctx, who: Who) -> StockChange:
    labels = stock.Labels(body.name_fr, body.name_ja, body.name_romaji)
    counted = await stock.count_stock(ctx, sku, labels, body.on_hand, body.note, who.actor)
    return stock_change_view(counted)


@router.post(
    "/stock/{sku}/adjustments",
    summary="Add or remove items on hand",
    responses={**UNREADABLE, 404: ERRORS[404], **BELOW_RESERVED},
)
async def adjust_stock(sku: SkuPath, body: StockAdjustment, ctx: Ctx, who: Who) -> StockChange:
    adjusted = await stock.adjust_stock(ctx, sku, body.delta, body.note, who.actor)
    return stock_change_view(adjusted)


@router.get("/backorders", summary="Backordered orders, oldest first, with what they miss")
async def list_backorders(ctx: Ctx) -> list[BackorderView]:
    return [backorder_view(b) for b in await queries.list_backorders(ctx)]


@router.get(
    "/rejected-reports",
    summary="Logistics reports refused (unknown order, out of sequence), newest first",
)
async def list_rejected_reports(
    ctx: Ctx,
    order_id: Annotated[UUID | None, Query(description="Only this order's")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most reports returned")] = 100,
) -> list[RejectedReportView]:
    reports = await queries.list_rejected_reports(ctx, order_id, limit)
    return [rejected_report_view(r) for r in reports]


@router.get("/claims", summary="Claims, oldest first")
async def list_claims(
    ctx: Ctx,
    status: Annotated[domain.ClaimStatus | None, Query(description="Filter by status")] = None,
) -> list[ClaimView]:
    return [claim_view(c) for c in await queries.list_claims(ctx, status)]


@router.get("/claims/{claim_id}", summary="One claim", responses={404: ERRORS[404]})
async def read_claim(claim_id: ClaimId, ctx: Ctx) -> ClaimView:
    return claim_view(await queries.read_claim(ctx, claim_id))


@router.get(
    "/claims/{claim_id}/photos/{photo_id}",
    summary="A claim's photo (the stored bytes)",
    response_class=Response,
    responses={
        200: {"content": {m: {} for m in domain.ACCEPTED_PHOTO_TYPES}},
        404: {"model": ErrorBody, "description": "No such photo (or it was erased)"},
    },
)
async def read_photo(claim_id: ClaimId, photo_id: PhotoId, ctx: Ctx) -> Response:
    photo = await queries.read_photo(ctx, claim_id, photo_id)
    return Response(
        content=photo.data,
        media_type=photo.content_type,
        headers={"X-Content-Type-Options": "nosniff"},
    )


@router.post(
    "/claims/{claim_id}/resolution",
    summary="Customer service resolves a claim: reship, refund or reject",
    responses={
        **UNREADABLE,
        404: ERRORS[404],
        409: {"model": ErrorBody, "description": "Already resolved, or no stock to reship"},
    },
)
async def resolve_claim(claim_id: ClaimId, body: ClaimDecision, ctx: Ctx, who: Who) -> ClaimView:
    resolved = await claims.resolve_claim(
        ctx, claim_id, body.resolution, body.message, body.amount, who.actor
    )
    return claim_view(resolved)


@router.get(
    "/orders/{order_id}",
    summary="An order's file: hand-off status, items, parcels with tracking, returns, claims",
    responses={404: ERRORS[404]},
)
async def read_order(order_id: OrderId, ctx: Ctx) -> OrderView:
    return order_view(await queries.read_order_for_staff(ctx, order_id))


@router.get("/returns", summary="Returns, latest news first (e.g. ?status=received)")
async def list_returns(
    ctx: Ctx,
    status: Annotated[domain.ReturnStatus | None, Query(description="Filter by status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most returns returned")] = 200,
) -> list[ReturnView]:
    return [return_view(r) for r in await queries.list_returns(ctx, status, limit)]
