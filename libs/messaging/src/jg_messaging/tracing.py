"""Traces (OpenTelemetry): one order is one trace, across HTTP and Kafka.

The W3C ``traceparent`` (and ``tracestate``) travel in HTTP headers (FastAPI's own telemetry
makes the server spans, see :data:`HTTP_TELEMETRY`; :class:`TracedTransport` the client spans)
and in every Kafka message's headers; the outbox stores them with the row written in the
transaction (see :func:`jg_messaging.outbox.enqueue`), the relay publishes the row in a child
``publish`` span and the consumer runs the handler in a ``process`` span, child of the
publisher's.

:func:`configure_tracing` is called once by each service's wiring (``create_app``). Spans are
exported over OTLP/HTTP only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set; otherwise spans are still made (their ids go
into every log line, and propagate) but not recorded, and nothing is exported.
``OTEL_SDK_DISABLED=true`` turns the SDK off altogether (no ids, the incoming context is
passed on unchanged). The other standard ``OTEL_*`` variables (headers, timeouts, batch
sizes) apply as the SDK reads them.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

import httpx
import structlog
from fastapi.telemetry import TelemetryConfig
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

TRACER_NAME = "jg"
TRACE_HEADERS = ("traceparent", "tracestate")
"""The W3C trace-context headers, in HTTP requests, Kafka messages and outbox rows."""

CLIENT = SpanKind.CLIENT
"""The kind of a span around a call to another system (Stripe, SMTP, another service)."""

_configured: str | None = None


def configure_tracing(service: str) -> None:
    """Install the tracer provider of this process (``service.name`` = ``service``).

    Called once per process by ``create_app``; a later call (tests building several apps in
    one process) keeps the first provider. Spans are *recorded* (attributes, events, timing)
    only while something receives them: with an OTLP exporter configured, the sampler the
    standard ``OTEL_TRACES_SAMPLER`` variables name (default: parent-based, always on); without
    one, none is recorded, since nobody would read them, but every span still gets its ids
    (logs carry them, messages and calls propagate them). Recording every span costs about a
    fifth of the services' CPU per order (``make bench``).
    """
    global _configured
    if _configured is not None:
        return
    _configured = service
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider

    sampler = RecordWhenReceived()
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}), sampler=sampler)
    if os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    ):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        sampler.received = True
    trace.set_tracer_provider(provider)


def receive_spans(processor: Any) -> None:
    """Add a span processor (an exporter's) to this process's provider and record spans from
    now on (tests read spans in memory this way)."""
    from opentelemetry.sdk.trace import TracerProvider

    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):  # nothing configured in this process yet
        provider = TracerProvider(sampler=RecordWhenReceived())
        trace.set_tracer_provider(provider)
    provider.add_span_processor(processor)
    if isinstance(provider.sampler, RecordWhenReceived):
        provider.sampler.received = True


class RecordWhenReceived(Sampler):
    """The standard sampler (from ``OTEL_TRACES_SAMPLER``) once spans have a receiver; until
    then, record nothing (the spans keep their ids and propagate)."""

    def __init__(self) -> None:
        from opentelemetry.sdk.trace.sampling import _get_from_env_or_default

        self.received = False
        self._standard: Sampler = _get_from_env_or_default()

    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        if self.received:
            return self._standard.should_sample(*args, **kwargs)
        return SamplingResult(Decision.DROP)

    def get_description(self) -> str:
        standard = self._standard.get_description()
        return standard if self.received else f"RecordWhenReceived({standard}, none yet)"


def shutdown_tracing() -> None:
    """Flush the spans still waiting for export (at a service's shutdown)."""
    provider = trace.get_tracer_provider()
    shutdown = getattr(provider, "shutdown", None)
    if callable(shutdown):
        shutdown()


@functools.cache
def tracer() -> trace.Tracer:
    """The platform's tracer (a proxy until :func:`configure_tracing` installs the provider)."""
    return trace.get_tracer(TRACER_NAME)


# --- propagation (pure over dicts) -----------------------------------------------------------


def inject(carrier: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """The current trace context as W3C headers (``traceparent``, ``tracestate``), added to
    ``carrier`` if given. Empty outside any span."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    found = {k: v for k, v in headers.items() if k in TRACE_HEADERS}
    if carrier is not None:
        carrier.update(found)
    return found


def extract(headers: Mapping[str, str]) -> otel_context.Context:
    """The trace context carried by ``headers`` (case-insensitive names); empty if none."""
    lowered = {k.lower(): v for k, v in headers.items() if k.lower() in TRACE_HEADERS}
    return propagate.extract(lowered, context=otel_context.Context())


def current_ids() -> tuple[str, str] | None:
    """The current trace id and span id in hex, or None outside a recording span."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def annotate(**attributes: AttributeValue | None) -> None:
    """Set attributes on the current span (``order_number=...`` becomes ``jg.order_number``)."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes({f"jg.{k}": v for k, v in attributes.items() if v is not None})


@contextlib.contextmanager
def span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    parent: otel_context.Context | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> Iterator[Span]:
    """A span around a block; an exception marks it failed (and is recorded) then propagates."""
    with tracer().start_as_current_span(
        name, context=parent, kind=kind, attributes=attributes, record_exception=True
    ) as current:
        yield current


def transaction(event_type: str | None = None) -> contextlib.AbstractContextManager[Span]:
    """The span of one PostgreSQL transaction (a unit of work); the outbox rows it writes are
    published in its children. Open it around ``conn.transaction()``."""
    attributes: dict[str, AttributeValue] = {
        "db.system.name": "postgresql",
        "db.operation.name": "transaction",
    }
    if event_type is not None:
        attributes["jg.event_type"] = event_type
    return span("transaction", attributes=attributes)


def fail(current: Span, description: str) -> None:
    """Mark ``current`` as failed without an exception (an HTTP 5xx answer, a refusal)."""
    current.set_status(Status(StatusCode.ERROR, description))


# --- logs ------------------------------------------------------------------------------------


def add_trace_ids(
    _: object, __: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    """structlog processor: ``trace_id`` and ``span_id`` of the current span in every line."""
    ids = current_ids()
    if ids is not None:
        event_dict.setdefault("trace_id", ids[0])
        event_dict.setdefault("span_id", ids[1])
    return event_dict


# --- HTTP ------------------------------------------------------------------------------------


def _not_traced(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in UNTRACED_PATHS


UNTRACED_PATHS = frozenset({"/health", "/ready", "/metrics"})
"""Probes and scrapes: a span each would drown the traces of orders."""

HTTP_TELEMETRY: TelemetryConfig = {
    "operation_spans": False,
    "metrics": False,
    "logs": False,
    "exclude": _not_traced,
}
"""FastAPI's own OpenTelemetry support, as every service's app uses it (``telemetry=``): a
server span per request, child of the caller's ``traceparent``, named after the route
(``POST /orders``), with the OpenTelemetry HTTP attributes; no span per dependency, endpoint
and serialization (three more per request); none for probes. Its metrics and log records are
off: the services' HTTP metrics are Prometheus's (:mod:`jg_messaging.metrics`) and their logs
structlog's, and no OpenTelemetry meter or logger provider is installed, so FastAPI's would be
dropped after looking the provider up on every request (a failed ``os.environ`` lookup each
time: 3 % of checkout's CPU under load)."""


class TracedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that makes a client span per request and sends ``traceparent``."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None, *, peer: str = "") -> None:
        self._inner = inner or httpx.AsyncHTTPTransport()
        self._peer = peer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        name = f"{request.method} {self._peer or request.url.host}"
        attributes: dict[str, AttributeValue] = {
            "http.request.method": request.method,
            "server.address": request.url.host,
            "url.path": request.url.path,
        }
        with span(name, kind=SpanKind.CLIENT, attributes=attributes) as current:
            for key, value in inject().items():
                request.headers[key] = value
            response = await self._inner.handle_async_request(request)
            current.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                fail(current, f"HTTP {response.status_code}")
            return response

    async def aclose(self) -> None:
        await self._inner.aclose()


# --- Kafka -----------------------------------------------------------------------------------


def messaging_attributes(
    operation: str, topic: str, *, key: str | None = None, event_type: str | None = None
) -> dict[str, AttributeValue]:
    """OpenTelemetry's messaging attributes of a Kafka ``publish`` or ``process``."""
    attributes: dict[str, AttributeValue] = {
        "messaging.system": "kafka",
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
        "messaging.destination.name": topic,
    }
    if key is not None:
        attributes["messaging.kafka.message.key"] = key
    if event_type is not None:
        attributes["jg.event_type"] = event_type
    return attributes


@contextlib.contextmanager
def consuming(headers: Mapping[str, str], topic: str, **details: Any) -> Iterator[Span]:
    """The ``process`` span of one Kafka message, child of the span that published it."""
    with span(
        f"process {topic}",
        kind=SpanKind.CONSUMER,
        parent=extract(headers),
        attributes=messaging_attributes("process", topic, **details),
    ) as current:
        yield current


@contextlib.contextmanager
def publishing(row: Mapping[str, Any]) -> Iterator[Span]:
    """The ``publish`` span of an outbox row, child of the transaction that wrote it (the
    row's ``traceparent``); a row without one starts its own trace."""
    parent = {k: row[k] for k in TRACE_HEADERS if row.get(k)}
    with span(
        f"publish {row['topic']}",
        kind=SpanKind.PRODUCER,
        parent=extract(parent),
        attributes=messaging_attributes(
            "publish", row["topic"], key=row["message_key"], event_type=row["event_type"]
        ),
    ) as current:
        yield current
