"""The services' connection pool against the real PostgreSQL."""

import asyncio
from collections.abc import Callable

import asyncpg
import pytest
from jg_messaging import create_pool
from jg_messaging.db import connection

pytestmark = pytest.mark.integration


async def test_a_released_connection_is_rolled_back_but_not_sent_a_reset_query(
    fresh_database: Callable[..., str],
) -> None:
    dsn = fresh_database()
    pool = await create_pool(dsn, min_size=1, max_size=1)
    observer = await asyncpg.connect(dsn)
    try:
        async with connection(pool) as conn:
            await conn.execute("CREATE TABLE notes (body text)")
            backend = await conn.fetchval("SELECT pg_backend_pid()")
            await conn.transaction().start()
            await conn.execute("INSERT INTO notes VALUES ('never committed')")
            # released with its transaction open (a handler cancelled mid-way)
        async with connection(pool) as conn:
            assert await conn.fetchval("SELECT pg_backend_pid()") == backend  # the same one
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT count(*) FROM notes") == 0  # rolled back
            async with conn.transaction():
                await conn.execute("INSERT INTO notes VALUES ('kept')")
        await asyncio.sleep(0.1)
        # the last thing the pooled connection was sent is the transaction's COMMIT: no
        # RESET ALL / UNLISTEN * / pg_advisory_unlock_all() round trip after it
        last = await observer.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", backend)
        assert last == "COMMIT;"
    finally:
        await observer.close()
        await pool.close()
