"""Notifications against the real stack: Kafka in, Mailpit out, a fresh database per test.

Mailpit is shared by every test and every helper: a test never clears it, it searches for the
messages of its own unique recipient address.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from fastapi import FastAPI
from jg_devstack import Endpoints
from jg_devstack.drivers import received_at
from jg_devstack.kafka_records import publish_raw
from jg_events import Envelope, Event, LinkSealer, kafka_headers, sealed_link_of, topic_name
from jg_events.examples import EXAMPLE_LINK_SEALING_KEY
from jg_messaging import Environment, PlatformSettings
from jg_shop import SellerIdentity
from notifications.app import create_app
from notifications.handlers import TOPICS
from notifications.settings import NotificationsSettings

INTERNAL_TOKEN = "test-internal-token"
LINK_KEY = "test-link-sealing-key-of-accounts-and-notifications"
EXAMPLE_LINKS = LinkSealer(EXAMPLE_LINK_SEALING_KEY)
LINKS = LinkSealer(LINK_KEY)

# A minimal valid one-page PDF ("Facture F-TEST").
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R"
    b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
    b"4 0 obj<</Length 44>>stream\nBT /F1 18 Tf 72 770 Td (Facture F-TEST) Tj ET\n"
    b"endstream endobj\n"
    b"5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

# The seller's identity the tests configure (JG_SELLER_*), distinct from the samples.
SELLER = SellerIdentity(
    legal_name="Kumo Trading SARL",
    legal_form="SARL au capital de 25 000 €",
    address="1 rue de l'Exemple\n75001 Paris\nFrance",
    phone="+33 1 80 00 00 01",
    email="service@kumo.example",
    siren="987654321",
    rcs="RCS Paris 987 654 321",
    vat_number="FR45987654321",
    mediator_name="CM2C",
    mediator_url="https://www.cm2c.net",
    terms_url="https://www.kumo.example/cgv",
)


# --- Mailpit ----------------------------------------------------------------------------------


@dataclass
class Mailpit:
    """Reads what really arrived in Mailpit through its REST API."""

    api: str

    async def search(self, recipient: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.api, timeout=10) as client:
            response = await client.get(
                "/api/v1/search", params={"query": f'to:"{recipient}"', "limit": 200}
            )
            response.raise_for_status()
            messages: list[dict[str, Any]] = response.json()["messages"]
        exact = [m for m in messages if any(to["Address"] == recipient for to in m.get("To") or [])]
        return sorted(exact, key=received_at)

    async def wait_for(
        self, recipient: str, count: int, *, timeout: float = 30.0, settle: float = 0.0
    ) -> list[dict[str, Any]]:
        """Poll until ``count`` messages arrived; then keep looking ``settle`` seconds more."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        messages = await self.search(recipient)
        while len(messages) < count and loop.time() < deadline:
            await asyncio.sleep(0.25)
            messages = await self.search(recipient)
        if settle:
            await asyncio.sleep(settle)
            messages = await self.search(recipient)
        return messages

    async def message(self, message_id: str) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.api, timeout=10) as client:
            response = await client.get(f"/api/v1/message/{message_id}")
            response.raise_for_status()
            result: dict[str, Any] = response.json()
            return result

    async def part(self, message_id: str, part_id: str) -> bytes:
        async with httpx.AsyncClient(base_url=self.api, timeout=10) as client:
            response = await client.get(f"/api/v1/message/{message_id}/part/{part_id}")
            response.raise_for_status()
            return response.content

    async def headers(self, message_id: str) -> dict[str, list[str]]:
        async with httpx.AsyncClient(base_url=self.api, timeout=10) as client:
            response = await client.get(f"/api/v1/message/{message_id}/headers")
            response.raise_for_status()
            result: dict[str, list[str]] = response.json()
            return result


@pytest.fixture
def mailpit(stack: Endpoints) -> Mailpit:
    return Mailpit(stack.mailpit_api_url)


@pytest.fixture
def recipient() -> str:
    """An address no other test uses, to find this test's emails in the shared Mailpit."""
    return f"camille.{uuid.uuid4().hex[:12]}@example.fr"


# --- A small real HTTP server standing in for payment's invoice download -----------------------


@dataclass
class InvoiceServer:
    url: str
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    failures_left: int = 0
    delay: float = 0.0  # seconds before answering (a slow payment API)


