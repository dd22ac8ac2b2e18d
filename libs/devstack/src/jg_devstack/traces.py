"""Traces under ``make run``: a small OTLP/HTTP receiver and ``make trace ORDER_NUMBER=...``.

No real trace viewer can be installed from the registries this stack uses: Jaeger's Go module
(``github.com/jaegertracing/jaeger``) builds without its web interface (the UI is a git
submodule, absent from the module's archive), and no built ``jaeger-ui`` is published on npm.
So ``make run`` starts this receiver beside the services (``OTEL_EXPORTER_OTLP_ENDPOINT`` points
them at it): it accepts OTLP/HTTP trace exports (protobuf or JSON, ``POST /v1/traces``) and
appends every span as one JSON line to ``.cache/traces/spans.jsonl``. ``make trace
ORDER_NUMBER=JG-...`` finds the traces of that order (the span checkout tagged with
``jg.order_number`` on ``POST /orders``, then every trace holding an event keyed by the order's
id: the release after the modification window starts its own) and prints each as a
waterfall::

    python -m jg_devstack.traces serve [--port 4318] [--dir .cache/traces]
    python -m jg_devstack.traces show JG-2026-000123 [--dir .cache/traces]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from google.protobuf import json_format  # type: ignore[import-untyped]  # protobuf ships no stubs
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2

from jg_devstack import config
from jg_devstack.config import HOST

TRACES_PORT = 4318  # OTLP/HTTP's usual port
SPANS_FILE = "spans.jsonl"
ORDER_NUMBER = "jg.order_number"
ORDER_ID = "jg.order_id"
MESSAGE_KEY = "messaging.kafka.message.key"
_KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


def default_dir() -> Path:
    return config.find_repo_root() / ".cache" / "traces"


@dataclass(frozen=True)
class SpanRecord:
    """One exported span, as stored (times in nanoseconds since the epoch)."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    service: str
    kind: str
    start: int
    end: int
    attributes: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    """The status description of a failed span (``""`` when failed without one)."""

    @property
    def duration(self) -> int:
        return max(0, self.end - self.start)

    def as_json(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_span_id": self.parent_span_id,
            "name": self.name,
            "service": self.service,
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "attributes": dict(self.attributes),
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SpanRecord:
        return cls(
            trace_id=data["trace_id"],
            span_id=data["span_id"],
            parent_span_id=data.get("parent_span_id") or "",
            name=data["name"],
            service=data.get("service") or "?",
            kind=data.get("kind") or "internal",
            start=int(data["start"]),
            end=int(data["end"]),
            attributes=data.get("attributes") or {},
            error=data.get("error"),
        )


# --- OTLP -> records (pure) ------------------------------------------------------------------


def _value(value: common_pb2.AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which == "array_value":
        return [_value(v) for v in value.array_value.values]
    if which in ("string_value", "bool_value", "int_value", "double_value"):
        return getattr(value, which)
    return None if which is None else str(getattr(value, which))


def _attributes(items: Iterable[common_pb2.KeyValue]) -> dict[str, Any]:
    return {item.key: _value(item.value) for item in items}


def decode_export(body: bytes, content_type: str) -> list[SpanRecord]:
    """The spans of one OTLP/HTTP trace export (protobuf, or JSON when ``content_type`` says)."""
    request = trace_service_pb2.ExportTraceServiceRequest()
    if "json" in content_type:
        json_format.Parse(body.decode("utf-8"), request)
    else:
        request.ParseFromString(body)
    records: list[SpanRecord] = []
    for resource_spans in request.resource_spans:
        service = str(_attributes(resource_spans.resource.attributes).get("service.name", "?"))
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                failed = span.status.code == 2  # STATUS_CODE_ERROR
                records.append(
                    SpanRecord(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        name=span.name,
                        service=service,
                        kind=_KINDS.get(span.kind, "internal"),
                        start=span.start_time_unix_nano,
                        end=span.end_time_unix_nano,
                        attributes=_attributes(span.attributes),
                        error=span.status.message if failed else None,
                    )
                )
    return records


# --- the store -------------------------------------------------------------------------------


class SpanStore:
    """Spans as JSON lines in ``folder/spans.jsonl`` (appended by the receiver, read by show)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / SPANS_FILE
        self._lock = threading.Lock()

    def append(self, records: Sequence[SpanRecord]) -> None:
        if not records:
            return
        lines = "".join(json.dumps(r.as_json(), separators=(",", ":")) + "\n" for r in records)
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(lines)

    def read(self) -> Iterator[SpanRecord]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    try:
                        yield SpanRecord.from_json(json.loads(line))
                    except (ValueError, KeyError):
                        continue  # a line cut by a crash of the receiver


# --- finding an order's traces (pure) --------------------------------------------------------


def order_traces(spans: Iterable[SpanRecord], order_number: str) -> dict[str, list[SpanRecord]]:
    """The traces of one order, oldest first: the one of its ``POST /orders`` (the span
    tagged with its number) and every trace with a Kafka message keyed by its id."""
    by_trace: dict[str, list[SpanRecord]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    order_ids: set[str] = set()
    wanted: set[str] = set()
    for trace_id, members in by_trace.items():
        for span in members:
            if span.attributes.get(ORDER_NUMBER) == order_number:
                wanted.add(trace_id)
                if span.attributes.get(ORDER_ID):
                    order_ids.add(str(span.attributes[ORDER_ID]))
    for trace_id, members in by_trace.items():
        if any(str(s.attributes.get(MESSAGE_KEY)) in order_ids for s in members):
            wanted.add(trace_id)
    return {
        trace_id: by_trace[trace_id]
        for trace_id in sorted(wanted, key=lambda t: min(s.start for s in by_trace[t]))
    }


# --- the waterfall (pure) --------------------------------------------------------------------


def _ordered(spans: Sequence[SpanRecord]) -> list[tuple[int, SpanRecord]]:
    """Spans depth first (children by start time), each with its depth."""
    ids = {s.span_id for s in spans}
    children: dict[str, list[SpanRecord]] = {}
    roots: list[SpanRecord] = []
    for span in spans:
        if span.parent_span_id and span.parent_span_id in ids:
            children.setdefault(span.parent_span_id, []).append(span)
        else:
            roots.append(span)  # the trace's root, or a span whose parent was not exported
    ordered: list[tuple[int, SpanRecord]] = []

    def visit(span: SpanRecord, depth: int) -> None:
        ordered.append((depth, span))
        for child in sorted(children.get(span.span_id, []), key=lambda s: (s.start, s.end)):
            visit(child, depth + 1)

    for root in sorted(roots, key=lambda s: (s.start, s.end)):
        visit(root, 0)
    return ordered


def _bar(start: int, duration: int, t0: int, total: int, width: int) -> str:
    if total <= 0:
        return "█".ljust(width)
    begin = min(width - 1, int((start - t0) * width / total))
    length = max(1, round(duration * width / total))
    length = min(length, width - begin)
    return (" " * begin + "█" * length).ljust(width)


def render_waterfall(spans: Sequence[SpanRecord], *, width: int = 40, name_width: int = 48) -> str:
    """A trace as text: one line per span, indented under its parent, with its service, its
    start offset and duration in milliseconds and a bar on the trace's time line. A failed
    span is marked ``!`` with its error."""
    if not spans:
        return ""
    t0 = min(s.start for s in spans)
    total = max(s.end for s in spans) - t0
    services = sorted({s.service for s in spans})
    lines = [
        f"trace {spans[0].trace_id}: {len(spans)} spans, {total / 1e6:.1f} ms, "
        f"services: {', '.join(services)}",
        f"{'start ms':>10} {'dur ms':>9}  {'service':<13} {'span':<{name_width}} |",
    ]
    for depth, span in _ordered(spans):
        label = ("  " * depth + span.name)[:name_width]
        mark = "!" if span.error is not None else " "
        line = (
            f"{(span.start - t0) / 1e6:>10.1f} {span.duration / 1e6:>9.1f} {mark}"
            f"{span.service:<13.13} {label:<{name_width}} |"
            f"{_bar(span.start, span.duration, t0, total, width)}|"
        )
        if span.error:
            line += f" {span.error}"
        lines.append(line)
    return "\n".join(lines)


# --- the receiver ----------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    store: SpanStore  # set on the subclass the server is built with

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/v1/traces":
            self.send_error(404)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        content_type = self.headers.get("Content-Type", "application/x-protobuf")
        try:
            records = decode_export(body, content_type)
        except Exception as exc:  # a malformed export: say so, keep serving
            self.send_error(400, f"unreadable OTLP export: {type(exc).__name__}")
            return
        self.store.append(records)
        answer = trace_service_pb2.ExportTraceServiceResponse()
        if "json" in content_type:
            payload, answer_type = json_format.MessageToJson(answer).encode(), "application/json"
        else:
            payload, answer_type = answer.SerializeToString(), "application/x-protobuf"
        self.send_response(200)
        self.send_header("Content-Type", answer_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per export would drown the services' logs


def receiver(folder: Path, *, host: str = HOST, port: int = TRACES_PORT) -> ThreadingHTTPServer:
    """An OTLP/HTTP trace receiver writing into ``folder`` (``serve_forever`` to run it)."""
    handler = type("OtlpHandler", (_Handler,), {"store": SpanStore(folder)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


class BackgroundReceiver:
    """A receiver serving from a thread of this process (the e2e tests' platform exports here)::

    with BackgroundReceiver(folder) as traces:
        ...  # services started with exporter_env(traces.endpoint); spans in traces.store
    """

    def __init__(self, folder: Path, *, port: int = 0) -> None:
        self.store = SpanStore(folder)
        self._server = receiver(folder, port=port)
        self.endpoint = f"http://{HOST}:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="otlp-receiver", daemon=True
        )

    def __enter__(self) -> BackgroundReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def run_receiver(
    services: Sequence[str], service_command: Callable[[str], list[str]]
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """``make run``'s commands (the services, then this receiver) and the variables that point
    the services' exporters at it. With ``OTEL_EXPORTER_OTLP_ENDPOINT`` already set (a
    collector of one's own), the services export there and no receiver is started."""
    commands = {name: service_command(name) for name in services}
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return commands, {}
    command = service_command("jg_devstack.traces")
    commands["traces"] = [*command, "serve", "--port", str(TRACES_PORT)]
    print(
        f"Traces: OTLP/HTTP on http://{HOST}:{TRACES_PORT}; "
        "`make trace ORDER_NUMBER=JG-...` prints an order's trace",
        flush=True,
    )
    return commands, exporter_env(f"http://{HOST}:{TRACES_PORT}")


def exporter_env(endpoint: str) -> dict[str, str]:
    """A service's variables to export its spans to ``endpoint`` within a fraction of a second
    (the SDK's batch waits 5 s by default)."""
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "500"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jg_devstack.traces", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="receive OTLP/HTTP trace exports")
    serve.add_argument("--port", type=int, default=TRACES_PORT)
    serve.add_argument("--dir", type=Path, default=None)
    show = commands.add_parser("show", help="print an order's traces as waterfalls")
    show.add_argument("order_number", help="the order's number, e.g. JG-2026-000123")
    show.add_argument("--dir", type=Path, default=None)
    show.add_argument("--width", type=int, default=40, help="columns of the time line")
    args = parser.parse_args(argv)
    folder: Path = args.dir or default_dir()
    if args.command == "serve":
        server = receiver(folder, port=args.port)
        print(f"OTLP/HTTP traces on http://{HOST}:{args.port}/v1/traces -> {folder / SPANS_FILE}")
        sys.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
        return 0
    traces = order_traces(SpanStore(folder).read(), args.order_number.strip())
    if not traces:
        print(
            f"No trace of order {args.order_number} in {folder / SPANS_FILE} (traces are "
            "recorded while `make run` runs; spans arrive within a few seconds).",
            file=sys.stderr,
        )
        return 1
    try:
        print("\n\n".join(render_waterfall(spans, width=args.width) for spans in traces.values()))
    except BrokenPipeError:  # `make trace ... | head`
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
