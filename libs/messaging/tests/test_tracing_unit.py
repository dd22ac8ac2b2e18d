"""Trace context: propagation helpers, the HTTP server and client spans, ids in log lines."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import structlog
from fastapi import FastAPI, HTTPException
from jg_messaging import HTTP_TELEMETRY, TracedTransport, configure_logging, tracing
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

pytestmark = pytest.mark.unit

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"


@pytest.fixture(scope="module")
def _exporter() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    tracing.receive_spans(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def spans(_exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    _exporter.clear()
    yield _exporter
    _exporter.clear()


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def _one(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    found = [s for s in exporter.get_finished_spans() if s.name == name]
    assert len(found) == 1, [s.name for s in exporter.get_finished_spans()]
    return found[0]


def test_outside_any_span_nothing_is_injected(spans: InMemorySpanExporter) -> None:
    assert tracing.inject() == {}
    assert tracing.current_ids() is None


def test_a_span_started_from_extracted_headers_continues_the_callers_trace(
    spans: InMemorySpanExporter,
) -> None:
    parent = tracing.extract({"TraceParent": TRACEPARENT, "unrelated": "x"})
    with tracing.span("child", parent=parent):
        carried = tracing.inject()
        ids = tracing.current_ids()
    child = _one(spans, "child")
    assert _hex(child.context.trace_id, 32) == CALLER_TRACE
    assert child.parent is not None and _hex(child.parent.span_id, 16) == CALLER_SPAN
    # what it passes on names the child, in the same trace
    assert carried["traceparent"] == f"00-{CALLER_TRACE}-{_hex(child.context.span_id, 16)}-01"
    assert ids == (CALLER_TRACE, _hex(child.context.span_id, 16))


def test_an_exception_marks_the_span_failed_and_propagates(spans: InMemorySpanExporter) -> None:
    with pytest.raises(ValueError, match="boom"), tracing.span("failing"):
        raise ValueError("boom")
    failing = _one(spans, "failing")
    assert failing.status.status_code is StatusCode.ERROR
    assert any(e.name == "exception" for e in failing.events)


def test_an_outbox_row_is_published_in_a_child_of_the_transaction_that_wrote_it(
    spans: InMemorySpanExporter,
) -> None:
    row = {
        "topic": "jg.checkout.orders",
        "message_key": "order-1",
        "event_type": "checkout.order_placed",
        "traceparent": TRACEPARENT,
        "tracestate": None,
    }
    headers: dict[str, str] = {"event-type": "checkout.order_placed"}
    with tracing.publishing(row):
        tracing.inject(headers)
    publish = _one(spans, "publish jg.checkout.orders")
    assert publish.kind is SpanKind.PRODUCER
    assert _hex(publish.context.trace_id, 32) == CALLER_TRACE
    assert publish.attributes is not None
    assert publish.attributes["messaging.system"] == "kafka"
    assert publish.attributes["messaging.operation.type"] == "publish"
    assert publish.attributes["messaging.kafka.message.key"] == "order-1"
    # the Kafka headers carry the publish span, so consumers are its children
    with tracing.consuming(headers, "jg.checkout.orders", key="order-1"):
        pass
    process = _one(spans, "process jg.checkout.orders")
    assert process.kind is SpanKind.CONSUMER
    assert process.parent is not None and process.parent.span_id == publish.context.span_id
    assert headers["event-type"] == "checkout.order_placed"


def test_a_row_written_without_a_trace_starts_its_own(spans: InMemorySpanExporter) -> None:
    row = {"topic": "t", "message_key": "k", "event_type": "e", "traceparent": None}
    with tracing.publishing(row):
        pass
    publish = _one(spans, "publish t")
    assert publish.parent is None
    assert _hex(publish.context.trace_id, 32) != CALLER_TRACE


def test_every_log_line_carries_the_current_trace_and_span_ids(
    spans: InMemorySpanExporter, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("payment", json=True)
    log = structlog.get_logger("test")
    with tracing.span("handler", parent=tracing.extract({"traceparent": TRACEPARENT})):
        log.info("inside")
    log.info("outside")
    inside, outside = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    handler = _one(spans, "handler")
    assert inside["trace_id"] == CALLER_TRACE
    assert inside["span_id"] == _hex(handler.context.span_id, 16)
    assert "trace_id" not in outside


def _app() -> FastAPI:
    app = FastAPI(telemetry=HTTP_TELEMETRY)

    @app.get("/orders/{order_id}")
    async def read(order_id: str) -> dict[str, str]:
        tracing.annotate(order_number=f"JG-{order_id}", nothing=None)
        return {"order": order_id}

    @app.get("/broken")
    async def broken() -> None:
        raise HTTPException(503, "down")

    @app.get("/ready")
    async def ready() -> dict[str, str]:
        return {}

    return app


async def test_a_request_is_a_server_span_named_after_its_route_in_the_callers_trace(
    spans: InMemorySpanExporter,
) -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.get("/orders/42", headers={"traceparent": TRACEPARENT})
        assert answer.status_code == 200
        assert (await client.get("/broken")).status_code == 503
        assert (await client.get("/ready")).status_code == 200
    names = sorted(s.name for s in spans.get_finished_spans())
    assert names == ["GET /broken", "GET /orders/{order_id}"]  # one span each, none for probes
    server = _one(spans, "GET /orders/{order_id}")
    assert server.kind is SpanKind.SERVER
    assert _hex(server.context.trace_id, 32) == CALLER_TRACE
    assert server.attributes is not None
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["jg.order_number"] == "JG-42"
    assert "jg.nothing" not in server.attributes
    broken = _one(spans, "GET /broken")
    assert broken.status.status_code is StatusCode.ERROR
    assert broken.parent is None  # no traceparent: a trace of its own


async def test_an_outgoing_request_is_a_client_span_whose_context_the_callee_receives(
    spans: InMemorySpanExporter,
) -> None:
    received: list[str | None] = []

    def callee(request: httpx.Request) -> httpx.Response:
        received.append(request.headers.get("traceparent"))
        return httpx.Response(200)

    transport = TracedTransport(httpx.MockTransport(callee), peer="payment")
    async with httpx.AsyncClient(transport=transport) as client:
        with tracing.span("caller", parent=tracing.extract({"traceparent": TRACEPARENT})):
            await client.get("http://payment.internal/invoices/1.pdf")
    call = _one(spans, "GET payment")
    assert call.kind is SpanKind.CLIENT
    assert _hex(call.context.trace_id, 32) == CALLER_TRACE
    assert received == [f"00-{CALLER_TRACE}-{_hex(call.context.span_id, 16)}-01"]


def test_spans_are_recorded_only_once_something_receives_them() -> None:
    sampler = tracing.RecordWhenReceived()
    provider = TracerProvider(sampler=sampler)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    parent = tracing.extract({"traceparent": TRACEPARENT})
    with tracer.start_as_current_span("unreceived", context=parent) as unreceived:
        # not recorded, yet it carries the caller's trace on (logs and headers get the ids)
        assert not unreceived.is_recording()
        assert _hex(unreceived.get_span_context().trace_id, 32) == CALLER_TRACE
        assert tracing.inject()["traceparent"].startswith(f"00-{CALLER_TRACE}-")
    with tracer.start_as_current_span("root") as root:
        assert root.get_span_context().is_valid and not root.is_recording()
    assert exporter.get_finished_spans() == ()
    sampler.received = True  # an exporter is configured
    with tracer.start_as_current_span("received", context=parent) as received:
        assert received.is_recording()
    assert [s.name for s in exporter.get_finished_spans()] == ["received"]
