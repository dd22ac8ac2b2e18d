"""tools/dlq_replay.py against the real Kafka: messages a consumer dead-lettered go back to
their topic once the handler is fixed, are applied by that consumer, and are not replayed twice;
unreadable ones stay where they are."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import pytest
from jg_devstack import Endpoints
from jg_devstack.kafka_records import headers_of, publish_raw, read_topic
from jg_events import Envelope, OrderPlaced, Topic, dead_letter_topic, kafka_headers, topic_name
from jg_events.examples import example
from jg_messaging import RetryPolicy, create_broker, handles, subscribe

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "payment"


class Payment:
    """A consumer of checkout's orders with the real plumbing, broken until `fixed`."""

    def __init__(self, bootstrap: str, prefix: str, *, fixed: bool) -> None:
        self.broker = create_broker(
            bootstrap,
            service=SERVICE,
            topic_prefix=prefix,
            policy=RetryPolicy(attempts=2, first_delay=0.01),
        )
        self.applied: asyncio.Queue[str] = asyncio.Queue()
        orders = subscribe(self.broker, Topic.CHECKOUT_ORDERS, service=SERVICE, topic_prefix=prefix)

        @orders(filter=handles(OrderPlaced))
        async def on_order_placed(event: Envelope[OrderPlaced]) -> None:
            if not fixed:
                raise RuntimeError("Stripe client misconfigured")
            await self.applied.put(str(event.event_id))


def order_placed() -> Envelope[OrderPlaced]:
    payload = example(OrderPlaced).model_copy(update={"order_id": uuid4()})
    return Envelope.wrap(payload, correlation_id=f"corr-{uuid4().hex[:8]}")


def replay_tool(stack: Endpoints, prefix: str, *args: str) -> list[dict[str, object]]:
    done = subprocess.run(  # the operator's command, as documented
        [sys.executable, str(ROOT / "tools" / "dlq_replay.py"), "--bootstrap",
         stack.kafka_bootstrap, "--prefix", prefix, "--service", SERVICE, *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


async def test_fixed_consumer_applies_replayed_dead_letters_once_and_unreadable_ones_stay(
    stack: Endpoints, topic_prefix: str
) -> None:
    orders = topic_name(Topic.CHECKOUT_ORDERS, topic_prefix)
    dead_letters = dead_letter_topic(SERVICE, topic_prefix)
    first, second = order_placed(), order_placed()
    unreadable = (b"broken", b"{not json", kafka_headers(order_placed()))
    await publish_raw(
        stack.kafka_bootstrap,
        orders,
        [
            (first.key.encode(), first.model_dump_json().encode(), kafka_headers(first)),
            unreadable,
            (second.key.encode(), second.model_dump_json().encode(), kafka_headers(second)),
        ],
    )

    broken = Payment(stack.kafka_bootstrap, topic_prefix, fixed=False)
    await broken.broker.start()
    try:
        dead = await read_topic(stack.kafka_bootstrap, dead_letters, count=3, timeout=60)
    finally:
        await broken.broker.stop()
    assert len(dead) == 3

    listed = replay_tool(stack, topic_prefix, "list")
    assert sorted(str(e["reason"]) for e in listed) == ["handler_failed", "handler_failed",
                                                        "unreadable"]  # fmt: skip
    assert {e["event_id"] for e in listed if e["reason"] == "handler_failed"} == {
        str(first.event_id),
        str(second.event_id),
    }

    replayed = replay_tool(stack, topic_prefix, "replay", "--all")
    actions = {str(e["event_id"]): str(e["action"]) for e in replayed}
    assert actions[str(first.event_id)] == "replayed"
    assert actions[str(second.event_id)] == "replayed"
    assert [e["action"] for e in replayed if e["reason"] == "unreadable"] == [
        "skipped: unreadable (use --include-unreadable)"
    ]

    # Back on the original topic: the same bytes and key, the original headers, no dlq-*.
    records = await read_topic(stack.kafka_bootstrap, orders, count=5, timeout=30)
    copies = [r for r in records if "replayed-from" in headers_of(r)]
    assert len(copies) == 2
    by_id = {headers_of(r)["event-id"]: r for r in copies}
    assert by_id[str(first.event_id)].value == first.model_dump_json().encode()
    assert by_id[str(first.event_id)].key == first.key.encode()
    headers = headers_of(by_id[str(first.event_id)])
    assert headers["correlation-id"] == first.correlation_id
    assert headers["replay-count"] == "1"
    assert headers["replayed-from"].startswith(f"{dead_letters}/")
    assert not [h for h in headers if h.startswith("dlq-")]

    # The fixed consumer (same group: it goes on after its committed offsets) applies both.
    fixed = Payment(stack.kafka_bootstrap, topic_prefix, fixed=True)
    await fixed.broker.start()
    try:
        applied = {await asyncio.wait_for(fixed.applied.get(), 60) for _ in range(2)}
    finally:
        await fixed.broker.stop()
    assert applied == {str(first.event_id), str(second.event_id)}

    # A second run finds nothing new to replay.
    again = replay_tool(stack, topic_prefix, "replay", "--all")
    assert [e for e in again if e["action"] == "replayed"] == []
