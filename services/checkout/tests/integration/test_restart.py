"""The release scheduler is durable: a service killed during the window still releases once."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from checkout.settings import CheckoutSettings
from jg_devstack import Endpoints

from .conftest import TOKEN, authorized, feed, order_body, running

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def service_process(tmp_path: Path) -> Iterator[Callable[[CheckoutSettings], Any]]:
    """Start `python -m checkout` as a real process; whatever is left is killed at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(settings: CheckoutSettings) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "JG_ENVIRONMENT": "test",
            "JG_KAFKA_BOOTSTRAP_SERVERS": settings.platform.kafka_bootstrap_servers,
            "JG_TOPIC_PREFIX": settings.platform.topic_prefix,
            "JG_LOG_JSON": "true",
            "CHECKOUT_DATABASE_URL": settings.database_url.get_secret_value(),
            "CHECKOUT_HTTP_PORT": str(settings.http_port),
            "CHECKOUT_STOREFRONT_TOKEN": TOKEN,
            "CHECKOUT_RELEASE_DELAY_SECONDS": str(settings.release_delay_seconds),
            "CHECKOUT_RELEASE_POLL_INTERVAL": "0.2",
        }
        log = (tmp_path / "checkout.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "checkout"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


async def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(base_url=url) as client:
        while True:
            try:
                if (await client.get("/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert asyncio.get_running_loop().time() < deadline, "the service never got ready"
            await asyncio.sleep(0.2)


async def test_a_service_killed_during_the_window_still_releases_the_order_once(
    make_settings: Callable[..., CheckoutSettings],
    service_process: Callable[[CheckoutSettings], subprocess.Popen[bytes]],
    stack: Endpoints,
) -> None:
    settings = make_settings(http_port=free_port(), release_delay_seconds=4)
    process = service_process(settings)
    url = f"http://127.0.0.1:{settings.http_port}"
    await wait_ready(url)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ) as client:
        response = await client.post(
            "/orders", json=order_body(), headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        assert response.status_code == 201, response.text
        order = response.json()

        payment = authorized(order)
        await feed(stack, settings.platform.topic_prefix, payment.topic, payment)
        deadline = asyncio.get_running_loop().time() + 30
        while (await client.get(f"/orders/{order['id']}")).json()["status"] != "confirmed":
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.1)

    process.send_signal(signal.SIGKILL)  # no shutdown, no goodbye
    process.wait(10)
    # what the killed service left: a confirmed order whose release is still to come
    conn = await asyncpg.connect(settings.database_url.get_secret_value())
    try:
        row = await conn.fetchrow(
            "SELECT status, release_at > now() AS pending FROM orders WHERE id = $1",
            uuid.UUID(order["id"]),
        )
    finally:
        await conn.close()
    assert (row["status"], row["pending"]) == ("confirmed", True)

    async with running(settings, stack) as restarted:
        released = await restarted.wait_for_status(order["id"], "released", timeout=20)
        assert released["released_at"] >= released["modifiable_until"]
        events = await restarted.events_of(order["id"], 3, settle=2.0)
    assert [e.type for e in events] == ["OrderPlaced", "OrderConfirmed", "OrderReleased"]


async def test_two_instances_on_one_database_release_an_order_exactly_once(
    make_settings: Callable[..., CheckoutSettings], stack: Endpoints
) -> None:
    settings = make_settings(release_delay_seconds=2, release_poll_interval=0.05)
    async with running(settings, stack) as first:
        orders = [await first.confirmed() for _ in range(4)]
        async with running(settings, stack) as second:
            for order in orders:
                await second.wait_for_status(order["id"], "released", timeout=20)
            events = await second.published(4 * 3, settle=2.0)
    releases = [e.key for e in events if e.type == "OrderReleased"]
    assert sorted(releases) == sorted(o["id"] for o in orders)
