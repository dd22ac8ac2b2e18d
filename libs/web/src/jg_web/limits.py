"""Request body limits, enforced on the bytes actually read, and upload slots.

:class:`BodyLimit` is an ASGI middleware. Every request has a cap: the service's default (small
JSON bodies), or that of the first :class:`RouteLimit` its method and path match (a route class:
fulfillment's claim photos). A request is refused with 413 and the service's JSON error envelope:

- at once, without reading anything, when its ``Content-Length`` announces more than the cap;
- otherwise as soon as the bytes that came through ``receive()`` pass the cap, whatever
  ``Content-Length`` said (it may lie, or be absent with ``Transfer-Encoding: chunked``). The
  application's read then fails, so nothing after it runs (body parsing, authentication, a
  password hash), and whatever it answers is dropped for the 413.

Refusals carry ``Connection: close``: the server closes the connection instead of reading the
rest of the body to keep it alive. At most one cap's worth of bytes (plus the server's own
buffer, 64 KiB with uvicorn) is ever read from a refused request. Any other answer given before
the body was read to its end (a 404, a 401, a 415...) gets ``Connection: close`` too, for the
same reason: uvicorn would otherwise read and discard the rest, however long it is.

A route class may also hold :class:`UploadSlots`: at most ``concurrency`` such requests run at
once, so that their spooled files fit the pod's scratch space; one more waits up to
``wait_seconds`` for a slot (reading nothing meanwhile), then is refused with 503 and
``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jg_web.errors import Envelope, error_body, send_json_error

__all__ = ["BodyLimit", "RouteLimit", "UploadSlots"]

log = logging.getLogger(__name__)  # stdlib: jg_messaging's logging keeps the `extra` fields

TOO_LARGE_CODE = "payload_too_large"
BUSY_CODE = "uploads_busy"
BUSY_RETRY_AFTER_SECONDS = 5


def _size(limit: int) -> str:
    if limit >= 1024 * 1024 and limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} Mo"
    if limit >= 1024 and limit % 1024 == 0:
        return f"{limit // 1024} Ko"
    return f"{limit} octets"


class UploadSlots:
    """At most ``concurrency`` requests of a route class at once; the next waits, then 503."""

    def __init__(self, concurrency: int, wait_seconds: float) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.wait_seconds = wait_seconds
        self._semaphore = asyncio.Semaphore(concurrency)
        self._in_use = 0

    @property
    def in_use(self) -> int:
        return self._in_use

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[bool]:
        """Yields True with a slot held, or False when none freed within ``wait_seconds``."""
        try:
            async with asyncio.timeout(self.wait_seconds):
                await self._semaphore.acquire()
        except TimeoutError:
            yield False
            return
        self._in_use += 1
        try:
            yield True
        finally:
            self._in_use -= 1
            self._semaphore.release()


@dataclass(frozen=True)
class RouteLimit:
    """A route class: the requests whose method and path match, with their own cap."""

    methods: frozenset[str]
    path: re.Pattern[str]
    max_bytes: int
    code: str = TOO_LARGE_CODE
    message: str | None = None
    slots: UploadSlots | None = field(default=None, compare=False)

    def matches(self, method: str, path: str) -> bool:
        return method in self.methods and self.path.fullmatch(path) is not None


class _BodyTooLargeError(Exception):
    """Raised into the application when it reads past the cap."""


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def _has_body(scope: Scope, declared: int | None) -> bool:
    chunked = any(name == b"transfer-encoding" for name, _ in scope.get("headers", ()))
    return chunked or bool(declared)


_CLOSE = (b"connection", b"close")


class BodyLimit:
    """ASGI middleware: 413 past the cap of the request's route class, counted on the bytes."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        routes: Iterable[RouteLimit] = (),
        envelope: Envelope = error_body,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.routes = tuple(routes)
        self.envelope = envelope

    def route_for(self, method: str, path: str) -> RouteLimit | None:
        return next((r for r in self.routes if r.matches(method, path)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = self.route_for(scope["method"], scope["path"])
        limit = route.max_bytes if route else self.max_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._too_large(scope, send, route, limit, declared=declared)
            return
        if route is None or route.slots is None:
            await self._run(scope, receive, send, route, limit, declared)
            return
        async with route.slots.slot() as granted:
            if not granted:
                log.warning(
                    "upload_slots_busy",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "concurrency": route.slots.concurrency,
                        "waited_seconds": route.slots.wait_seconds,
                    },
                )
                await send_json_error(
                    send,
                    503,
                    self.envelope(
                        BUSY_CODE,
                        "Trop d'envois sont en cours en ce moment. Merci de réessayer dans "
                        "quelques instants.",
                    ),
                    [("Retry-After", str(BUSY_RETRY_AFTER_SECONDS))],
                    close=True,
                )
                return
            await self._run(scope, receive, send, route, limit, declared)

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        route: RouteLimit | None,
        limit: int,
        declared: int | None,
    ) -> None:
        received = 0
        refused = False
        started = False
        body_done = not _has_body(scope, declared)

        async def counted_receive() -> Message:
            nonlocal received, refused, body_done
            if refused:
                raise _BodyTooLargeError
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = body_done or not message.get("more_body", False)
                if received > limit:
                    refused = True
                    if not started:
                        await self._too_large(scope, send, route, limit, received=received)
                    raise _BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the application's answer to its failed read: the 413 went instead
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                if not body_done and _CLOSE not in headers:
                    # answered before the body was read: close rather than drain the rest
                    message = {**message, "headers": [*headers, _CLOSE]}
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not refused:
                raise
            # The application let the failed read (or what it made of it) escape: the 413 is
            # the answer, there is nothing more to do.

    async def _too_large(
        self,
        scope: Scope,
        send: Send,
        route: RouteLimit | None,
        limit: int,
        *,
        declared: int | None = None,
        received: int | None = None,
    ) -> None:
        log.warning(
            "request_body_too_large",
            extra={
                "method": scope["method"],
                "path": scope["path"],
                "limit_bytes": limit,
                "declared_bytes": declared,
                "received_bytes": received,
            },
        )
        code = route.code if route else TOO_LARGE_CODE
        message = (route.message if route else None) or (
            f"Le corps de la requête est trop volumineux ({_size(limit)} au plus)."
        )
        await send_json_error(send, 413, self.envelope(code, message), close=True)
