"""Fulfillment against the real stack: the app on a fresh database, driven over HTTP and Kafka."""

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from fulfillment.app import create_app
from fulfillment.handlers import Context
from fulfillment.settings import FulfillmentSettings
from jg_devstack import Endpoints
from jg_devstack.drivers import eventually
from jg_devstack.kafka_records import publish_raw, read_events
from jg_devstack.tokens import authorization, verifier_for_tests
from jg_events import (
    Address,
    Carrier,
    CustomerContact,
    DeliveryEstimate,
    Envelope,
    Event,
    OrderLine,
    OrderReleased,
    ParcelDelivered,
    ParcelItem,
    ParcelPickedUp,
    PaymentMethodType,
    ShippingMethod,
    Topic,
    Totals,
    kafka_headers,
    topic_name,
    vat_included,
)
from jg_messaging import PlatformSettings

OPERATOR_TOKEN = "test-operator-token"
STOREFRONT_TOKEN = "test-storefront-token"
T = TypeVar("T")

CATALOGUE: dict[str, tuple[str, Decimal, bool]] = {
    "MATCHA-KYOTO-100": ("Thé matcha de Kyoto, 100 g", Decimal("24.90"), False),
    "FUROSHIKI-SAKURA": ("Furoshiki en coton motif sakura, 70 cm", Decimal("16.90"), True),
    "DARUMA-ROUGE-10": ("Poupée daruma rouge, 10 cm", Decimal("12.90"), False),
    "KOKESHI-CERISIER": ("Poupée kokeshi en bois de cerisier", Decimal("27.50"), True),
    "BOL-MATCHA-RAKU": ("Bol à matcha en céramique raku", Decimal("42.00"), False),
    "THEIERE-TETSUBIN": ("Théière en fonte tetsubin, 0,8 L", Decimal("79.00"), False),
}
VAT = Decimal("20.00")
STANDARD = ShippingMethod(
    code="standard",
    label="Livraison standard depuis le Japon (Japan Post EMS)",
    price=Decimal("9.90"),
    vat_rate=VAT,
)
EXPRESS = ShippingMethod(
    code="express",
    label="Livraison express depuis le Japon (DHL Express)",
    price=Decimal("19.90"),
    vat_rate=VAT,
)
ADDRESS = Address(
    first_name="Camille",
    last_name="Durand",
    line1="12 rue des Lilas",
    line2="Bâtiment B",
    postal_code="69003",
    city="Lyon",
    country_code="FR",
    phone="+33612345678",
)


def now() -> datetime:
    return datetime.now(UTC)


def released(
    *lines: tuple[str, int],
    customer_id: uuid.UUID | None = None,
    shipping: ShippingMethod = STANDARD,
) -> OrderReleased:
    """An OrderReleased as checkout publishes it, priced from the sample catalogue."""
    order_lines = tuple(
        OrderLine(
            sku=sku,
            name=CATALOGUE[sku][0],
            quantity=quantity,
            unit_price=CATALOGUE[sku][1],
            vat_rate=VAT,
            line_total=CATALOGUE[sku][1] * quantity,
            on_sale=CATALOGUE[sku][2],
        )
        for sku, quantity in lines
    )
    subtotal = sum((line.line_total for line in order_lines), Decimal("0.00"))
    total = subtotal + shipping.price
    today = date.today()
    return OrderReleased(
        order_id=uuid.uuid4(),
        order_number=f"JG-2026-{uuid.uuid4().int % 1_000_000:06d}",
        customer=CustomerContact(
            customer_id=customer_id,
            email="camille.durand@example.fr",
            first_name="Camille",
            last_name="Durand",
        ),
        revision=0,
        placed_at=now() - timedelta(minutes=10),
        lines=order_lines,
        totals=Totals(
            subtotal=subtotal,
            shipping=shipping.price,
            total=total,
            vat=vat_included(total, VAT),
        ),
        shipping_address=ADDRESS,
        billing_address=ADDRESS,
        shipping_method=shipping,
        payment_method_type=PaymentMethodType.CARD,
        delivery_estimate=DeliveryEstimate(
            earliest=today + timedelta(days=14), latest=today + timedelta(days=21)
        ),
    )


def picked_up(
    order: OrderReleased,
    tracking_number: str,
    *,
    carrier: Carrier = Carrier.JAPAN_POST_EMS,
    at: datetime | None = None,
    items: list[tuple[str, int]] | None = None,
) -> ParcelPickedUp:
    return ParcelPickedUp(
        order_id=order.order_id,
        carrier=carrier,
        tracking_number=tracking_number,
        items=tuple(
            ParcelItem(sku=sku, quantity=q)
            for sku, q in (items or [(line.sku, line.quantity) for line in order.lines])
        ),
        picked_up_at=at or now() - timedelta(hours=1),
    )


def delivered(
    order: OrderReleased, tracking_number: str, at: datetime | None = None
) -> ParcelDelivered:
    return ParcelDelivered(
        order_id=order.order_id, tracking_number=tracking_number, delivered_at=at or now()
    )


