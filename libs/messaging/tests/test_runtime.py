"""A service wired by ServiceRuntime: health, readiness and its AsyncAPI document."""

import asyncio
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from jg_devstack import Endpoints
from jg_events import Envelope, OrderPlaced, Topic
from jg_messaging import (
    PrometheusMiddleware,
    ServiceRuntime,
    ServiceSettings,
    handles,
    health_router,
    lifespan,
    subscribe,
)
from prometheus_client.parser import text_string_to_metric_families
from pydantic_settings import SettingsConfigDict

pytestmark = pytest.mark.integration


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore", frozen=True)


def build(settings: DemoSettings) -> tuple[FastAPI, ServiceRuntime]:
    runtime = ServiceRuntime("payment", settings, None)
    orders = subscribe(
        runtime.broker,
        Topic.CHECKOUT_ORDERS,
        service="payment",
        topic_prefix=settings.platform.topic_prefix,
    )

    @orders(filter=handles(OrderPlaced))
    async def on_order_placed(event: Envelope[OrderPlaced]) -> None:
        return None

    runtime.declare_publications(Topic.PAYMENT_PAYMENTS)
    app = FastAPI(lifespan=lifespan(runtime))
    app.include_router(health_router(runtime))
    return app, runtime


async def test_ready_health_and_asyncapi_of_a_running_service(
    stack: Endpoints,
    fresh_database: Callable[..., str],
    topic_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JG_TOPIC_PREFIX", topic_prefix)
    monkeypatch.setenv("JG_KAFKA_BOOTSTRAP_SERVERS", stack.kafka_bootstrap)
    settings = DemoSettings(database_url=fresh_database(), http_port=0)
    app, runtime = build(settings)
    async with lifespan(runtime)(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
            assert (await client.get("/health")).json()["status"] == "ok"
            ready = await client.get("/ready")
            assert ready.status_code == 200
            assert ready.json()["checks"] == {
                "database": "ok",
                "kafka": "ok",
                "consumers": "ok",
                "outbox": {
                    "pending": 0,
                    "parked": 0,
                    "oldest_pending_seconds": None,
                    "relay_error": None,
                },
            }

            # A row the relay parked shows in the details; the service stays ready.
            await runtime.pool.execute(
                """INSERT INTO messaging_outbox (event_id, event_type, topic, message_key,
                                                 headers, body, attempts, last_error, parked_at)
                   VALUES (gen_random_uuid(), 'PaymentAuthorized', 'jg.payment.payments', 'k',
                           '{}', '', 10, 'MessageSizeTooLargeError: ...', now())"""
            )
            ready = await client.get("/ready")
            assert ready.status_code == 200
            assert ready.json()["status"] == "ready"
            assert ready.json()["checks"]["outbox"]["parked"] == 1
            document = (await client.get("/asyncapi.json")).json()
    channels = " ".join(document["channels"])
    assert f"{topic_prefix}jg.checkout.orders" in channels
    assert f"{topic_prefix}jg.payment.payments" in channels
    messages = str(document["components"]["messages"])
    assert "OrderPlaced" in messages
    assert "PaymentAuthorized" in str(document["components"])


async def test_metrics_show_http_answers_outbox_rows_and_consumer_lag(
    stack: Endpoints,
    fresh_database: Callable[..., str],
    topic_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JG_TOPIC_PREFIX", topic_prefix)
    monkeypatch.setenv("JG_KAFKA_BOOTSTRAP_SERVERS", stack.kafka_bootstrap)
    settings = DemoSettings(database_url=fresh_database(), http_port=0)
    app, runtime = build(settings)
    app.add_middleware(PrometheusMiddleware)
    runtime.metrics.min_interval = 0.0  # no cache between the scrapes of this test

    def values(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    async with lifespan(runtime)(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
            await client.get("/health")
            first = await client.get("/metrics")
            assert first.status_code == 200
            assert first.headers["content-type"].startswith("text/plain")
            proxied = await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
            assert proxied.status_code == 404  # through the ingress controller: not public
            found = values(first.text)
            health = frozenset({("method", "GET"), ("route", "/health"), ("status", "200")})
            assert found[("http_requests_total", health)] >= 1
            assert found[("outbox_parked_rows", frozenset())] == 0
            assert found[("outbox_pending_rows", frozenset())] == 0

            await runtime.pool.execute(
                """INSERT INTO messaging_outbox (event_id, event_type, topic, message_key,
                                                 headers, body, attempts, last_error, parked_at,
                                                 created_at)
                   VALUES (gen_random_uuid(), 'PaymentAuthorized', 'jg.payment.payments', 'k',
                           '{}', '', 10, 'MessageSizeTooLargeError: ...', now(),
                           now() - interval '2 minutes'),
                          (gen_random_uuid(), 'PaymentAuthorized', 'jg.payment.payments', 'k',
                           '{}', '', 0, NULL, NULL, now() - interval '90 seconds')"""
            )
            found = values((await client.get("/metrics")).text)
            assert found[("outbox_parked_rows", frozenset())] == 1
            assert found[("outbox_pending_rows", frozenset())] == 1  # waits behind the parked row
            assert found[("outbox_oldest_pending_age_seconds", frozenset())] >= 90

            # the subscriber's partitions are reported once assigned (the topic is empty)
            lag: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
            for _ in range(60):
                found = values((await client.get("/metrics")).text)
                lag = {k: v for k, v in found.items() if k[0] == "consumer_lag_messages"}
                if lag:
                    break
                await asyncio.sleep(0.5)
            assert lag, "no consumer_lag_messages sample after 30 s"
            topics = {dict(k[1])["topic"] for k in lag}
            assert topics == {f"{topic_prefix}jg.checkout.orders"}
            assert all(v == 0 for v in lag.values())