@pytest.fixture
def invoice_server() -> Iterator[InvoiceServer]:
    """Serves ``PDF`` at any ``/invoices/<number>.pdf`` to the internal token only."""
    state = InvoiceServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, self.headers.get("Authorization")))
            if state.delay:
                time.sleep(state.delay)
            if self.headers.get("Authorization") != f"Bearer {INTERNAL_TOKEN}":
                self.send_response(401)
                self.end_headers()
                return
            if state.failures_left > 0:  # payment briefly unavailable
                state.failures_left -= 1
                self.send_response(503)
                self.end_headers()
                return
            if not (self.path.startswith("/invoices/") and self.path.endswith(".pdf")):
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(PDF)))
            self.end_headers()
            self.wfile.write(PDF)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    """A local port with nothing listening (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- The service ------------------------------------------------------------------------------


@dataclass
class Notifications:
    """What a test needs: settings, the database, a way to publish and to (re)start the app."""

    stack: Endpoints
    base: NotificationsSettings

    @property
    def prefix(self) -> str:
        return self.base.platform.topic_prefix

    def settings(self, **overrides: Any) -> NotificationsSettings:
        return self.base.model_copy(update=overrides)

    @contextlib.asynccontextmanager
    async def running(self, app: FastAPI | None = None, **overrides: Any) -> AsyncIterator[FastAPI]:
        """The app with its lifespan (database, consumers, dispatcher), stopped on exit."""
        app = app or create_app(self.settings(**overrides))
        async with app.router.lifespan_context(app):
            yield app

    async def publish(self, *envelopes: Envelope[Any]) -> None:
        by_topic: dict[str, list[tuple[bytes, bytes, dict[str, str]]]] = {}
        for envelope in envelopes:
            topic = topic_name(type(envelope.payload).topic, self.prefix)
            by_topic.setdefault(topic, []).append(
                (envelope.key.encode(), envelope.to_json_bytes(), kafka_headers(envelope))
            )
        for topic, messages in by_topic.items():
            await publish_raw(self.stack.kafka_bootstrap, topic, messages)

    async def db(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.base.database_url.get_secret_value())

    async def rows(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await self.db()
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    async def wait_rows(
        self,
        query: str,
        *args: Any,
        until: Callable[[list[asyncpg.Record]], bool],
        timeout: float = 30,
    ) -> list[asyncpg.Record]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        rows = await self.rows(query, *args)
        while not until(rows) and loop.time() < deadline:
            await asyncio.sleep(0.2)
            rows = await self.rows(query, *args)
        return rows


async def create_topics(bootstrap: str, prefix: str) -> None:
    """Create the consumed topics up front, so the consumer sees them from its first poll."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(topic_name(t, prefix), num_partitions=3, replication_factor=1)
                for t in TOPICS
            ]
        )
    finally:
        await admin.close()


@pytest.fixture
async def notifications(
    stack: Endpoints,
    topic_prefix: str,
    fresh_database: Callable[..., str],
    invoice_server: InvoiceServer,
) -> Notifications:
    await create_topics(stack.kafka_bootstrap, topic_prefix)
    base = NotificationsSettings(
        platform=PlatformSettings(
            environment=Environment.TEST,
            kafka_bootstrap_servers=stack.kafka_bootstrap,
            topic_prefix=topic_prefix,
        ),
        database_url=fresh_database(),
        smtp_host=stack.mailpit_smtp_host,
        smtp_port=stack.mailpit_smtp_port,
        payment_base_url=invoice_server.url,
        payment_internal_token=INTERNAL_TOKEN,
        link_sealing_key=LINK_KEY,
        dispatch_poll_interval=0.2,
        retry_first_delay=0.2,
        retry_max_delay=1.0,
        send_lease=5.0,
        retry_attempts=2,
        seller=SELLER,
    )
    return Notifications(stack=stack, base=base)


# --- Events for one customer ------------------------------------------------------------------


def for_customer(event: Event, email: str, **changes: Any) -> Any:
    """A copy of ``event`` addressed to ``email`` (order events: the contact; account events).

    An account link (an example's, sealed with the example key) is sealed again as accounts
    would seal it for this customer and recipient, with the key the tests give notifications.
    """
    data = event.model_dump()
    if "customer" in data:
        data["customer"] = {**data["customer"], "email": email}
    elif "email" in data:
        data["email"] = email
    data.update(changes)
    copy = type(event).model_validate(data)
    before, after = sealed_link_of(event), sealed_link_of(copy)
    if before is None or after is None or after.sealed != before.sealed:
        return copy  # no link, or the test gave its own
    link = EXAMPLE_LINKS.open(
        before.sealed,
        purpose=before.purpose,
        customer_id=before.customer_id,
        recipient=before.recipient,
    )
    field = next(name for name, value in data.items() if value == before.sealed)
    data[field] = LINKS.seal(
        link, purpose=after.purpose, customer_id=after.customer_id, recipient=after.recipient
    )
    return type(event).model_validate(data)


def wrap(event: Event) -> Envelope[Any]:
    return Envelope.wrap(event, correlation_id=f"test-{uuid.uuid4().hex[:8]}")
