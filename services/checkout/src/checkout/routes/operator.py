"""Customer service's order API (the console): find an order, read it, cancel it on the
customer's behalf. ``Authorization: Bearer``: a staff token from accounts (agent or manager)
or CHECKOUT_OPERATOR_TOKEN; customers' and the storefront's tokens are refused."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query
from jg_auth import Operator, staff_or_operator
from pydantic import BaseModel, Field

from checkout.domain import STATUS_LABELS, Order
from checkout.routes.dependencies import Ctx, OrderId
from checkout.routes.requests import CancelOrderRequest
from checkout.routes.responses import ERRORS, UNREADABLE, WINDOW_CLOSED, Responses
from checkout.routes.views import ErrorResponse, OrderOut, order_view
from checkout.usecases import customer_service

Staff = Annotated[Operator, Depends(staff_or_operator("agent"))]

router = APIRouter(prefix="/operator", tags=["customer service"])

_REFUSED: Responses = {
    403: {"model": ErrorResponse, "description": "A staff role below the route's."}
}


class OrderFound(BaseModel):
    id: UUID = Field(description="Order id.")
    number: str = Field(description="Human order number (JG-…).")
    status: str = Field(description="Machine status, e.g. 'confirmed'.")
    status_label: str = Field(description="The status in French.")
    email: str = Field(description="The customer's email for this order.")
    customer_name: str = Field(description="First and last name of the contact.")
    placed_at: datetime = Field(description="When the order was placed (UTC).")
    total: Decimal = Field(description="Total TTC, euros, two decimals.")


def _found(order: Order) -> OrderFound:
    return OrderFound(
        id=order.id,
        number=order.number,
        status=order.status.value,
        status_label=STATUS_LABELS[order.status],
        email=order.customer.email,
        customer_name=f"{order.customer.first_name} {order.customer.last_name}",
        placed_at=order.placed_at,
        total=order.totals.total,
    )


@router.get(
    "/orders",
    summary="Find orders by number (exact), email (exact) or name (part); newest first, 50",
    responses={**ERRORS, **_REFUSED},
)
async def search_orders(
    ctx: Ctx,
    _: Staff,
    q: Annotated[str, Query(max_length=200, description="JG-…, an email or a name.")] = "",
) -> list[OrderFound]:
    return [_found(order) for order in await customer_service.search_orders(ctx, q)]


@router.get(
    "/orders/{order_id}",
    response_model=OrderOut,
    summary="An order as its customer sees it (GET /orders/{id})",
    responses={**ERRORS, **_REFUSED},
)
async def get_order(order_id: OrderId, ctx: Ctx, _: Staff) -> OrderOut:
    read = await customer_service.read_order(ctx, order_id)
    return order_view(read.order, read.timeline)


@router.post(
    "/orders/{order_id}/cancel",
    response_model=OrderOut,
    summary="Cancel on the customer's behalf (same window as the customer's)",
    responses={**ERRORS, **UNREADABLE, **WINDOW_CLOSED, **_REFUSED},
)
async def cancel_order(
    order_id: OrderId,
    ctx: Ctx,
    who: Staff,
    request: Annotated[CancelOrderRequest | None, Body()] = None,
) -> OrderOut:
    note = request.note if request else None
    cancelled = await customer_service.cancel_on_behalf(ctx, order_id, note, who.actor)
    return order_view(cancelled.order, cancelled.timeline)
