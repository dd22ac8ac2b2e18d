"""One order whose release fails is retried on its own; the others due are released on time.

The failure is real: PostgreSQL refuses the OrderReleased outbox row of one order (a CHECK
constraint added to this test's database), so that order's release transaction fails inside
PostgreSQL exactly as a broken row or a refused write would in production.
"""

import asyncio
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest
import structlog
from checkout import domain
from structlog.testing import capture_logs

pytestmark = pytest.mark.integration

RETRY = {"release_retry_first_delay": 1.0, "release_retry_max_delay": 2.0}


async def refuse_release_of(pool: asyncpg.Pool, order_id: str) -> None:
    """From now on PostgreSQL refuses to write this order's OrderReleased event."""
    await pool.execute(
        f"""ALTER TABLE messaging_outbox ADD CONSTRAINT refuse_release_of_one_order
            CHECK (message_key <> '{UUID(order_id)}' OR event_type <> 'OrderReleased')
            NOT VALID"""
    )


async def failure_record(pool: asyncpg.Pool, order_id: str) -> asyncpg.Record:
    row = await pool.fetchrow(
        """SELECT status, release_attempts, release_failed_at, release_retry_at, release_error
           FROM orders WHERE id = $1""",
        UUID(order_id),
    )
    assert row is not None
    return row


async def test_a_failing_release_is_retried_with_backoff_while_the_others_go_on_time(
    start: Any,
) -> None:
    checkout = await start(release_delay_seconds=3, release_poll_interval=0.2, **RETRY)
    placed = [await checkout.place() for _ in range(4)]
    failing = placed[1]  # due before two of the others: a poll that stopped at it would block them
    await refuse_release_of(checkout.pool, failing["id"])

    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        for order in placed:
            await checkout.authorize(order)
        others = [o for o in placed if o["id"] != failing["id"]]
        for order in others:
            released = await checkout.wait_for_status(order["id"], "released", timeout=20)
            window_end = datetime.fromisoformat(released["modifiable_until"])
            late = datetime.fromisoformat(released["released_at"]) - window_end
            assert timedelta(0) <= late < timedelta(seconds=1.5), late  # on time (0.2 s polls)

        # the failing order waits, its failure on record, retried with backoff
        first = await wait_for_record(checkout.pool, failing["id"], lambda r: r["release_attempts"])
        assert first["status"] == "confirmed"
        assert "refuse_release_of_one_order" in first["release_error"]
        assert first["release_retry_at"] - first["release_failed_at"] == timedelta(
            seconds=domain.release_retry_delay(first["release_attempts"], first=1.0, maximum=2.0)
        )
        await asyncio.sleep(4.0)  # 20 polls; the backoff (1 s, 2 s, 2 s) allows 3 attempts
        later = await failure_record(checkout.pool, failing["id"])
        assert later["status"] == "confirmed"
        assert 0 < later["release_attempts"] - first["release_attempts"] <= 3
        assert later["release_retry_at"] - later["release_failed_at"] == timedelta(seconds=2.0)
        assert (await checkout.get(failing["id"]))["status"] == "confirmed"

        # the cause is removed: the next attempt releases it and clears the record
        await checkout.pool.execute(
            "ALTER TABLE messaging_outbox DROP CONSTRAINT refuse_release_of_one_order"
        )
        released = await checkout.wait_for_status(failing["id"], "released", timeout=10)
    cleared = await failure_record(checkout.pool, failing["id"])
    assert cleared["release_attempts"] == 0
    assert cleared["release_failed_at"] is None and cleared["release_retry_at"] is None
    assert cleared["release_error"] is None
    assert [e["kind"] for e in released["timeline"]].count("released") == 1

    # each failure was logged as an error, with the order id and its correlation id
    failures = [e for e in logs if e["event"] == "order_release_failed"]
    assert len(failures) >= later["release_attempts"]
    correlation_id = await checkout.pool.fetchval(
        "SELECT correlation_id FROM orders WHERE id = $1", UUID(failing["id"])
    )
    assert {(e["order_id"], e["correlation_id"], e["log_level"]) for e in failures} == {
        (failing["id"], correlation_id, "error")
    }

    events = await checkout.published(4 * 3, settle=1.0)
    releases = sorted(e.key for e in events if e.type == "OrderReleased")
    assert releases == sorted(o["id"] for o in placed)  # each one exactly once


async def wait_for_record(
    pool: asyncpg.Pool, order_id: str, predicate: Any, timeout: float = 10.0
) -> asyncpg.Record:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        record = await failure_record(pool, order_id)
        if predicate(record):
            return record
        assert asyncio.get_running_loop().time() < deadline, dict(record)
        await asyncio.sleep(0.1)


async def test_an_order_that_refuses_every_write_still_does_not_hold_up_the_others(
    start: Any,
) -> None:
    checkout = await start(release_delay_seconds=2, release_poll_interval=0.2, **RETRY)
    placed = [await checkout.place() for _ in range(3)]
    stuck = placed[0]
    # a row trigger refuses any change to this order: its release, and the failure's record
    await checkout.pool.execute(
        f"""CREATE FUNCTION refuse_changes() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'order frozen by the test'; END $$;
            CREATE TRIGGER refuse_changes BEFORE UPDATE ON orders FOR EACH ROW
            WHEN (OLD.id = '{UUID(stuck["id"])}' AND OLD.status = 'confirmed')
            EXECUTE FUNCTION refuse_changes()"""
    )
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        for order in placed:
            await checkout.authorize(order)
        for order in placed[1:]:
            await checkout.wait_for_status(order["id"], "released", timeout=20)
        await asyncio.sleep(3.0)  # 15 polls; the backoff held in memory allows 3 attempts
        attempts = [e for e in logs if e["event"] == "order_release_failed"]
        assert 1 <= len(attempts) <= 3, len(attempts)
        assert any(e["event"] == "order_release_failure_not_recorded" for e in logs)
        assert (await checkout.get(stuck["id"]))["status"] == "confirmed"
        await checkout.pool.execute("DROP TRIGGER refuse_changes ON orders")
        await checkout.wait_for_status(stuck["id"], "released", timeout=10)
