"""The catalogue the storefront sells from: products and shipping methods (no token)."""

from __future__ import annotations

from fastapi import APIRouter

from checkout.routes.dependencies import Ctx
from checkout.routes.views import (
    ProductOut,
    ShippingMethodOut,
    product_view,
    shipping_method_view,
)
from checkout.usecases.catalogue import list_products, list_shipping_methods

router = APIRouter(tags=["catalogue"])


@router.get("/catalogue", summary="Products on sale (prices TTC)", response_model=list[ProductOut])
async def catalogue(ctx: Ctx) -> list[ProductOut]:
    return [product_view(p) for p in await list_products(ctx)]


@router.get(
    "/shipping-methods", summary="Shipping methods offered", response_model=list[ShippingMethodOut]
)
async def shipping_methods(ctx: Ctx) -> list[ShippingMethodOut]:
    return [shipping_method_view(o) for o in list_shipping_methods(ctx)]
