"""jg_messaging.metrics: bounded labels, lag arithmetic, scrape-time probes, the HTTP middleware."""

import asyncio

import httpx
import pytest
from aiokafka import TopicPartition
from fastapi import FastAPI
from jg_messaging import PrometheusMiddleware, metrics
from prometheus_client import REGISTRY

pytestmark = pytest.mark.unit


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_unknown_or_missing_event_types_share_one_label() -> None:
    assert metrics.event_type_label("OrderPlaced") == "OrderPlaced"
    assert metrics.event_type_label("Attacker-chosen-123") == "unknown"
    assert metrics.event_type_label(None) == "unknown"


def test_a_message_outcome_is_counted_under_its_topic_and_type() -> None:
    before = sample(
        "consumer_messages_total", topic="t.unit", event_type="OrderPlaced", outcome="retried"
    )
    metrics.record_message("t.unit", "OrderPlaced", "retried")
    metrics.record_message("t.unit", "OrderPlaced", "retried")
    after = sample(
        "consumer_messages_total", topic="t.unit", event_type="OrderPlaced", outcome="retried"
    )
    assert after - before == 2
    with pytest.raises(ValueError, match="outcome"):
        metrics.record_message("t.unit", "OrderPlaced", "exploded")


def test_lag_is_highwater_minus_position_and_unknown_until_both_are_known() -> None:
    assert metrics.partition_lag(120, 100) == 20
    assert metrics.partition_lag(100, 100) == 0
    assert metrics.partition_lag(None, 3) is None
    assert metrics.partition_lag(5, None) is None


class FakeConsumer:
    """An aiokafka consumer's surface used for lag: assignment, highwater, position."""

    def __init__(self, offsets: dict[tuple[str, int], tuple[int, int]]) -> None:
        self.offsets = offsets

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(t, p) for t, p in self.offsets}

    def highwater(self, tp: TopicPartition) -> int:
        return self.offsets[(tp.topic, tp.partition)][0]

    async def position(self, tp: TopicPartition) -> int:
        return self.offsets[(tp.topic, tp.partition)][1]


async def test_lag_per_partition_and_partitions_given_away_disappear() -> None:
    consumer = FakeConsumer({("lag.unit", 0): (50, 45), ("lag.unit", 1): (7, 7)})
    await metrics.update_consumer_lag([consumer, None])
    assert sample("consumer_lag_messages", topic="lag.unit", partition="0") == 5
    assert sample("consumer_lag_messages", topic="lag.unit", partition="1") == 0
    await metrics.update_consumer_lag([FakeConsumer({("lag.unit", 1): (9, 7)})])
    assert (
        REGISTRY.get_sample_value("consumer_lag_messages", {"topic": "lag.unit", "partition": "0"})
        is None
    )
    assert sample("consumer_lag_messages", topic="lag.unit", partition="1") == 2


async def test_probes_run_at_most_once_per_interval_and_a_failure_spares_the_others() -> None:
    calls: list[str] = []

    async def good() -> None:
        calls.append("good")

    async def broken() -> None:
        calls.append("broken")
        raise ConnectionError("database away")

    async def slow() -> None:
        calls.append("slow")

    probes = metrics.MetricsProbes(min_interval=60.0)
    probes.add("broken", broken)
    probes.add("good", good)
    probes.add("slow", slow, every=0.0)
    await asyncio.gather(probes.refresh(), probes.refresh())
    await probes.refresh()
    assert calls.count("broken") == 1
    assert calls.count("good") == 1
    assert calls.count("slow") == 3


async def test_http_requests_are_counted_by_route_template_never_the_raw_path() -> None:
    app = FastAPI()

    @app.get("/unit-orders/{number}")
    async def order(number: str) -> dict[str, str]:
        if number == "missing":
            from fastapi import HTTPException

            raise HTTPException(404)
        return {"number": number}

    app.add_middleware(PrometheusMiddleware)
    labels = {"method": "GET", "route": "/unit-orders/{number}"}
    before_ok = sample("http_requests_total", **labels, status="200")
    before_404 = sample("http_requests_total", **labels, status="404")
    before_unmatched = sample("http_requests_total", method="GET", route="unmatched", status="404")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://unit") as client:
        for number in ("JG-1", "JG-2", "missing"):
            await client.get(f"/unit-orders/{number}")
        await client.get("/nowhere/JG-3")
    assert sample("http_requests_total", **labels, status="200") - before_ok == 2
    assert sample("http_requests_total", **labels, status="404") - before_404 == 1
    assert (
        sample("http_requests_total", method="GET", route="unmatched", status="404")
        - before_unmatched
        == 1
    )
    assert "JG-1" not in metrics.render().decode()
    assert sample("http_request_duration_seconds_count", **labels) >= 3


def test_readiness_gauges_follow_the_checks() -> None:
    assert metrics.set_readiness({"database": "ok", "kafka": "ok", "outbox": {"parked": 3}})
    assert sample("service_ready") == 1
    assert not metrics.set_readiness(
        {"database": "unavailable", "kafka": "ok", "consumers": "waiting for smtp (3 s)"}
    )
    assert sample("service_ready") == 0
    assert sample("service_dependency_up", dependency="database") == 0
    assert sample("service_dependency_up", dependency="kafka") == 1
    assert sample("service_dependency_up", dependency="consumers") == 0


def test_a_request_through_a_proxy_is_recognised() -> None:
    assert metrics.through_a_proxy({"x-forwarded-for": "203.0.113.9"})
    assert metrics.through_a_proxy({"forwarded": "for=203.0.113.9"})
    assert not metrics.through_a_proxy({"host": "10.0.3.4:8001", "user-agent": "Prometheus"})
