"""Accounts against the real stack: the app on a fresh database, driven over HTTP and Kafka."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from accounts.app import create_app
from accounts.settings import AccountsSettings
from fastapi import FastAPI
from jg_auth import AuthSettings
from jg_devstack import Endpoints
from jg_devstack.kafka_records import publish_raw, read_events
from jg_events import (
    Envelope,
    Event,
    LinkSealer,
    Topic,
    kafka_headers,
    sealed_link_of,
    topic_name,
)
from jg_messaging import PlatformSettings

OPERATOR = "test-operator-token"
PASSWORD = "Kintsugi-Tasse-42"
NEW_PASSWORD = "Furoshiki#Sakura-2026"
ISSUER = "http://accounts.test"
AUDIENCE = "japangoodz"


@dataclass
class Accounts:
    """A running accounts app and what a test needs to drive it."""

    app: FastAPI
    http: httpx.AsyncClient
    settings: AccountsSettings
    stack: Endpoints

    @property
    def prefix(self) -> str:
        return self.settings.platform.topic_prefix

    @property
    def pool(self) -> asyncpg.Pool:
        return self.app.state.accounts.runtime.pool

    async def sign_up(
        self,
        email: str | None = None,
        password: str = PASSWORD,
        first_name: str = "Camille",
        last_name: str = "Durand",
    ) -> dict[str, Any]:
        email = email or f"camille.{uuid.uuid4().hex[:8]}@example.fr"
        response = await self.http.post(
            "/customers",
            json={
                "email": email,
                "password": password,
                "first_name": first_name,
                "last_name": last_name,
            },
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def login(self, email: str, password: str = PASSWORD, **kwargs: Any) -> httpx.Response:
        return await self.http.post("/login", json={"email": email, "password": password}, **kwargs)

    def link(self, envelope: Envelope[Any]) -> str:
        """The link of an account event, opened as notifications opens it (with the key)."""
        ref = sealed_link_of(envelope.payload)
        assert ref is not None, f"{envelope.type} carries no sealed link"
        sealer = LinkSealer(self.settings.link_sealing_key.get_secret_value())
        return sealer.open(
            ref.sealed, purpose=ref.purpose, customer_id=ref.customer_id, recipient=ref.recipient
        )

    async def published(
        self, count: int, *, timeout: float = 20.0, settle: float = 0.0
    ) -> list[Envelope[Any]]:
        """Events accounts really published (jg.accounts.customers), in partition order."""
        return await read_events(
            self.stack.kafka_bootstrap,
            topic_name(Topic.ACCOUNTS_CUSTOMERS, self.prefix),
            count=count,
            timeout=timeout,
            settle=settle,
        )

    async def published_of_type(
        self, event_type: str, count: int = 1, timeout: float = 20.0
    ) -> list[Envelope[Any]]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            everything = await self.published(1, timeout=2.0, settle=0.3)
            found = [e for e in everything if e.type == event_type]
            if len(found) >= count or asyncio.get_running_loop().time() > deadline:
                return found
            await asyncio.sleep(0.2)

    async def feed(self, topic: Topic, *payloads: Event) -> list[Envelope[Any]]:
        envelopes = [Envelope.wrap(p, correlation_id=f"test-{uuid.uuid4()}") for p in payloads]
        await self.feed_envelopes(topic, *envelopes)
        return envelopes

    async def feed_envelopes(self, topic: Topic, *envelopes: Envelope[Any]) -> None:
        await publish_raw(
            self.stack.kafka_bootstrap,
            topic_name(topic, self.prefix),
            [(e.key.encode(), e.to_json_bytes(), kafka_headers(e)) for e in envelopes],
        )


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


@pytest.fixture
def make_settings(
    stack: Endpoints, fresh_database: Callable[..., str], topic_prefix: str
) -> Callable[..., AccountsSettings]:
    def make(database_url: str | None = None, **overrides: Any) -> AccountsSettings:
        values: dict[str, Any] = {
            "database_url": database_url or fresh_database(),
            "platform": PlatformSettings(
                kafka_bootstrap_servers=stack.kafka_bootstrap,
                topic_prefix=topic_prefix,
                environment="test",
            ),
            "auth": AuthSettings(issuer=ISSUER, audience=AUDIENCE),
            "operator_token": OPERATOR,
            "link_sealing_key": f"test-link-key-{uuid.uuid4().hex}",
            # cheap hashing: the suite shares 2 cores (production keeps the RFC 9106 defaults)
            "argon2_time_cost": 1,
            "argon2_memory_kib": 1024,
            "argon2_parallelism": 1,
            "reset_response_seconds": 0.25,
            "trusted_proxies": ("127.0.0.1/32",),
            "outbox_poll_interval": 0.5,
            "retry_attempts": 2,
        }
        values.update(overrides)
        return AccountsSettings(**values)

    return make


@contextlib.asynccontextmanager
async def running(settings: AccountsSettings, stack: Endpoints) -> AsyncIterator[Accounts]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://accounts.test", timeout=30
        ) as client:
            yield Accounts(app=app, http=client, settings=settings, stack=stack)


@pytest.fixture
async def start(
    make_settings: Callable[..., AccountsSettings], stack: Endpoints
) -> AsyncIterator[Callable[..., Any]]:
    """``await start(**settings)`` runs an accounts app for the test (stopped afterwards)."""
    async with contextlib.AsyncExitStack() as apps:

        async def _start(**overrides: Any) -> Accounts:
            return await apps.enter_async_context(running(make_settings(**overrides), stack))

        yield _start


@pytest.fixture
async def accounts(start: Callable[..., Any]) -> Accounts:
    return await start()
