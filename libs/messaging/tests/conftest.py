from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
import pytest
from jg_events import Envelope, ParcelDelivered, StockReplenished
from jg_messaging import migrate


def delivered(order_id: UUID, n: int = 0) -> ParcelDelivered:
    return ParcelDelivered(
        order_id=order_id, tracking_number=f"EJ{n:09d}JP", delivered_at=datetime.now(UTC)
    )


def replenished(sku: str, quantity: int) -> StockReplenished:
    return StockReplenished(sku=sku, quantity_added=quantity, replenished_at=datetime.now(UTC))


def envelope_of(
    payload: ParcelDelivered | StockReplenished, correlation_id: str = "corr-1"
) -> Envelope:
    return Envelope.wrap(payload, correlation_id=correlation_id)


@pytest.fixture
async def db(fresh_database: Callable[..., str]) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a new database with the messaging tables and a table for test effects."""
    pool = await asyncpg.create_pool(fresh_database(), min_size=1, max_size=8)
    async with pool.acquire() as conn:
        await migrate(conn)
        await conn.execute("CREATE TABLE effects (id serial PRIMARY KEY, event_id uuid, note text)")
    yield pool
    await pool.close()


@pytest.fixture
def order_id() -> UUID:
    return uuid4()
