"""The correlation id of an order travels in Kafka and HTTP headers and in every log line."""

from __future__ import annotations

import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CORRELATION_HEADER = "X-Correlation-ID"


def new_correlation_id() -> str:
    return str(uuid.uuid4())


def bind(**values: str | None) -> None:
    """Bind values (correlation_id, event_id, order_id...) into every later log line."""
    structlog.contextvars.bind_contextvars(**{k: v for k, v in values.items() if v is not None})


def current_correlation_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("correlation_id")
    return str(value) if value is not None else None


class CorrelationMiddleware:
    """ASGI middleware: reads `X-Correlation-ID` (or makes one), binds it, echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = CORRELATION_HEADER.lower().encode()
        raw = next((v for k, v in scope.get("headers", []) if k == wanted), None)
        correlation_id = _sanitize(raw.decode("latin-1")) if raw else None
        correlation_id = correlation_id or new_correlation_id()

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((wanted, correlation_id.encode()))
                message["headers"] = headers
            await send(message)

        with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
            await self.app(scope, receive, send_with_header)


def _sanitize(value: str) -> str | None:
    value = value.strip()
    if not value or len(value) > 128 or not value.isprintable():
        return None
    return value
