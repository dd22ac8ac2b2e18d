"""register_handlers() against the real Kafka and PostgreSQL: events reach their functions."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from jg_devstack import Endpoints
from jg_devstack.kafka_records import headers_of, publish_raw, read_topic
from jg_events import (
    CustomerErased,
    Envelope,
    OrderConfirmed,
    OrderPlaced,
    Topic,
    dead_letter_topic,
    kafka_headers,
    topic_name,
)
from jg_events.examples import example
from jg_messaging import ServiceRuntime, ServiceSettings, lifespan, register_handlers
from prometheus_client import REGISTRY
from pydantic_settings import SettingsConfigDict

pytestmark = pytest.mark.integration


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore", frozen=True)


@dataclass
class Ctx:
    runtime: ServiceRuntime
    handled: asyncio.Queue[tuple[str, Envelope[Any]]] = field(default_factory=asyncio.Queue)


async def on_order_placed(ctx: Ctx, envelope: Envelope[OrderPlaced]) -> None:
    """Note the order (once: through the inbox)."""
    async with ctx.runtime.messaging.handling(envelope) as uow:
        if uow.already_processed:
            return
    await ctx.handled.put(("placed", envelope))


async def on_customer_erased(ctx: Ctx, envelope: Envelope[CustomerErased]) -> None:
    await ctx.handled.put(("erased", envelope))


def skipped_count(topic: str) -> float:
    """consumer_messages_total{outcome="skipped", event_type="OrderConfirmed"} on ``topic``."""
    value = REGISTRY.get_sample_value(
        "consumer_messages_total",
        {"topic": topic, "event_type": "OrderConfirmed", "outcome": "skipped"},
    )
    return value or 0.0


def message(envelope: Envelope[Any]) -> tuple[bytes, bytes, dict[str, str]]:
    return envelope.key.encode(), envelope.model_dump_json().encode(), kafka_headers(envelope)


async def test_events_on_two_topics_reach_their_handlers_and_a_bad_one_is_dead_lettered(
    stack: Endpoints,
    fresh_database: Callable[..., str],
    topic_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JG_TOPIC_PREFIX", topic_prefix)
    monkeypatch.setenv("JG_KAFKA_BOOTSTRAP_SERVERS", stack.kafka_bootstrap)
    settings = DemoSettings(database_url=fresh_database(), http_port=0)
    runtime = ServiceRuntime("payment", settings, None)
    ctx = Ctx(runtime)
    register_handlers(
        runtime,
        ctx,
        {OrderPlaced: on_order_placed, CustomerErased: on_customer_erased},
        title="payment inputs",
        description="Orders and erasures.",
    )
    # the subscriber knows what its handlers take, so it skips the rest as they are fetched
    (subscriber,) = runtime.broker.subscribers
    assert subscriber.handled == {("OrderPlaced", "1"), ("CustomerErased", "1")}
    placed = Envelope.wrap(example(OrderPlaced), correlation_id="corr-placed")
    erased = Envelope.wrap(example(CustomerErased), correlation_id="corr-erased")
    orders = topic_name(Topic.CHECKOUT_ORDERS, topic_prefix)
    customers = topic_name(Topic.ACCOUNTS_CUSTOMERS, topic_prefix)
    # an OrderPlaced whose payload breaks the contract: the Envelope[OrderPlaced] parameter
    # refuses it, and the reliable-consumption middleware dead-letters it
    broken = (b"k", b'{"payload": {"order_id": "not-a-uuid"}}', kafka_headers(placed))
    # a contract event no handler here takes: skipped as fetched (not decoded, not dead-lettered)
    confirmed = Envelope.wrap(example(OrderConfirmed), correlation_id="corr-confirmed")
    skipped_before = skipped_count(orders)
    await publish_raw(
        stack.kafka_bootstrap,
        orders,
        [broken, message(confirmed), message(placed), message(placed)],
    )
    await publish_raw(stack.kafka_bootstrap, customers, [message(erased)])

    app = FastAPI()
    async with lifespan(runtime)(app):
        got = [await asyncio.wait_for(ctx.handled.get(), 60) for _ in range(2)]
        dead = await read_topic(
            stack.kafka_bootstrap, dead_letter_topic("payment", topic_prefix), count=1
        )
        await asyncio.sleep(1.0)  # the duplicate OrderPlaced, consumed by now, changed nothing
        assert ctx.handled.empty()

    kinds = sorted((kind, env.event_id, type(env.payload).__name__) for kind, env in got)
    assert kinds == sorted(
        [("placed", placed.event_id, "OrderPlaced"), ("erased", erased.event_id, "CustomerErased")]
    )
    assert [headers_of(r)["dlq-reason"] for r in dead] == ["unreadable"]
    assert [r.value for r in dead] == [broken[1]]
    assert skipped_count(orders) == skipped_before + 1
