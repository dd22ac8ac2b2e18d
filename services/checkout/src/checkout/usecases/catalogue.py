"""What the shop sells: the active products (prices TTC) and the shipping methods."""

from __future__ import annotations

from checkout import repository
from checkout.context import Context
from checkout.domain import Product, ShippingOption


async def list_products(ctx: Context) -> list[Product]:
    async with ctx.runtime.pool.acquire() as conn:
        return await repository.active_products(conn)


def list_shipping_methods(ctx: Context) -> list[ShippingOption]:
    """In the order of the configuration (CHECKOUT_SHIPPING_METHODS)."""
    return list(ctx.shipping_options.values())
