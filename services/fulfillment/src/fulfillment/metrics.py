"""Fulfillment's Prometheus metrics: the orders waiting for stock (computed on scrape)."""

from __future__ import annotations

import asyncpg
from prometheus_client import Gauge

from fulfillment import repository

BACKORDERS = Gauge(
    "fulfillment_backorders_waiting", "Released orders waiting for stock (backordered)."
)
OLDEST_BACKORDER = Gauge(
    "fulfillment_oldest_backorder_age_seconds",
    "How long the oldest backordered order has waited for stock (0 when none waits).",
)


async def refresh(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        waiting, oldest = await repository.backorders_waiting(conn)
    BACKORDERS.set(waiting)
    OLDEST_BACKORDER.set(oldest or 0.0)
