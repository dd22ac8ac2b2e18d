"""The storefront's order API: place, read, modify and cancel an order.

``Authorization: Bearer``: the storefront's token acts for anyone; a customer's access token
(issued by the accounts service) sees and changes only the orders of its own account (another
answers 404).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response
from jg_messaging import tracing

from checkout.routes.dependencies import Caller, Ctx, IdempotencyKey, OrderId
from checkout.routes.requests import CancelOrderRequest, ModifyOrderRequest, PlaceOrderRequest
from checkout.routes.responses import ERRORS, PLACEMENT, UNREADABLE, WINDOW_CLOSED
from checkout.routes.views import OrderOut, order_view
from checkout.usecases import ordering, window

router = APIRouter(tags=["orders"])


@router.post(
    "/orders",
    status_code=201,
    response_model=OrderOut,
    summary="Place an order (the storefront does not wait for payment)",
    description="Requires `Authorization: Bearer <storefront token>` and an "
    "`Idempotency-Key` header. 201 with the new order; 200 with the same order when the "
    "same key and body are sent again; 422 `idempotency_key_reused` when the key was used "
    "with another body. Prices come from the catalogue only.",
    responses=PLACEMENT,
)
async def place_order(
    request: PlaceOrderRequest,
    ctx: Ctx,
    caller: Caller,
    key: IdempotencyKey,
    response: Response,
) -> OrderOut:
    placed = await ordering.place_order(ctx, caller, key, request.to_command())
    # the order's trace is found by its number (`make trace ORDER_NUMBER=...`)
    tracing.annotate(order_number=placed.order.number, order_id=str(placed.order.id))
    if placed.replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    else:
        response.headers["Location"] = f"/orders/{placed.order.id}"
    return order_view(placed.order, placed.timeline)


@router.get(
    "/orders/{order_id}",
    response_model=OrderOut,
    summary="Read an order: status, timeline, lines, totals, addresses, tracking",
    description="Storefront token, or the order's own customer token (once accounts' "
    "tokens are accepted).",
    responses=ERRORS,
)
async def get_order(order_id: OrderId, ctx: Ctx, caller: Caller) -> OrderOut:
    read = await ordering.read_order(ctx, caller, order_id)
    return order_view(read.order, read.timeline)


@router.patch(
    "/orders/{order_id}",
    response_model=OrderOut,
    summary="Modify an order before it is released",
    description="Addresses, shipping method, quantities of the lines (0 removes a line). "
    "Accepted while the order is confirmed and not yet released; a change of the total "
    "needs a new payment authorisation before release (OrderModified).",
    responses={**ERRORS, **UNREADABLE, **WINDOW_CLOSED},
)
async def modify_order(
    order_id: OrderId, request: ModifyOrderRequest, ctx: Ctx, caller: Caller
) -> OrderOut:
    modified = await window.modify_order(ctx, caller, order_id, request.to_command())
    return order_view(modified.order, modified.timeline)


@router.post(
    "/orders/{order_id}/cancel",
    response_model=OrderOut,
    summary="Cancel an order before it is released",
    description="Accepted until release (before or after payment authorisation). "
    "Cancelling a cancelled order again answers 200 and changes nothing. Publishes "
    "OrderCancelled: payment releases the hold, nothing is captured.",
    responses={**ERRORS, **UNREADABLE, **WINDOW_CLOSED},
)
async def cancel_order(
    order_id: OrderId,
    ctx: Ctx,
    caller: Caller,
    request: Annotated[CancelOrderRequest | None, Body()] = None,
) -> OrderOut:
    note = request.note if request else None
    cancelled = await window.cancel_order(ctx, caller, order_id, note)
    return order_view(cancelled.order, cancelled.timeline)
