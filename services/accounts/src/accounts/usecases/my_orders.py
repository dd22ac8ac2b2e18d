"""Reading "Mes commandes et factures": the customer's orders, one order's detail."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from jg_web.http import ApiError

from accounts import repository
from accounts.context import Context
from accounts.repository import HistoryOrder, InvoiceRow, TimelineRow


@dataclass(frozen=True)
class OrderPage:
    orders: list[HistoryOrder]
    total: int


@dataclass(frozen=True)
class OrderDetail:
    order: HistoryOrder
    timeline: list[TimelineRow]
    invoices: list[InvoiceRow]


async def list_orders(ctx: Context, customer_id: UUID, *, limit: int, offset: int) -> OrderPage:
    """The customer's orders, most recent first, and how many they have."""
    async with ctx.pool.acquire() as conn:
        orders = await repository.customer_orders(conn, customer_id, limit=limit, offset=offset)
        total = await repository.count_customer_orders(conn, customer_id)
    return OrderPage(orders, total)


async def order_detail(ctx: Context, customer_id: UUID, order_id: UUID) -> OrderDetail:
    """One of the customer's orders (404 when it is not theirs, or unknown)."""
    async with ctx.pool.acquire() as conn:
        order = await repository.customer_order(conn, customer_id, order_id)
        if order is None:
            raise ApiError(404, "order_not_found", "Commande introuvable.")
        timeline = await repository.order_timeline(conn, order_id)
        invoices = await repository.order_invoices(conn, order_id)
    return OrderDetail(order, timeline, invoices)
