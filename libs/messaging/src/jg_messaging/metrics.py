"""Prometheus metrics shared by every service, and the hooks the plumbing calls.

One process is one service: the families live in prometheus_client's default registry and
``/metrics`` (see `jg_messaging.runtime.health_router`) renders it. Names follow Prometheus'
conventions: ``_total`` counters, ``_seconds`` histograms, base units; the scrape adds the job and
pod labels, so no ``service`` label. Label values are bounded: route templates (never raw paths),
known event types (else ``unknown``), a fixed set of outcomes.

Gauges that describe the database (outbox rows, business backlogs) are computed on scrape by
async probes (`MetricsProbes`), at most once per `MetricsProbes.min_interval` seconds.

The consumer middleware reports each message's outcome through `record_message` and
`observe_handler`; the relay its publications through `observe_publish`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import structlog
from jg_events import registry
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(__name__)

__all__ = [
    "CONTENT_TYPE_LATEST",
    "MetricsProbes",
    "PrometheusMiddleware",
    "render",
]

# Latency buckets (seconds) for HTTP, handlers, Kafka publications, Stripe and SMTP calls.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# --- HTTP ------------------------------------------------------------------------------------

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)

UNMATCHED_ROUTE = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/orders/{order_number}``), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    return UNMATCHED_ROUTE


class PrometheusMiddleware:
    """ASGI middleware counting requests by route template and status, and timing them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_code = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            method = scope.get("method", "GET")
            method = method if method in _METHODS else "OTHER"
            route = route_template(scope)
            HTTP_REQUESTS.labels(method, route, str(status_code)).inc()
            HTTP_DURATION.labels(method, route).observe(time.perf_counter() - started)


# --- consumers -------------------------------------------------------------------------------

OUTCOMES = ("handled", "skipped", "retried", "waiting_on_dependency", "dead_lettered")

CONSUMER_MESSAGES = Counter(
    "consumer_messages_total",
    "Kafka messages by topic, event type and outcome: handled, skipped (a type the service does "
    "not use), retried (a failed attempt retried), waiting_on_dependency (an attempt that waits "
    "for a dependency), dead_lettered.",
    ["topic", "event_type", "outcome"],
)
CONSUMER_HANDLER_DURATION = Histogram(
    "consumer_handler_duration_seconds",
    "Time from a message's first attempt to its outcome (handled or dead-lettered), retries and "
    "waits included, by topic and event type.",
    ["topic", "event_type"],
    buckets=LATENCY_BUCKETS,
)
CONSUMER_LAG = Gauge(
    "consumer_lag_messages",
    "Messages on a partition the service's consumer has not read yet (highwater - position), "
    "by topic and partition (updated on scrape).",
    ["topic", "partition"],
)


def event_type_label(event_type: str | None) -> str:
    """A known contract event type, else ``unknown`` (headers are input: bound the labels)."""
    if event_type and registry.is_known_type(event_type):
        return event_type
    return "unknown"


def record_message(topic: str, event_type: str | None, outcome: str) -> None:
    """One outcome of one message (``retried`` and ``waiting_on_dependency`` once per attempt)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown consumer outcome {outcome!r}")
    CONSUMER_MESSAGES.labels(topic, event_type_label(event_type), outcome).inc()


def observe_handler(topic: str, event_type: str | None, seconds: float) -> None:
    CONSUMER_HANDLER_DURATION.labels(topic, event_type_label(event_type)).observe(seconds)


def partition_lag(highwater: int | None, position: int | None) -> int | None:
    """Messages not yet read on a partition; None when the consumer does not know yet."""
    if highwater is None or position is None:
        return None
    return max(0, highwater - position)


async def update_consumer_lag(consumers: Iterable[Any]) -> None:
    """Set `consumer_lag_messages` from each started aiokafka consumer's assignment."""
    seen: set[tuple[str, str]] = set()
    for consumer in consumers:
        if consumer is None:
            continue
        try:
            assigned = list(consumer.assignment())
        except Exception:  # not started, or stopping: nothing to report
            assigned = []
        for tp in assigned:
            try:
                lag = partition_lag(consumer.highwater(tp), await consumer.position(tp))
            except Exception:
                lag = None
            if lag is None:
                continue
            labels = (tp.topic, str(tp.partition))
            CONSUMER_LAG.labels(*labels).set(lag)
            seen.add(labels)
    # partitions this instance no longer owns (a rebalance) stop being reported here
    for labels in _lag_labels() - seen:
        CONSUMER_LAG.remove(*labels)


