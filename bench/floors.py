"""What the platform is compared with, measured in the same run: a no-work relay chain over the
same Kafka hops, the Stripe stand-in's own capacity, Mailpit's own capacity."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


async def create_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names]
        )
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()


def _producer(bootstrap: str) -> AIOKafkaProducer:
    # As the services' outbox relays publish: idempotent, acks from all replicas.
    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)


async def _assigned(consumer: AIOKafkaConsumer, ready: list[str]) -> None:
    """Wait until the group gave ``consumer`` its partitions (polling drives the join)."""
    deadline = time.monotonic() + 60
    while not consumer.assignment() and time.monotonic() < deadline:
        await consumer.getmany(timeout_ms=100)
    ready.append("ok")


def _consumer(bootstrap: str, topic: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


async def relay_chain(
    bootstrap: str, prefix: str, messages: int, partitions: int
) -> dict[str, Any]:
    """checkout → payment → checkout → notifications with no work: each relay consumes a record
    and produces one, committing its offsets after each batch; the sink counts arrivals."""
    topics = [f"{prefix}floor.orders", f"{prefix}floor.payments", f"{prefix}floor.confirmed"]
    await create_topics(bootstrap, topics, partitions)
    group = f"{prefix}floor"
    done = asyncio.Event()
    ready: list[str] = []
    arrivals: list[float] = []

    async def relay(source: str, target: str, name: str) -> None:
        consumer = _consumer(bootstrap, source, f"{group}.{name}")
        producer = _producer(bootstrap)
        await consumer.start()
        await producer.start()
        await _assigned(consumer, ready)
        try:
            while not done.is_set():
                batch = await consumer.getmany(timeout_ms=100)
                sent = [
                    await producer.send(target, key=r.key, value=r.value)
                    for records in batch.values()
                    for r in records
                ]
                if sent:
                    await asyncio.gather(*sent)
                    await consumer.commit()
        finally:
            await consumer.stop()
            await producer.stop()

    async def sink() -> None:
        consumer = _consumer(bootstrap, topics[2], f"{group}.notifications")
        await consumer.start()
        await _assigned(consumer, ready)
        try:
            while len(arrivals) < messages:
                batch = await consumer.getmany(timeout_ms=100)
                now = time.perf_counter()
                count = sum(len(r) for r in batch.values())
                arrivals.extend([now] * count)
                if count:
                    await consumer.commit()
        finally:
            await consumer.stop()
            done.set()

    workers = [
        asyncio.create_task(relay(topics[0], topics[1], "payment")),
        asyncio.create_task(relay(topics[1], topics[2], "checkout")),
        asyncio.create_task(sink()),
    ]
    deadline = time.monotonic() + 60
    while len(ready) < len(workers) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)  # every consumer holds its partitions before the first record
    producer = _producer(bootstrap)
    await producer.start()
    value = json.dumps({"type": "OrderPlaced", "payload": {"x": "y" * 800}}).encode()
    began = time.perf_counter()
    try:
        futures = [
            await producer.send(topics[0], key=str(uuid.uuid4()).encode(), value=value)
            for _ in range(messages)
        ]
        await asyncio.gather(*futures)
        await asyncio.wait_for(asyncio.shield(workers[2]), timeout=120)
    finally:
        await producer.stop()
        done.set()
        await asyncio.gather(*workers, return_exceptions=True)
        await delete_topics(bootstrap, topics)
    elapsed = arrivals[-1] - began
    return {"per_s": messages / elapsed, "unit": "msg/s", "messages": messages, "seconds": elapsed}


async def stripe_capacity(
    base_url: str, api_key: str, intents: int, clients: int
) -> dict[str, Any]:
    """Confirmed PaymentIntents per second (a card PaymentMethod, then an intent created and
    confirmed with a manual capture, as payment authorises an order), ``clients`` at a time."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(intents):
        queue.put_nowait(n)
    confirmed = 0
    year = str(datetime.now(UTC).year + 3)

    async def client() -> None:
        nonlocal confirmed
        async with httpx.AsyncClient(
            base_url=base_url, timeout=60.0, headers={"Authorization": f"Bearer {api_key}"}
        ) as http:
            while not queue.empty():
                queue.get_nowait()
                pm = await http.post(
                    "/v1/payment_methods",
                    data={
                        "type": "card",
                        "card[number]": "4242424242424242",
                        "card[exp_month]": "12",
                        "card[exp_year]": year,
                        "card[cvc]": "123",
                    },
                )
                pm.raise_for_status()
                intent = await http.post(
                    "/v1/payment_intents",
                    data={
                        "amount": "4990",
                        "currency": "eur",
                        "payment_method": pm.json()["id"],
                        "payment_method_types[]": "card",
                        "capture_method": "manual",
                        "confirm": "true",
                    },
                )
                intent.raise_for_status()
                if intent.json()["status"] == "requires_capture":
                    confirmed += 1

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - began
    return {
        "per_s": confirmed / elapsed,
        "unit": "intents/s",
        "intents": confirmed,
        "clients": clients,
        "seconds": elapsed,
    }


async def mailpit_capacity(
    smtp_host: str, smtp_port: int, api_url: str, messages: int, clients: int
) -> dict[str, Any]:
    """Messages per second Mailpit accepts over SMTP (aiosmtplib, one connection per client,
    a message the size of an order confirmation); the messages are deleted afterwards."""
    domain = f"floor-{uuid.uuid4().hex[:10]}.example.fr"
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(messages):
        queue.put_nowait(n)
    body = "Bonjour,\n\nVotre commande est confirmée.\n" + "Ligne de commande\n" * 300

    async def client() -> None:
        smtp = aiosmtplib.SMTP(hostname=smtp_host, port=smtp_port, start_tls=False)
        await smtp.connect()
        try:
            while not queue.empty():
                n = queue.get_nowait()
                message = EmailMessage()
                message["From"] = "contact@japangoodz.com"
                message["To"] = f"floor{n}@{domain}"
                message["Subject"] = f"Plancher de mesure n° {n}"
                message.set_content(body)
                await smtp.send_message(message)
        finally:
            await smtp.quit()

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - began
    async with httpx.AsyncClient(base_url=api_url, timeout=60.0) as http:
        await http.request("DELETE", "/api/v1/search", params={"query": f'to:"{domain}"'})
    return {
        "per_s": messages / elapsed,
        "unit": "msg/s",
        "messages": messages,
        "clients": clients,
        "seconds": elapsed,
    }
