"""Structured logs for every service: JSON when not on a terminal, readable on a terminal.

Each line carries the service name, whatever the correlation helpers bound (correlation id,
causation id, event id and type) and the current span's ``trace_id`` and ``span_id``, including
lines written through the standard library by FastStream, aiokafka or uvicorn.
"""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.types import Processor

from . import tracing

QUIET_LIBRARIES = ("aiokafka", "httpx", "stripe")
"""Libraries whose INFO lines are per request or per rebalance: warnings and errors only."""


def configure_logging(service: str, *, level: str = "INFO", json: bool | None = None) -> None:
    """Configure structlog and the standard library's root logger. Safe to call twice."""
    render_json = (not sys.stderr.isatty()) if json is None else json
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
        tracing.add_trace_ids,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if render_json
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(),
            exception_formatter=_exception_formatter(),
        )
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        # Lines from the standard library (FastStream, aiokafka, uvicorn) keep their `extra`.
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if render_json else _identity,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries that install their own handler (FastStream does, at import) go through ours.
    for name in ("faststream", "uvicorn", "uvicorn.error", "uvicorn.access"):
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
    # aiokafka is chatty at INFO about group rebalances; httpx and the Stripe SDK write a line
    # per request (the Stripe SDK two more): three lines per Stripe call were a tenth of
    # payment's CPU per order, and the client spans and metrics already say the same. Keep
    # their warnings.
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def _exception_formatter() -> structlog.typing.ExceptionRenderer:
    """Readable tracebacks on the console: rich's when structlog found rich, else plain ones.

    A service's ``__main__`` keeps rich out of its process (resident memory), so services
    print plain Python tracebacks; other processes (tests, tools) keep rich's.
    """
    if getattr(structlog.dev, "rich", None) is None:
        return structlog.dev.plain_traceback
    # never the frames' local variables: they hold customers' data and secrets (a DSN,
    # a client secret), and rendering them on every retry of an outage costs a core
    return structlog.dev.RichTracebackFormatter(
        show_locals=False, color_system="truecolor" if sys.stderr.isatty() else None
    )


def _add_service(service: str) -> Processor:
    def processor(
        _: object, __: str, event_dict: structlog.types.EventDict
    ) -> structlog.types.EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return processor


def _identity(
    _: object, __: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    return event_dict
