"""Payment against the real stack: Kafka, PostgreSQL, localstripe and stripe-mock.

A test module starts one payment app (fresh database, its own topic prefix) and gives each test
its own orders, so the consumer group joins once per module. Events are fed to Kafka as
checkout and fulfillment would publish them; what payment publishes is read back from Kafka.
"""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
import stripe
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from fastapi import FastAPI
from jg_devstack import Endpoints
from jg_devstack.databases import create_database_async, drop_database_async
from jg_devstack.kafka_records import publish_raw
from jg_devstack.pytest_plugin import new_topic_prefix
from jg_devstack.stripe_webhooks import signed_webhook
from jg_devstack.tokens import verifier_for_tests
from jg_events import (
    CustomerContact,
    Envelope,
    Event,
    OrderCancelled,
    OrderLine,
    OrderModified,
    OrderPlaced,
    OrderReleased,
    PaymentMethodType,
    RefundRequested,
    Shipped,
    Totals,
    all_topics,
    kafka_headers,
    order_vat_shares,
    parse,
    topic_name,
)
from jg_events.examples import example
from jg_messaging import PlatformSettings
from jg_shop import SellerIdentity
from payment.app import create_app
from payment.settings import PaymentSettings

WEBHOOK_SECRET = "whsec_payment_integration_tests"
INTERNAL_TOKEN = "payment-internal-test-token"

VISA = "4242424242424242"
DECLINED = "4000000000000341"  # localstripe: attaches, then the charge is declined
THREE_D_SECURE = "4000002500003155"  # localstripe: requires authentication


