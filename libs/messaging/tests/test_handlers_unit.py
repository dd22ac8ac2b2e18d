"""register_handlers(): a table {EventClass: handler} becomes one subscriber, one filter each."""

import inspect
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from jg_events import (
    CustomerErased,
    Envelope,
    OrderPlaced,
    PasswordResetRequested,
    PasswordResetRequestedV1,
    Topic,
    topic_name,
)
from jg_events.examples import example
from jg_messaging import ServiceRuntime, ServiceSettings, register_handlers
from jg_messaging.handlers import bind, handler_name, topics_of
from pydantic_settings import SettingsConfigDict

pytestmark = pytest.mark.unit


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore", frozen=True)


@dataclass
class Ctx:
    seen: list[tuple[str, Any]] = field(default_factory=list)


async def on_order_fact(ctx: Ctx, envelope: Envelope[Any]) -> None:
    """Record an order fact."""
    ctx.seen.append(("fact", envelope))


async def on_customer_erased(ctx: Ctx, envelope: Envelope[CustomerErased]) -> None:
    """Forget the customer."""
    ctx.seen.append(("erased", envelope))


def runtime(monkeypatch: pytest.MonkeyPatch, prefix: str = "") -> ServiceRuntime:
    monkeypatch.setenv("JG_TOPIC_PREFIX", prefix)
    settings = DemoSettings(database_url="postgresql://nobody@127.0.0.1:1/none", http_port=0)
    return ServiceRuntime("accounts", settings, None)


def message(event_cls: Any) -> SimpleNamespace:
    version = str(event_cls.schema_version)
    return SimpleNamespace(headers={"event-type": event_cls.event_type, "event-version": version})


async def test_the_table_gives_one_subscriber_in_the_group_over_its_topics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rt = runtime(monkeypatch, prefix="t-123.")
    table = {
        OrderPlaced: on_order_fact,
        CustomerErased: on_customer_erased,
        PasswordResetRequestedV1: on_order_fact,
    }
    register_handlers(rt, Ctx(), table, title="accounts inputs", description="What it reads.")

    [subscriber] = list(rt.broker.subscribers)
    assert [t.name for t in subscriber.topics] == [
        topic_name(Topic.CHECKOUT_ORDERS, "t-123."),
        topic_name(Topic.ACCOUNTS_CUSTOMERS, "t-123."),
    ]
    assert subscriber.group_id == "t-123.accounts"
    names = [call.name for call in subscriber.calls]
    assert names == ["on_order_placed", "on_customer_erased", "on_password_reset_requested_v1"]
    # each handler takes the messages of its own type and version only
    routed = {
        event_cls.__name__: [call.name for call in subscriber.calls if await call.filter(msg)]
        for event_cls in (OrderPlaced, CustomerErased, PasswordResetRequestedV1)
        for msg in [message(event_cls)]
    }
    assert routed == {
        "OrderPlaced": ["on_order_placed"],
        "CustomerErased": ["on_customer_erased"],
        "PasswordResetRequestedV1": ["on_password_reset_requested_v1"],
    }
    assert not [c for c in subscriber.calls if await c.filter(message(PasswordResetRequested))]
    document = rt.asyncapi()
    assert set(document["channels"]) == {
        "accounts inputs:t-123.jg.checkout.orders",
        "accounts inputs:t-123.jg.accounts.customers",
    }
    assert {c["description"] for c in document["channels"].values()} == {"What it reads."}
    schemas = str(document["components"]["schemas"])
    assert "OrderPlaced" in schemas and "CustomerErased" in schemas


def test_a_handler_is_typed_named_and_documented_after_its_event() -> None:
    call = bind(PasswordResetRequested, on_order_fact, Ctx())
    assert call.__name__ == "on_password_reset_requested"
    assert call.__doc__ == "Record an order fact."
    [parameter] = inspect.signature(call).parameters.values()
    assert parameter.annotation is Envelope[PasswordResetRequested]


async def test_the_registered_handler_gets_the_context_and_the_envelope() -> None:
    ctx = Ctx()
    envelope = Envelope.wrap(example(CustomerErased), correlation_id=str(uuid4()))
    await bind(CustomerErased, on_customer_erased, ctx)(envelope)
    assert ctx.seen == [("erased", envelope)]


def test_names_and_topics_of_a_table() -> None:
    assert handler_name(OrderPlaced) == "on_order_placed"
    assert handler_name(PasswordResetRequestedV1) == "on_password_reset_requested_v1"
    table = {OrderPlaced: 1, CustomerErased: 2, PasswordResetRequested: 3}
    assert topics_of(table) == (Topic.CHECKOUT_ORDERS, Topic.ACCOUNTS_CUSTOMERS)


def test_an_empty_table_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="at least one"):
        register_handlers(runtime(monkeypatch), Ctx(), {}, title="nothing", description="-")


@pytest.mark.parametrize(("setting", "concurrency"), [(None, 16), ("1", 1), ("40", 40)])
def test_the_subscriber_handles_as_many_events_at_once_as_the_setting_says(
    monkeypatch: pytest.MonkeyPatch, setting: str | None, concurrency: int
) -> None:
    if setting is not None:
        monkeypatch.setenv("DEMO_CONSUMER_CONCURRENCY", setting)
    rt = runtime(monkeypatch)
    register_handlers(rt, Ctx(), {OrderPlaced: on_order_fact}, title="t", description="d")
    [subscriber] = list(rt.broker.subscribers)
    assert subscriber.keyed.concurrency == concurrency
    assert not any(topic.declare for topic in subscriber.topics)  # topics are the platform's
