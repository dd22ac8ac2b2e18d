"""Read-only use cases: what the customers and the operators look at."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from jg_auth import Principal, Storefront

from fulfillment import domain, repository
from fulfillment.context import Context
from fulfillment.usecases.claims import claim_not_found
from fulfillment.usecases.common import visible_order
from fulfillment.usecases.errors import CommandError, Failure
from fulfillment.usecases.stock import sku_not_found


@dataclass(frozen=True)
class OrderFile:
    """Everything about one order: items, parcels, returns and claims."""

    order: repository.Order
    items: list[repository.Item]
    parcels: list[repository.Parcel]
    returns: list[repository.Return]
    claims: list[repository.Claim]


async def read_order(ctx: Context, who: Principal, order_id: UUID) -> OrderFile:
    async with ctx.runtime.pool.acquire() as conn:
        order = await visible_order(conn, order_id, who)
        return OrderFile(
            order=order,
            items=await repository.get_items(conn, order_id),
            parcels=await repository.get_parcels(conn, order_id),
            returns=await repository.get_returns(conn, order_id),
            claims=await repository.list_claims(conn, order_id=order_id),
        )


async def read_order_for_staff(ctx: Context, order_id: UUID) -> OrderFile:
    """Customer service reads any order's file, as the storefront does."""
    return await read_order(ctx, Storefront(), order_id)


async def list_returns(
    ctx: Context, status: domain.ReturnStatus | None, limit: int
) -> list[repository.Return]:
    async with ctx.runtime.pool.acquire() as conn:
        return await repository.list_returns(conn, status, limit)


async def list_stock(ctx: Context) -> list[repository.Product]:
    async with ctx.runtime.pool.acquire() as conn:
        return await repository.list_products(conn)


async def read_stock(ctx: Context, sku: str) -> repository.Product:
    async with ctx.runtime.pool.acquire() as conn:
        product = await repository.get_product(conn, sku)
    if product is None:
        raise sku_not_found(sku)
    return product


async def list_backorders(ctx: Context) -> list[repository.Backorder]:
    async with ctx.runtime.pool.acquire() as conn:
        return await repository.backorder_queue(conn)


async def list_rejected_reports(
    ctx: Context, order_id: UUID | None, limit: int
) -> list[repository.RejectedReport]:
    async with ctx.runtime.pool.acquire() as conn:
        return await repository.list_rejected_reports(conn, order_id=order_id, limit=limit)


async def list_claims(ctx: Context, status: domain.ClaimStatus | None) -> list[repository.Claim]:
    async with ctx.runtime.pool.acquire() as conn:
        return await repository.list_claims(conn, status=status)


async def read_claim(ctx: Context, claim_id: UUID) -> repository.Claim:
    async with ctx.runtime.pool.acquire() as conn:
        claim = await repository.get_claim(conn, claim_id)
    if claim is None:
        raise claim_not_found()
    return claim


async def read_photo(ctx: Context, claim_id: UUID, photo_id: UUID) -> repository.Photo:
    async with ctx.runtime.pool.acquire() as conn:
        photo = await repository.get_photo(conn, claim_id, photo_id)
    if photo is None:
        raise CommandError(
            Failure.NOT_FOUND, "photo_not_found", "No such photo (or it was erased)."
        )
    return photo
