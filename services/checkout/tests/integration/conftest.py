"""Checkout against the real stack: the app on a fresh database, driven over HTTP and Kafka."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from checkout.app import create_app
from checkout.scheduler import ReleaseScheduler
from checkout.settings import CheckoutSettings
from fastapi import FastAPI
from jg_devstack import Endpoints
from jg_devstack.kafka_records import publish_raw, read_events
from jg_devstack.tokens import verifier_for_tests
from jg_events import (
    CustomerContact,
    Envelope,
    Event,
    PaymentAuthorized,
    PaymentMethodType,
    Topic,
    kafka_headers,
    topic_name,
)
from jg_messaging import PlatformSettings

TOKEN = "test-storefront-token"


def order_body(**changes: Any) -> dict[str, Any]:
    address = {
        "first_name": "Camille",
        "last_name": "Durand",
        "line1": "12 rue des Lilas",
        "line2": "Bâtiment B",
        "postal_code": "69003",
        "city": "Lyon",
        "country_code": "FR",
        "phone": "+33612345678",
    }
    body: dict[str, Any] = {
        "contact": {
            "email": "camille.durand@example.fr",
            "first_name": "Camille",
            "last_name": "Durand",
        },
        "lines": [
            {"sku": "MATCHA-KYOTO-100", "quantity": 3},
            {"sku": "FUROSHIKI-SAKURA", "quantity": 1},
        ],
        "shipping_address": address,
        "billing_address": dict(address),
        "shipping_method": "standard",
        "payment": {"type": "card", "stripe_payment_method_id": "pm_card_visa"},
    }
    body.update(changes)
    return body


@dataclass
class Checkout:
    """A running checkout app and what a test needs to drive it."""

    app: FastAPI
    http: httpx.AsyncClient
    settings: CheckoutSettings
    stack: Endpoints

    @property
    def prefix(self) -> str:
        return self.settings.platform.topic_prefix

    @property
    def pool(self) -> asyncpg.Pool:
        return self.app.state.runtime.pool

    @property
    def scheduler(self) -> ReleaseScheduler:
        return self.app.state.scheduler

    async def place(self, body: dict[str, Any] | None = None, key: str | None = None) -> Any:
        response = await self.http.post(
            "/orders",
            json=body or order_body(),
            headers={"Idempotency-Key": key or str(uuid.uuid4())},
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def get(self, order_id: str) -> Any:
        response = await self.http.get(f"/orders/{order_id}")
        assert response.status_code == 200, response.text
        return response.json()

    async def wait_for(
        self, order_id: str, predicate: Callable[[Any], bool], timeout: float = 30.0
    ) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            order = await self.get(order_id)
            if predicate(order):
                return order
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"order never reached the condition: {order['status']}")
            await asyncio.sleep(0.1)

    async def wait_for_status(self, order_id: str, status: str, timeout: float = 30.0) -> Any:
        return await self.wait_for(order_id, lambda o: o["status"] == status, timeout)

    async def feed(self, topic: Topic, *payloads: Event) -> list[Envelope[Any]]:
        return await feed(self.stack, self.prefix, topic, *payloads)

    async def authorize(self, order: Any, revision: int = 0) -> None:
        await self.feed(Topic.PAYMENT_PAYMENTS, authorized(order, revision))

    async def confirmed(self, body: dict[str, Any] | None = None) -> Any:
        order = await self.place(body)
        await self.authorize(order)
        return await self.wait_for(order["id"], lambda o: o["confirmed_at"] is not None)

    async def published(
        self, count: int, *, timeout: float = 20.0, settle: float = 0.0
    ) -> list[Envelope[Any]]:
        return await read_events(
            self.stack.kafka_bootstrap,
            topic_name(Topic.CHECKOUT_ORDERS, self.prefix),
            count=count,
            timeout=timeout,
            settle=settle,
        )

    async def events_of(self, order_id: str, count: int, **kwargs: Any) -> list[Envelope[Any]]:
        """The events of one order, in partition order (waits for at least ``count`` overall)."""
        return [e for e in await self.published(count, **kwargs) if e.key == order_id]


async def feed(
    stack: Endpoints, prefix: str, topic: Topic, *payloads: Event
) -> list[Envelope[Any]]:
    """Publish events as their producer would (envelope, key, headers)."""
    envelopes = [Envelope.wrap(p, correlation_id=f"test-{uuid.uuid4()}") for p in payloads]
    await publish_raw(
        stack.kafka_bootstrap,
        topic_name(topic, prefix),
        [(e.key.encode(), e.to_json_bytes(), kafka_headers(e)) for e in envelopes],
    )
    return envelopes


def contact_of(order: Any) -> CustomerContact:
    return CustomerContact.model_validate(order["customer"])


def authorized(order: Any, revision: int = 0) -> PaymentAuthorized:
    return PaymentAuthorized(
        order_id=order["id"],
        order_number=order["number"],
        customer=contact_of(order),
        payment_intent_id=f"pi_{uuid.uuid4().hex[:24]}",
        amount=Decimal(order["totals"]["total"]),
        order_revision=revision,
        payment_method_type=PaymentMethodType.CARD,
        card_brand="visa",
        card_last4="4242",
    )


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def make_settings(
    stack: Endpoints, fresh_database: Callable[..., str], topic_prefix: str
) -> Callable[..., CheckoutSettings]:
    def make(database_url: str | None = None, **overrides: Any) -> CheckoutSettings:
        values: dict[str, Any] = {
            "database_url": database_url or fresh_database(),
            "platform": PlatformSettings(
                kafka_bootstrap_servers=stack.kafka_bootstrap,
                topic_prefix=topic_prefix,
                environment="test",
            ),
            "storefront_token": TOKEN,
            "release_delay_seconds": 300,
            "release_poll_interval": 0.2,
            "outbox_poll_interval": 0.5,
            "retry_attempts": 2,
        }
        values.update(overrides)
        return CheckoutSettings(**values)

    return make


@contextlib.asynccontextmanager
async def running(settings: CheckoutSettings, stack: Endpoints) -> AsyncIterator[Checkout]:
    app = create_app(settings, verifier=verifier_for_tests())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://checkout.test",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
        ) as client:
            yield Checkout(app=app, http=client, settings=settings, stack=stack)


@pytest.fixture
async def start(
    make_settings: Callable[..., CheckoutSettings], stack: Endpoints
) -> AsyncIterator[Callable[..., Any]]:
    """``await start(**settings)`` runs a checkout app for the test (stopped afterwards)."""
    async with contextlib.AsyncExitStack() as stack_of_apps:

        async def _start(**overrides: Any) -> Checkout:
            return await stack_of_apps.enter_async_context(
                running(make_settings(**overrides), stack)
            )

        yield _start
