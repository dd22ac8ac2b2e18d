"""Checkout's Prometheus metrics: orders by status and releases overdue (computed on scrape)."""

from __future__ import annotations

import asyncpg
from prometheus_client import Gauge

from checkout import repository
from checkout.domain.order import Status

RELEASE_OVERDUE_AFTER = 60.0
"""A confirmed order is overdue this many seconds after its release time (the scheduler polls
every few seconds: past a minute, it is not releasing)."""

ORDERS = Gauge("checkout_orders", "Orders in each status.", ["status"])
RELEASES_OVERDUE = Gauge(
    "checkout_releases_overdue",
    "Confirmed orders whose release time passed more than a minute ago and that are not released.",
)


def orders_by_status(counts: dict[str, int]) -> dict[str, int]:
    """Every status of the domain (0 when no order has it) plus any other the table holds."""
    return {status.value: 0 for status in Status} | counts


async def refresh_orders(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        counts = await repository.orders_by_status(conn)
    for status, count in orders_by_status(counts).items():
        ORDERS.labels(status).set(count)


async def refresh_releases(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        overdue = await repository.releases_overdue(conn, grace_seconds=RELEASE_OVERDUE_AFTER)
    RELEASES_OVERDUE.set(overdue)
