"""tools/erasure_replay.py against the real PostgreSQL and Kafka, with accounts and checkout
running: checkout's database is restored from a backup taken before a customer's erasure, so the
customer's order is back; the operator replays the erasure list since the backup and the order
is erased again, while accounts (which had applied it) neither erases twice nor announces it
twice."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from accounts.app import create_app as create_accounts
from accounts.settings import AccountsSettings
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from checkout.app import create_app as create_checkout
from checkout.settings import CheckoutSettings
from jg_auth import AuthSettings
from jg_devstack import Endpoints, config
from jg_devstack.databases import database_name_of
from jg_devstack.drivers import eventually
from jg_devstack.kafka_records import read_events
from jg_devstack.tokens import verifier_for_tests
from jg_events import Topic, topic_name
from jg_messaging import PlatformSettings
from jg_messaging.consumer import consumer_group

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STOREFRONT = "ops-storefront-token"
PASSWORD = "Kintsugi-Tasse-42"
EMAIL = f"hortense.{uuid.uuid4().hex[:8]}@example.fr"


async def read_past(stack: Endpoints, topic: str, group: str) -> bool:
    """Whether ``group`` committed, on every partition of ``topic``, the end of the log."""
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        partitions = [p for p in committed if p.topic == topic]
        ends = await consumer.end_offsets(partitions)
        return bool(partitions) and all(committed[p].offset == ends[p] for p in partitions)
    finally:
        await consumer.stop()
        await admin.close()


def erasure_tool(dsn: str, *args: str) -> list[dict[str, Any]]:
    done = subprocess.run(  # the operator's command, as documented
        [sys.executable, str(ROOT / "tools" / "erasure_replay.py"), "--dsn", dsn, *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


async def back_up(dsn: str, fresh_database: Callable[..., str]) -> str:
    """A copy of the database as it is now (what a nightly base backup restores to)."""
    copy = fresh_database()
    source, target = database_name_of(dsn), database_name_of(copy)
    conn = await asyncpg.connect(config.postgres_dsn("postgres"))
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", source
        )
        await conn.execute(f'DROP DATABASE "{target}"')
        await conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    finally:
        await conn.close()
    return copy


@contextlib.asynccontextmanager
async def checkout_on(
    dsn: str, stack: Endpoints, prefix: str
) -> AsyncIterator[tuple[httpx.AsyncClient, asyncpg.Pool]]:
    settings = CheckoutSettings(
        database_url=dsn,
        platform=PlatformSettings(
            kafka_bootstrap_servers=stack.kafka_bootstrap, topic_prefix=prefix, environment="test"
        ),
        storefront_token=STOREFRONT,
        release_delay_seconds=300,
        outbox_poll_interval=0.5,
        retry_attempts=2,
    )
    app = create_checkout(settings, verifier=verifier_for_tests())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://checkout.test",
            headers={"Authorization": f"Bearer {STOREFRONT}"},
            timeout=30,
        ) as http,
    ):
        yield http, app.state.runtime.pool


@contextlib.asynccontextmanager
async def accounts_on(dsn: str, stack: Endpoints, prefix: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = AccountsSettings(
        database_url=dsn,
        platform=PlatformSettings(
            kafka_bootstrap_servers=stack.kafka_bootstrap, topic_prefix=prefix, environment="test"
        ),
        auth=AuthSettings(issuer="http://accounts.test", audience="japangoodz"),
        operator_token="ops-operator-token",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
        outbox_poll_interval=0.5,
        retry_attempts=2,
    )
    app = create_accounts(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://accounts.test", timeout=30
        ) as http,
    ):
        yield http


def order_for(customer_id: str) -> dict[str, Any]:
    address = {
        "first_name": "Hortense",
        "last_name": "Delaunay",
        "line1": "3 quai des Brumes",
        "postal_code": "76600",
        "city": "Le Havre",
        "country_code": "FR",
    }
    return {
        "contact": {
            "email": EMAIL,
            "first_name": "Hortense",
            "last_name": "Delaunay",
            "customer_id": customer_id,
        },
        "lines": [{"sku": "MATCHA-KYOTO-100", "quantity": 1}],
        "shipping_address": address,
        "billing_address": dict(address),
        "shipping_method": "standard",
        "payment": {"type": "card", "stripe_payment_method_id": "pm_card_visa"},
    }


async def customer_on_order(pool: asyncpg.Pool, order_id: str) -> tuple[str, str, bool]:
    row = await pool.fetchrow(
        "SELECT first_name, status, erased_at IS NOT NULL AS erased FROM orders WHERE id = $1",
        uuid.UUID(order_id),
    )
    assert row is not None
    return row["first_name"], row["status"], row["erased"]


async def test_an_erasure_is_applied_again_to_a_database_restored_from_before_it(
    stack: Endpoints, topic_prefix: str, fresh_database: Callable[..., str]
) -> None:
    accounts_dsn, checkout_dsn = fresh_database(), fresh_database()
    customers_topic = topic_name(Topic.ACCOUNTS_CUSTOMERS, topic_prefix)
    async with accounts_on(accounts_dsn, stack, topic_prefix) as accounts:
        signed_up = await accounts.post(
            "/customers",
            json={
                "email": EMAIL,
                "password": PASSWORD,
                "first_name": "Hortense",
                "last_name": "Delaunay",
            },
        )
        assert signed_up.status_code == 201, signed_up.text
        tokens = signed_up.json()
        customer_id = tokens["customer"]["customer_id"]
        async with checkout_on(checkout_dsn, stack, topic_prefix) as (checkout, _):
            placed = await checkout.post(
                "/orders",
                json=order_for(customer_id),
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            assert placed.status_code == 201, placed.text
            order_id = placed.json()["id"]

        backup_taken = datetime.now(UTC)
        backup = await back_up(checkout_dsn, fresh_database)

        async with checkout_on(checkout_dsn, stack, topic_prefix) as (_, pool):
            erased = await accounts.post(
                "/me/erasure",
                json={"current_password": PASSWORD},
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
            )
            assert erased.status_code == 202, erased.text
            await eventually(
                lambda: customer_on_order(pool, order_id),
                lambda found: found == ("Client", "cancelled", True),
                "the erasure applied by checkout",
            )

        # The database is restored from the backup: the order is back, with the name, and
        # checkout's consumer group has read past the erasure (its offsets are in Kafka).
        await eventually(
            lambda: read_past(stack, customers_topic, consumer_group("checkout", topic_prefix)),
            what="checkout's offsets committed past the erasure",
        )
        async with checkout_on(backup, stack, topic_prefix) as (_, restored):
            await asyncio.sleep(2.0)  # its consumer is up, and finds nothing to apply
            restored_order = await customer_on_order(restored, order_id)
            assert restored_order == ("Hortense", "pending_payment", False)

            listed = erasure_tool(accounts_dsn, "list", "--since", backup_taken.isoformat())
            assert [(r["customer_id"], r["address_kept"]) for r in listed] == [(customer_id, False)]
            assert "email" not in listed[0]
            dry = erasure_tool(
                accounts_dsn, "replay", "--since", backup_taken.isoformat(), "--dry-run"
            )
            assert [r["action"] for r in dry] == ["would replay"]
            earlier = erasure_tool(
                accounts_dsn,
                "replay",
                "--since",
                (backup_taken + timedelta(hours=1)).isoformat(),
            )
            assert earlier == []  # nothing requested after that time
            replayed = erasure_tool(accounts_dsn, "replay", "--since", backup_taken.isoformat())
            assert [r["action"] for r in replayed] == ["replayed"]

            await eventually(
                lambda: customer_on_order(restored, order_id),
                lambda found: found == ("Client", "cancelled", True),
                "the erasure applied again by the restored checkout",
            )

        # The same request (its original id) went out again, once; accounts, which had
        # applied it, did nothing more: no second CustomerErased.
        published = await read_events(stack.kafka_bootstrap, customers_topic, count=3, settle=1.5)
        requests = [e for e in published if e.type == "CustomerErasureRequested"]
        assert len(requests) == 2 and requests[0].event_id == requests[1].event_id
        assert requests[1].payload.first_name == "Client"  # the list keeps no name
        assert [e.type for e in published].count("CustomerErased") == 1

        async def copies_left() -> int:
            conn = await asyncpg.connect(accounts_dsn)
            try:
                return int(
                    await conn.fetchval(
                        "SELECT count(*) FROM messaging_outbox WHERE message_key = $1",
                        customer_id,
                    )
                )
            finally:
                await conn.close()

        await eventually(copies_left, lambda n: n == 0, "the replayed copy to be forgotten")
