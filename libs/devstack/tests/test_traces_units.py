"""`make trace`: the OTLP receiver, its store, finding an order's traces, the waterfall."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jg_devstack.traces import (
    BackgroundReceiver,
    SpanRecord,
    SpanStore,
    order_traces,
    render_waterfall,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

pytestmark = pytest.mark.unit

MS = 1_000_000  # nanoseconds


def _span(
    name: str,
    span_id: str,
    parent: str = "",
    *,
    start_ms: float,
    end_ms: float,
    service: str = "checkout",
    trace_id: str = "a" * 32,
    error: str | None = None,
    **attributes: object,
) -> SpanRecord:
    t0 = 1_700_000_000_000 * MS
    return SpanRecord(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        service=service,
        kind="internal",
        start=t0 + int(start_ms * MS),
        end=t0 + int(end_ms * MS),
        attributes=attributes,
        error=error,
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, SpanStore]]:
    with BackgroundReceiver(tmp_path) as traces:
        yield f"{traces.endpoint}/v1/traces", traces.store


def test_spans_exported_over_otlp_are_stored_with_their_service_parent_and_attributes(
    served: tuple[str, SpanStore],
) -> None:
    endpoint, store = served
    provider = TracerProvider(resource=Resource.create({"service.name": "payment"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("process jg.checkout.orders", kind=SpanKind.CONSUMER) as p:
        p.set_attribute("messaging.kafka.message.key", "order-1")
        with tracer.start_as_current_span("stripe POST /v1/payment_intents") as call:
            call.set_status(Status(StatusCode.ERROR, "HTTP 503"))
    provider.shutdown()

    stored = {s.name: s for s in store.read()}
    assert set(stored) == {"process jg.checkout.orders", "stripe POST /v1/payment_intents"}
    process, call = stored["process jg.checkout.orders"], stored["stripe POST /v1/payment_intents"]
    assert process.service == call.service == "payment"
    assert process.kind == "consumer"
    assert process.attributes["messaging.kafka.message.key"] == "order-1"
    assert call.trace_id == process.trace_id
    assert call.parent_span_id == process.span_id
    assert process.parent_span_id == ""
    assert call.error == "HTTP 503"
    assert process.error is None
    assert call.start >= process.start and call.end <= process.end


def test_an_order_is_found_by_its_number_and_by_the_events_keyed_by_its_id() -> None:
    placed = "b" * 32
    released = "c" * 32
    other = "d" * 32
    spans = [
        _span("POST /orders", "01", start_ms=0, end_ms=5, trace_id=placed,
              **{"jg.order_number": "JG-2026-000001", "jg.order_id": "order-1"}),
        _span("transaction", "02", "01", start_ms=1, end_ms=4, trace_id=placed),
        _span("transaction", "03", start_ms=30_000, end_ms=30_002, trace_id=released),
        _span("publish jg.checkout.orders", "04", "03", start_ms=30_003, end_ms=30_004,
              trace_id=released, **{"messaging.kafka.message.key": "order-1"}),
        _span("POST /orders", "05", start_ms=10, end_ms=12, trace_id=other,
              **{"jg.order_number": "JG-2026-000002", "jg.order_id": "order-2"}),
    ]  # fmt: skip
    found = order_traces(spans, "JG-2026-000001")
    assert list(found) == [placed, released]  # oldest first
    assert [s.span_id for s in found[placed]] == ["01", "02"]
    assert order_traces(spans, "JG-2026-000404") == {}


def test_the_waterfall_indents_children_under_their_parent_with_offsets_and_bars() -> None:
    spans = [
        # out of order on purpose: the waterfall sorts by parent, then start time
        _span("smtp send", "04", "03", start_ms=60, end_ms=80, service="notifications"),
        _span("POST /orders", "01", start_ms=0, end_ms=100, **{"jg.order_number": "JG-1"}),
        _span("send email", "03", "02", start_ms=50, end_ms=90, service="notifications"),
        _span("transaction", "02", "01", start_ms=10, end_ms=30),
        _span("stripe POST /v1/payment_intents", "05", "02", start_ms=20, end_ms=25,
              service="payment", error="HTTP 503"),
    ]  # fmt: skip
    lines = render_waterfall(spans, width=10).splitlines()
    assert lines[0] == (
        f"trace {'a' * 32}: 5 spans, 100.0 ms, services: checkout, notifications, payment"
    )
    body = lines[2:]
    names = [line[36:84].rstrip() for line in body]
    assert names == [
        "POST /orders",
        "  transaction",
        "    stripe POST /v1/payment_intents",
        "    send email",
        "      smtp send",
    ]
    first, _, stripe, send, smtp = body
    assert first.split()[:2] == ["0.0", "100.0"]
    assert stripe.split()[:2] == ["20.0", "5.0"]
    assert send.split()[:3] == ["50.0", "40.0", "notifications"]
    # bars on a 10-column time line: 100 ms is the whole line
    assert first.endswith("|██████████|")
    assert "|     ████ |" in send  # 50 ms -> column 5, 40 ms -> 4 columns
    assert "|      ██  |" in smtp
    assert "!payment" in stripe and stripe.endswith("HTTP 503")  # failed spans say why
    assert "!" not in first


def test_an_unreadable_line_in_the_store_is_skipped(tmp_path: Path) -> None:
    store = SpanStore(tmp_path)
    store.append([_span("POST /orders", "01", start_ms=0, end_ms=1)])
    with store.path.open("a", encoding="utf-8") as out:
        out.write('{"trace_id": "cut by a cra')
    assert [s.name for s in store.read()] == ["POST /orders"]