class EventLog:
    """Everything payment publishes on its topic during a module, parsed, as it arrives."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.envelopes: list[Envelope[Any]] = []
        self._consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=1000,
        )
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def start(self) -> None:
        await self._consumer.start()
        self._task = asyncio.create_task(self._collect())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def _collect(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    self.envelopes.append(parse(record.value))
            if batch:
                self._changed.set()

    def of(self, order_id: UUID, event_type: str | None = None) -> list[Envelope[Any]]:
        return [
            e
            for e in self.envelopes
            if e.key == str(order_id) and (event_type is None or e.type == event_type)
        ]

    async def wait_for(
        self,
        order_id: UUID,
        event_type: str,
        *,
        count: int = 1,
        timeout: float = 30.0,
    ) -> list[Envelope[Any]]:
        """The first ``count`` events of that type for the order (fails after ``timeout``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self.of(order_id, event_type)
            if len(found) >= count:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = [e.type for e in self.of(order_id)]
                raise AssertionError(f"no {count} x {event_type} for {order_id}; saw {seen}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))

    async def quiet(self, order_id: UUID, seconds: float = 2.0) -> list[str]:
        """The order's event types after ``seconds`` without waiting for anything in particular."""
        await asyncio.sleep(seconds)
        return [e.type for e in self.of(order_id)]


@dataclass
class Payment:
    """A running payment app and what a test needs to drive it."""

    app: FastAPI
    http: httpx.AsyncClient
    settings: PaymentSettings
    stack: Endpoints
    events: EventLog
    stripe: stripe.StripeClient
    fed: list[Envelope[Any]] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return self.settings.platform.topic_prefix

    @property
    def pool(self) -> asyncpg.Pool:
        return self.app.state.runtime.pool

    async def feed(self, *payloads: Event) -> list[Envelope[Any]]:
        """Publish events on their topics as their producers would."""
        envelopes = [Envelope.wrap(p, correlation_id=f"test-{uuid.uuid4()}") for p in payloads]
        await self.replay(*envelopes)
        return envelopes

    async def replay(self, *envelopes: Envelope[Any]) -> None:
        """Publish envelopes again, byte for byte (a redelivery)."""
        for envelope in envelopes:
            await publish_raw(
                self.stack.kafka_bootstrap,
                topic_name(envelope.payload.topic, self.prefix),
                [(envelope.key.encode(), envelope.to_json_bytes(), kafka_headers(envelope))],
            )
        self.fed.extend(envelopes)

    async def webhook(
        self, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
    ) -> httpx.Response:
        body, headers = signed_webhook(event, secret, timestamp=timestamp)
        return await self.http.post("/webhooks/stripe", content=body, headers=headers)

    async def attempt(self, order_id: UUID, revision: int = 0) -> dict[str, Any]:
        row = await self.pool.fetchrow(
            "SELECT * FROM payment_attempts WHERE order_id = $1 AND revision = $2",
            order_id,
            revision,
        )
        assert row is not None, f"no attempt for {order_id} r{revision}"
        return dict(row)

    async def wait_attempt(
        self, order_id: UUID, predicate: Callable[[dict[str, Any]], bool], revision: int = 0
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while True:
            row = await self.pool.fetchrow(
                "SELECT * FROM payment_attempts WHERE order_id = $1 AND revision = $2",
                order_id,
                revision,
            )
            if row is not None and predicate(dict(row)):
                return dict(row)
            if loop.time() > deadline:
                raise AssertionError(f"attempt never reached the condition: {row}")
            await asyncio.sleep(0.1)

    async def card(self, number: str) -> str:
        """A PaymentMethod created at Stripe (localstripe) as the storefront would."""
        pm = await self.stripe.v1.payment_methods.create_async(
            {
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            }
        )
        return pm.id

    async def intent(self, payment_intent_id: str) -> dict[str, Any]:
        pi = await self.stripe.v1.payment_intents.retrieve_async(payment_intent_id)
        return pi.to_dict()


# --- Events as checkout and fulfillment publish them --------------------------------------------


def contact(customer_id: UUID | None = None) -> CustomerContact:
    return CustomerContact(
        customer_id=customer_id or uuid.uuid4(),
        email="camille.durand@example.fr",
        first_name="Camille",
        last_name="Durand",
    )


def placed(
    payment_method_id: str,
    *,
    method: PaymentMethodType = PaymentMethodType.CARD,
    customer_id: UUID | None = None,
    order_id: UUID | None = None,
) -> OrderPlaced:
    base = example(OrderPlaced).model_dump()
    base.update(
        order_id=order_id or uuid.uuid4(),
        order_number=f"JG-2026-{uuid.uuid4().int % 1_000_000:06d}",
        customer=contact(customer_id).model_dump(),
        placed_at=datetime.now(UTC),
        stripe_payment_method_id=payment_method_id,
        payment_method_type=method,
    )
    return OrderPlaced.model_validate(base)


def released(order: OrderPlaced | OrderModified) -> OrderReleased:
    base = order.model_dump(
        exclude={"stripe_payment_method_id", "previous_total", "new_total", "amount_changed"}
    )
    base["delivery_estimate"] = example(OrderReleased).delivery_estimate.model_dump()
    return OrderReleased.model_validate(base)


def modified(order: OrderPlaced, *, matcha_quantity: int) -> OrderModified:
    """The customer changes the quantity of the first line (the matcha at 19.99)."""
    base = order.model_dump(exclude={"stripe_payment_method_id"})
    lines = [dict(line) for line in base["lines"]]
    lines[0]["quantity"] = matcha_quantity
    lines[0]["line_total"] = lines[0]["unit_price"] * matcha_quantity
    subtotal = sum((line["line_total"] for line in lines), Decimal("0.00"))
    total = subtotal + order.totals.shipping
    breakdown = order_vat_shares(
        [OrderLine.model_validate(line) for line in lines], order.totals.shipping
    )
    base.update(
        revision=order.revision + 1,
        lines=lines,
        totals=Totals(
            subtotal=subtotal,
            shipping=order.totals.shipping,
            total=total,
            vat=sum((s.vat for s in breakdown), Decimal("0.00")),
            vat_breakdown=breakdown,
        ).model_dump(),
        previous_total=order.totals.total,
        new_total=total,
        amount_changed=total != order.totals.total,
    )
    return OrderModified.model_validate(base)


def cancelled(order: OrderPlaced) -> OrderCancelled:
    base = example(OrderCancelled).model_dump()
    base.update(
        order_id=order.order_id,
        order_number=order.order_number,
        customer=order.customer.model_dump(),
        total=order.totals.total,
    )
    return OrderCancelled.model_validate(base)


def shipped(order: OrderPlaced) -> Shipped:
    base = example(Shipped).model_dump()
    base.update(
        order_id=order.order_id,
        order_number=order.order_number,
        customer=order.customer.model_dump(),
        shipped_at=datetime.now(UTC),
    )
    return Shipped.model_validate(base)


def refund_requested(order: OrderPlaced, *, full: bool) -> RefundRequested:
    """A return of the matcha (partial), or of everything with the shipping (full)."""
    lines = []
    for line in order.lines if full else order.lines[:1]:
        lines.append(
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "vat_rate": line.vat_rate,
                "amount": line.line_total,
            }
        )
    shipping = order.totals.shipping if full else Decimal("0.00")
    amount = sum((line["amount"] for line in lines), Decimal("0.00")) + shipping
    base = example(RefundRequested).model_dump()
    base.update(
        order_id=order.order_id,
        order_number=order.order_number,
        customer=order.customer.model_dump(),
        refund_request_id=uuid.uuid4(),
        reference_id=uuid.uuid4(),
        lines=lines,
        shipping_refund=shipping,
        amount=amount,
    )
    return RefundRequested.model_validate(base)


def cents(amount: Decimal) -> int:
    return int(amount * 100)


# --- Running the app ---------------------------------------------------------------------------


async def create_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(
                [
                    NewTopic(name, num_partitions=3, replication_factor=1)
                    for name in all_topics(prefix)
                ]
            )
    finally:
        await admin.close()


# The seller's identity the tests configure (JG_SELLER_*), distinct from the samples so that an
# invoice shows what was configured, not a default.
SELLER = SellerIdentity(
    legal_name="Kumo Trading SARL",
    legal_form="SARL au capital de 25 000 €",
    address="8 rue Exemple\n69002 Lyon\nFrance",
    phone="+33 4 78 00 00 01",
    email="service@kumo.example",
    siren="987654321",
    rcs="RCS Lyon 987 654 321",
    vat_number="FR45987654321",
    mediator_name="CM2C",
    mediator_url="https://www.cm2c.net",
    terms_url="https://www.kumo.example/cgv",
)


def make_settings(stack: Endpoints, dsn: str, prefix: str, **overrides: Any) -> PaymentSettings:
    values: dict[str, Any] = {
        "database_url": dsn,
        "platform": PlatformSettings(
            kafka_bootstrap_servers=stack.kafka_bootstrap, topic_prefix=prefix, environment="test"
        ),
        "stripe_api_base": stack.localstripe_url,
        "stripe_api_key": stack.stripe_api_key,
        "stripe_webhook_secret": WEBHOOK_SECRET,
        "stripe_max_network_retries": 0,
        "stripe_timeout": 5.0,
        "stripe_sync_interval": 0.5,
        "stripe_lease": 10.0,
        "internal_token": INTERNAL_TOKEN,
        "seller": SELLER,
        "outbox_poll_interval": 0.5,
        "retry_attempts": 2,
    }
    values.update(overrides)
    return PaymentSettings(**values)


@contextlib.asynccontextmanager
async def running(
    settings: PaymentSettings, stack: Endpoints, *, stripe_base: str | None = None
) -> AsyncIterator[Payment]:
    """The app, started; the test talks to Stripe at ``stripe_base`` (default: the app's)."""
    prefix = settings.platform.topic_prefix
    await create_topics(stack.kafka_bootstrap, prefix)
    events = EventLog(stack.kafka_bootstrap, topic_name("jg.payment.payments", prefix))
    await events.start()
    app = create_app(settings, verifier=verifier_for_tests())
    client = stripe.StripeClient(
        stack.stripe_api_key,
        base_addresses={"api": stripe_base or settings.stripe_api_base},
        http_client=stripe.HTTPXClient(timeout=10),
    )
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://payment.test", timeout=30
            ) as http:
                yield Payment(
                    app=app,
                    http=http,
                    settings=settings,
                    stack=stack,
                    events=events,
                    stripe=client,
                )
    finally:
        await events.stop()


def unique_prefix() -> str:
    return new_topic_prefix("tpay")


@pytest.fixture(scope="module")
async def payment(stack: Endpoints) -> AsyncIterator[Payment]:
    """One payment app against localstripe for the whole module."""
    dsn = await create_database_async()
    try:
        async with running(make_settings(stack, dsn, unique_prefix()), stack) as service:
            yield service
    finally:
        await drop_database_async(dsn)
