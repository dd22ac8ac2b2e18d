"""The real local stack: one stack however often it is ensured, and every component answers."""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from collections.abc import Callable
from email.message import EmailMessage

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from jg_devstack import (
    Endpoints,
    create_database,
    drop_database,
    ensure_up,
    stack_pids,
    status,
)
from jg_devstack.components import all_components
from jg_devstack.config import SERVICE_NAMES, Paths, find_repo_root
from jg_devstack.proc import listening_inodes, pid_listens_on

pytestmark = pytest.mark.integration


def test_ensure_up_twice_leaves_one_stack(stack: Endpoints) -> None:
    before = stack_pids()
    assert ensure_up() == stack
    assert ensure_up() == stack
    assert stack_pids() == before
    states = {row.name: row.state for row in status()}
    assert set(states) == set(before)
    assert all(state.startswith("up") for state in states.values()), states
    for component in all_components(Paths(find_repo_root())):
        for port in component.ports.values():
            # One listener per port, and it is the process we recorded when we started it
            # (another checkout's stack may be the one answering: then we recorded none).
            assert len(listening_inodes(port)) == 1, (component.name, port)
            pid = before[component.name]
            if pid is not None:
                assert pid_listens_on(pid, port), (component.name, port, pid)


async def test_kafka_round_trip_with_idempotent_producer_and_consumer_group(
    stack: Endpoints, topic_prefix: str
) -> None:
    topic = f"{topic_prefix}roundtrip"
    group = f"{topic_prefix}group"
    sent = {f"order-{i}".encode(): f"payload-{i}".encode() for i in range(6)}

    producer = AIOKafkaProducer(
        bootstrap_servers=stack.kafka_bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        for key, value in sent.items():
            await producer.send_and_wait(topic, value, key=key)  # topic auto-created
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=stack.kafka_bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    received: dict[bytes, bytes] = {}
    try:
        async with asyncio.timeout(60):
            while len(received) < len(sent):
                batches = await consumer.getmany(timeout_ms=1000)
                for messages in batches.values():
                    received.update({m.key: m.value for m in messages if m.key is not None})
        await consumer.commit()
        partitions = consumer.partitions_for_topic(topic)
    finally:
        await consumer.stop()
    assert received == sent
    assert partitions == {0, 1, 2}  # num.partitions=3 applies to auto-created topics

    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    assert sum(meta.offset for meta in offsets.values()) == len(sent)


async def test_fresh_database_is_a_writable_empty_database(
    fresh_database: Callable[..., str],
) -> None:
    first, second = fresh_database(), fresh_database()
    assert first != second
    conn = await asyncpg.connect(first)
    try:
        tables = await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
        assert tables == 0
        await conn.execute("CREATE TABLE orders (id text PRIMARY KEY, total_cents bigint)")
        await conn.execute("INSERT INTO orders VALUES ('o-1', 4599)")
        assert await conn.fetchval("SELECT total_cents FROM orders WHERE id = 'o-1'") == 4599
    finally:
        await conn.close()


async def test_dropped_database_is_gone(stack: Endpoints) -> None:
    dsn = create_database()
    drop_database(dsn)
    name = dsn.rsplit("/", 1)[1]
    conn = await asyncpg.connect(stack.pg_admin_dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name) == 0
    finally:
        await conn.close()


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_each_service_owns_its_database(stack: Endpoints, service: str) -> None:
    conn = await asyncpg.connect(stack.service_dsn(service))
    try:
        tx = conn.transaction()
        await tx.start()
        await conn.execute("CREATE TABLE jg_devstack_probe (id int)")
        assert await conn.fetchval("SELECT current_user") == service
        await tx.rollback()
    finally:
        await conn.close()


async def test_localstripe_keeps_state(stack: Endpoints) -> None:
    email = f"{uuid.uuid4().hex[:8]}@example.jp"
    headers = {"Authorization": f"Bearer {stack.stripe_api_key}"}
    async with httpx.AsyncClient(base_url=stack.localstripe_url, headers=headers) as client:
        created = await client.post("/v1/customers", data={"email": email})
        assert created.status_code == 200, created.text
        fetched = await client.get(f"/v1/customers/{created.json()['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["email"] == email


async def test_stripe_mock_checks_request_shapes(stack: Endpoints) -> None:
    headers = {"Authorization": f"Bearer {stack.stripe_api_key}"}
    async with httpx.AsyncClient(base_url=stack.stripe_mock_url, headers=headers) as client:
        good = await client.post("/v1/customers", data={"email": "a@example.jp"})
        bad = await client.post("/v1/customers", data={"no_such_parameter": "x"})
    assert good.status_code == 200
    assert good.json()["object"] == "customer"
    assert bad.status_code == 400
    assert bad.json()["error"]["type"] == "invalid_request_error"
    assert "additional properties are not allowed" in bad.json()["error"]["message"]


async def test_mailpit_receives_what_smtp_sends(stack: Endpoints) -> None:
    subject = f"Votre commande {uuid.uuid4().hex[:10]}"
    message = EmailMessage()
    message["From"] = "boutique@japangoodz.example"
    message["To"] = "client@example.jp"
    message["Subject"] = subject
    message.set_content("Merci pour votre commande.")
    with smtplib.SMTP(stack.mailpit_smtp_host, stack.mailpit_smtp_port, timeout=10) as smtp:
        smtp.login("any-user", "any-password")  # Mailpit accepts any credentials
        smtp.send_message(message)

    async with httpx.AsyncClient(base_url=stack.mailpit_api_url) as client:
        async with asyncio.timeout(10):
            while True:
                found = await client.get("/api/v1/search", params={"query": f'subject:"{subject}"'})
                assert found.status_code == 200
                messages = found.json()["messages"]
                if messages:
                    break
                await asyncio.sleep(0.1)
    assert [m["Subject"] for m in messages] == [subject]
    assert messages[0]["To"][0]["Address"] == "client@example.jp"


async def test_the_stripe_stand_in_keeps_what_it_was_told_across_a_restart(
    stack: Endpoints,
) -> None:
    """It writes its state at most once a second (not on every write) and at shutdown: a
    customer created just before a clean stop is still there after the start."""
    from jg_devstack.stack import start_component, stop_component

    headers = {"Authorization": f"Bearer {stack.stripe_api_key}"}
    async with httpx.AsyncClient(base_url=stack.localstripe_url, headers=headers) as client:
        created = await client.post("/v1/customers", data={"email": "kept@example.fr"})
        customer = created.json()["id"]
        assert (await asyncio.to_thread(stop_component, "localstripe")).startswith("stopped")
        await start_component("localstripe")
        again = await client.get(f"/v1/customers/{customer}")
    assert again.status_code == 200
    assert again.json()["email"] == "kept@example.fr"


async def test_the_stripe_stand_in_lists_by_kind_before_and_after_a_restart(
    stack: Endpoints,
) -> None:
    """Its lists come from an index by kind (upstream scans the whole store in every answer
    that embeds one): a customer's cards in the order attached, a charge's refunds and what
    they sum to, a deleted customer gone from the list, as upstream's; and the index is
    rebuilt from the state read at start."""
    from jg_devstack.stack import start_component, stop_component

    headers = {"Authorization": f"Bearer {stack.stripe_api_key}"}
    card = {
        "type": "card",
        "card[number]": "4242424242424242",
        "card[exp_month]": "12",
        "card[exp_year]": "2030",
        "card[cvc]": "123",
    }
    email = f"index-{uuid.uuid4().hex[:8]}@example.fr"
    async with httpx.AsyncClient(base_url=stack.localstripe_url, headers=headers) as client:
        method = (await client.post("/v1/payment_methods", data=card)).json()["id"]
        customer = (
            await client.post("/v1/customers", data={"payment_method": method, "email": email})
        ).json()
        second = (await client.post("/v1/payment_methods", data=card)).json()["id"]
        attached = await client.post(
            f"/v1/payment_methods/{second}/attach", data={"customer": customer["id"]}
        )
        assert attached.status_code == 200, attached.text
        gone = (await client.post("/v1/customers", data={"email": email})).json()["id"]
        assert (await client.delete(f"/v1/customers/{gone}")).status_code == 200
        intent = await client.post(
            "/v1/payment_intents",
            data={
                "amount": "3490",
                "currency": "eur",
                "customer": customer["id"],
                "payment_method": method,
                "confirm": "true",
            },
        )
        assert intent.json()["status"] == "succeeded", intent.text
        charge = intent.json()["latest_charge"]
        charge_id = charge if isinstance(charge, str) else charge["id"]
        for cents in ("1000", "490"):
            refund = await client.post(
                "/v1/refunds", data={"payment_intent": intent.json()["id"], "amount": cents}
            )
            assert refund.status_code == 200, refund.text

        async def seen() -> tuple[list[str], list[str], int, int]:
            cards = await client.get(
                "/v1/payment_methods", params={"customer": customer["id"], "type": "card"}
            )
            customers = await client.get("/v1/customers", params={"email": email})
            charged = (await client.get(f"/v1/charges/{charge_id}")).json()
            return (
                [c["id"] for c in cards.json()["data"]],
                [c["id"] for c in customers.json()["data"]],
                charged["amount_refunded"],
                len(charged["refunds"]["data"]),
            )

        before = await seen()
        assert (await asyncio.to_thread(stop_component, "localstripe")).startswith("stopped")
        await start_component("localstripe")
        after = await seen()
    assert before == ([method, second], [customer["id"]], 1490, 2)
    assert after == before