def _lag_labels() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for family in CONSUMER_LAG.collect():
        for sample in family.samples:
            found.add((sample.labels["topic"], sample.labels["partition"]))
    return found


# --- outbox ----------------------------------------------------------------------------------

OUTBOX_PENDING = Gauge(
    "outbox_pending_rows", "Outbox rows not yet published to Kafka (parked ones excluded)."
)
OUTBOX_OLDEST_PENDING = Gauge(
    "outbox_oldest_pending_age_seconds",
    "Age of the oldest outbox row not yet published (0 when none waits).",
)
OUTBOX_PARKED = Gauge(
    "outbox_parked_rows",
    "Outbox rows the relay gave up on; an operator replays them (tools/outbox_replay.py).",
)
OUTBOX_PUBLISH_DURATION = Histogram(
    "outbox_publish_duration_seconds",
    "Time for one relay round to publish a batch of outbox rows and get Kafka's answers.",
    buckets=LATENCY_BUCKETS,
)
OUTBOX_PUBLISHED = Counter(
    "outbox_published_rows_total", "Outbox rows published to Kafka and marked sent."
)


def observe_publish(seconds: float, sent: int) -> None:
    OUTBOX_PUBLISH_DURATION.observe(seconds)
    if sent:
        OUTBOX_PUBLISHED.inc(sent)


def set_outbox(pending: int, parked: int, oldest_pending_seconds: float | None) -> None:
    OUTBOX_PENDING.set(pending)
    OUTBOX_PARKED.set(parked)
    OUTBOX_OLDEST_PENDING.set(oldest_pending_seconds or 0.0)


# --- readiness ----------------------------------------------------------------------------------

SERVICE_READY = Gauge(
    "service_ready",
    "1 when the instance is ready (its database and Kafka answer, no consumer waits for a "
    "dependency), as /ready says; 0 otherwise (updated on scrape).",
)
DEPENDENCY_UP = Gauge(
    "service_dependency_up",
    "1 when a dependency the instance checks for /ready answers (database, kafka, consumers).",
    ["dependency"],
)


def set_readiness(checks: dict[str, Any]) -> bool:
    """Set the readiness gauges from /ready's checks (dict values are details, not gates)."""
    ready = True
    for name, value in checks.items():
        if isinstance(value, str):
            up = value == "ok"
            ready = ready and up
            DEPENDENCY_UP.labels(name).set(1 if up else 0)
    SERVICE_READY.set(1 if ready else 0)
    return ready


# --- refreshed on scrape ---------------------------------------------------------------------

Probe = Callable[[], Awaitable[None]]


class MetricsProbes:
    """Async functions that set gauges from the database or the consumers, run before a scrape.

    Two scrapes closer than a probe's interval (`min_interval` by default, ``every`` for a
    costlier one) share one run (Prometheus, a dashboard and a person may scrape at once); a
    probe that fails is logged and leaves its gauges as they were, the others still run.
    """

    def __init__(self, *, min_interval: float = 5.0, timeout: float = 5.0) -> None:
        self.min_interval = min_interval
        self.timeout = timeout
        self._probes: list[tuple[str, Probe, float | None]] = []
        self._last: dict[str, float] = {}
        self._lock = asyncio.Lock()

    def add(self, name: str, probe: Probe, *, every: float | None = None) -> None:
        self._probes.append((name, probe, every))

    async def refresh(self) -> None:
        async with self._lock:
            for name, probe, every in self._probes:
                last = self._last.get(name)
                interval = self.min_interval if every is None else every
                if last is not None and time.monotonic() - last < interval:
                    continue
                try:
                    await asyncio.wait_for(probe(), timeout=self.timeout)
                except Exception as exc:
                    log.warning("metrics_probe_failed", probe=name, error=type(exc).__name__)
                self._last[name] = time.monotonic()


PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


def through_a_proxy(headers: Mapping[str, str]) -> bool:
    """Whether a request came through a proxy (the ingress controller sets these headers);
    Prometheus scrapes the pod directly, so ``/metrics`` refuses such requests."""
    return any(name in headers for name in PROXY_HEADERS)


def render() -> bytes:
    """The text exposition of the process's registry."""
    return _generate_latest(REGISTRY)