@dataclass
class Fulfillment:
    """A running fulfillment app and what a test needs to drive it."""

    app: FastAPI
    http: httpx.AsyncClient
    settings: FulfillmentSettings
    stack: Endpoints

    storefront: ClassVar[dict[str, str]] = {"Authorization": f"Bearer {STOREFRONT_TOKEN}"}
    operator: ClassVar[dict[str, str]] = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}

    @staticmethod
    def customer(customer_id: uuid.UUID) -> dict[str, str]:
        return authorization(customer_id)

    @property
    def prefix(self) -> str:
        return self.settings.platform.topic_prefix

    @property
    def pool(self) -> asyncpg.Pool:
        return self.app.state.runtime.pool

    @property
    def context(self) -> Context:
        return Context(runtime=self.app.state.runtime, settings=self.settings, clock=now)

    async def feed(self, *payloads: Event) -> list[Envelope[Any]]:
        """Publish events to their topics (with this test's prefix), as their producers do."""
        envelopes = [Envelope.wrap(p, correlation_id=f"test-{uuid.uuid4()}") for p in payloads]
        for envelope in envelopes:
            await publish_raw(
                self.stack.kafka_bootstrap,
                topic_name(envelope.payload.topic, self.prefix),
                [(envelope.key.encode(), envelope.to_json_bytes(), kafka_headers(envelope))],
            )
        return envelopes

    async def published(
        self, topic: Topic, count: int, *, timeout: float = 20.0, settle: float = 0.0
    ) -> list[Envelope[Any]]:
        return await read_events(
            self.stack.kafka_bootstrap,
            topic_name(topic, self.prefix),
            count=count,
            timeout=timeout,
            settle=settle,
        )

    async def events(
        self, topic: Topic, event_type: str, count: int, **kwargs: Any
    ) -> list[Envelope[Any]]:
        """Events of one type on ``topic`` (waits until ``count`` of that type arrived)."""

        async def probe() -> list[Envelope[Any]]:
            found = await self.published(topic, 0, timeout=5.0, settle=0.8)
            return [e for e in found if e.type == event_type]

        return await eventually(
            probe, lambda found: len(found) >= count, what=f"{count} {event_type}", **kwargs
        )

    async def order(self, order_id: uuid.UUID) -> dict[str, Any] | None:
        response = await self.http.get(f"/orders/{order_id}", headers=self.storefront)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def wait_for_status(self, order_id: uuid.UUID, status: str) -> dict[str, Any]:
        order = await eventually(
            lambda: self.order(order_id),
            lambda o: o is not None and o["status"] == status,
            what=f"order {order_id} {status}",
        )
        assert order is not None
        return order

    async def set_stock(self, sku: str, on_hand: int) -> dict[str, Any]:
        name = CATALOGUE.get(sku, (sku,))[0]
        response = await self.http.put(
            f"/operator/stock/{sku}",
            json={"name_fr": name, "on_hand": on_hand, "note": "test inventory"},
            headers=self.operator,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def stock(self, sku: str) -> dict[str, Any]:
        response = await self.http.get(f"/operator/stock/{sku}", headers=self.operator)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def rejected_reports(self) -> list[dict[str, Any]]:
        response = await self.http.get("/operator/rejected-reports", headers=self.operator)
        assert response.status_code == 200, response.text
        return list(response.json())

    async def delivered_order(
        self,
        *lines: tuple[str, int],
        customer_id: uuid.UUID | None = None,
        delivered_at: datetime | None = None,
        shipping: ShippingMethod = STANDARD,
    ) -> OrderReleased:
        """Release an order in stock, then report its parcel picked up and delivered."""
        order = released(*lines, customer_id=customer_id, shipping=shipping)
        await self.feed(order)
        await self.wait_for_status(order.order_id, "processing")
        at = delivered_at or now() - timedelta(hours=2)
        number = f"EN{uuid.uuid4().int % 10**9:09d}JP"
        await self.feed(
            picked_up(order, number, at=at - timedelta(days=4)), delivered(order, number, at)
        )
        await self.wait_for_status(order.order_id, "delivered")
        return order


@pytest.fixture
def make_settings(
    stack: Endpoints, fresh_database: Callable[..., str], topic_prefix: str
) -> Callable[..., FulfillmentSettings]:
    def make(database_url: str | None = None, **overrides: Any) -> FulfillmentSettings:
        values: dict[str, Any] = {
            "database_url": database_url or fresh_database(),
            "platform": PlatformSettings(
                kafka_bootstrap_servers=stack.kafka_bootstrap,
                topic_prefix=topic_prefix,
                environment="test",
            ),
            "operator_token": OPERATOR_TOKEN,
            "storefront_token": STOREFRONT_TOKEN,
            "outbox_poll_interval": 0.5,
            "retry_attempts": 2,
        }
        values.update(overrides)
        return FulfillmentSettings(**values)

    return make


@contextlib.asynccontextmanager
async def running(settings: FulfillmentSettings, stack: Endpoints) -> AsyncIterator[Fulfillment]:
    app = create_app(settings, verifier=verifier_for_tests())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://fulfillment.test", timeout=30
        ) as client:
            yield Fulfillment(app=app, http=client, settings=settings, stack=stack)


@pytest.fixture
async def start(
    make_settings: Callable[..., FulfillmentSettings], stack: Endpoints
) -> AsyncIterator[Callable[..., Awaitable[Fulfillment]]]:
    """``await start(**settings)`` runs a fulfillment app for the test (stopped afterwards)."""
    async with contextlib.AsyncExitStack() as apps:

        async def _start(**overrides: Any) -> Fulfillment:
            return await apps.enter_async_context(running(make_settings(**overrides), stack))

        yield _start


@pytest.fixture
async def service(start: Callable[..., Awaitable[Fulfillment]]) -> Fulfillment:
    return await start()
