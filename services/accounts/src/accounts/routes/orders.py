"""'Mes commandes et factures': the logged-in customer's orders and invoices."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query

from accounts.routes.dependencies import Caller, Ctx
from accounts.routes.responses import ERRORS, errors
from accounts.routes.views import order_detail, order_summary
from accounts.schemas import OrderDetail, OrderList
from accounts.usecases import my_orders as orders

router = APIRouter()


@router.get(
    "/me/orders",
    tags=["orders"],
    summary="'Mes commandes et factures': my orders, most recent first",
    responses=ERRORS,
)
async def my_orders(
    claims: Caller,
    ctx: Ctx,
    limit: Annotated[int, Query(ge=1, le=100, description="Orders per page.")] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000, description="Orders to skip.")] = 0,
) -> OrderList:
    page = await orders.list_orders(ctx, claims.customer_id, limit=limit, offset=offset)
    return OrderList(orders=[order_summary(o) for o in page.orders], total=page.total)


@router.get(
    "/me/orders/{order_id}",
    tags=["orders"],
    summary="One of my orders: status, timeline, tracking link, invoices",
    responses=errors(404),
)
async def my_order(
    order_id: Annotated[UUID, Path(description="Order id (from GET /me/orders).")],
    claims: Caller,
    ctx: Ctx,
) -> OrderDetail:
    detail = await orders.order_detail(ctx, claims.customer_id, order_id)
    return order_detail(detail, ctx.settings)
