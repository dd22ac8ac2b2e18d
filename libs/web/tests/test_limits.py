"""BodyLimit on a small FastAPI app, driven through ASGI: counted bytes, route classes, slots."""

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request
from jg_web import BodyLimit, RouteLimit, UploadSlots

pytestmark = pytest.mark.unit

LIMIT = 1024
UPLOAD_LIMIT = 10 * 1024


@dataclass
class Seen:
    """What the application behind the middleware did."""

    bodies: list[int] = field(default_factory=list)
    running: int = 0
    most_at_once: int = 0


def make_app(seen: Seen, slots: UploadSlots | None = None) -> BodyLimit:
    app = FastAPI()

    @app.post("/json")
    async def json_route(request: Request) -> dict[str, int]:
        body = await request.body()
        seen.bodies.append(len(body))
        return {"size": len(body)}

    @app.post("/uploads")
    async def upload(request: Request) -> dict[str, int]:
        seen.running += 1
        seen.most_at_once = max(seen.most_at_once, seen.running)
        try:
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                await asyncio.sleep(0.01)
            seen.bodies.append(size)
            return {"size": size}
        finally:
            seen.running -= 1

    def envelope(code: str, message: str) -> dict[str, Any]:
        return {"code": code, "message": message, "errors": []}

    return BodyLimit(
        app,
        max_bytes=LIMIT,
        routes=[
            RouteLimit(
                methods=frozenset({"POST"}),
                path=re.compile(r"/uploads"),
                max_bytes=UPLOAD_LIMIT,
                code="upload_too_large",
                message="L'envoi est trop volumineux.",
                slots=slots,
            )
        ],
        envelope=envelope,
    )


@dataclass
class Exchange:
    status: int
    headers: dict[str, str]
    body: Any
    read: int  # body bytes the server took from the client


def chunks(size: int, total: int) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b"x" * piece


async def call(
    app: BodyLimit, path: str, pieces: Iterator[bytes], headers: dict[str, str] | None = None
) -> Exchange:
    read = 0
    pending = list(pieces)
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        if not pending:
            await asyncio.sleep(3600)  # a client that has nothing more to send
        piece = pending.pop(0)
        read += len(piece)
        return {"type": "http.request", "body": piece, "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 5000),
        "server": ("test", 80),
    }
    await app(scope, receive, send)
    [start] = [m for m in messages if m["type"] == "http.response.start"]
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return Exchange(
        status=start["status"],
        headers={k.decode(): v.decode() for k, v in start["headers"]},
        body=json.loads(body),
        read=read,
    )


async def test_a_body_within_the_cap_reaches_the_application_whole() -> None:
    seen = Seen()
    answer = await call(make_app(seen), "/json", chunks(100, LIMIT))
    assert (answer.status, answer.body) == (200, {"size": LIMIT})
    assert seen.bodies == [LIMIT]


async def test_an_announced_length_over_the_cap_is_refused_without_reading() -> None:
    seen = Seen()
    answer = await call(
        make_app(seen), "/json", chunks(100, 5000), {"Content-Length": str(LIMIT + 1)}
    )
    assert answer.status == 413
    assert answer.body == {
        "code": "payload_too_large",
        "message": "Le corps de la requête est trop volumineux (1 Ko au plus).",
        "errors": [],
    }
    assert answer.headers["connection"] == "close"
    assert answer.read == 0
    assert seen.bodies == []


@pytest.mark.parametrize(
    "headers",
    [{}, {"Content-Length": "10"}, {"Content-Length": "not-a-number"}],
    ids=["chunked", "lying length", "garbled length"],
)
async def test_the_bytes_read_are_counted_whatever_the_headers_say(
    headers: dict[str, str],
) -> None:
    seen = Seen()
    answer = await call(make_app(seen), "/json", chunks(100, 1_000_000), headers)
    assert answer.status == 413
    assert answer.body["code"] == "payload_too_large"
    assert answer.headers["connection"] == "close"
    assert seen.bodies == []  # the route never got a body
    assert answer.read <= LIMIT + 100  # it stopped reading at the first chunk past the cap


async def test_a_route_class_has_its_own_cap_and_its_own_message() -> None:
    seen = Seen()
    app = make_app(seen)
    assert (await call(app, "/uploads", chunks(1000, UPLOAD_LIMIT))).status == 200
    answer = await call(app, "/uploads", chunks(1000, UPLOAD_LIMIT + 1))
    assert answer.status == 413
    assert answer.body["code"] == "upload_too_large"
    assert answer.body["message"] == "L'envoi est trop volumineux."
    assert seen.bodies == [UPLOAD_LIMIT]
    # the small cap still holds everywhere else
    assert (await call(app, "/json", chunks(1000, UPLOAD_LIMIT))).status == 413


async def test_upload_slots_let_so_many_run_at_once_and_the_others_wait() -> None:
    seen = Seen()
    app = make_app(seen, UploadSlots(concurrency=2, wait_seconds=30))
    answers = await asyncio.gather(*(call(app, "/uploads", chunks(1000, 5000)) for _ in range(5)))
    assert [a.status for a in answers] == [200] * 5
    assert seen.most_at_once == 2


async def test_an_upload_that_finds_no_slot_in_time_gets_503_and_reads_nothing() -> None:
    seen = Seen()
    slots = UploadSlots(concurrency=1, wait_seconds=0.2)
    app = make_app(seen, slots)
    holding = asyncio.create_task(call(app, "/uploads", chunks(100, UPLOAD_LIMIT)))  # ~1 s
    while slots.in_use == 0:
        await asyncio.sleep(0.01)
    answer = await call(app, "/uploads", chunks(1000, 5000))
    assert answer.status == 503
    assert answer.body["code"] == "uploads_busy"
    assert answer.headers["retry-after"] == "5"
    assert answer.read == 0
    assert (await holding).status == 200
    assert slots.in_use == 0  # the slot came back
    assert (await call(app, "/uploads", chunks(1000, 5000))).status == 200


async def test_a_refused_upload_gives_its_slot_back() -> None:
    slots = UploadSlots(concurrency=1, wait_seconds=0.2)
    app = make_app(Seen(), slots)
    assert (await call(app, "/uploads", chunks(1000, UPLOAD_LIMIT * 3))).status == 413
    assert slots.in_use == 0
    assert (await call(app, "/uploads", chunks(1000, 1000))).status == 200


async def test_an_answer_given_before_the_body_was_read_closes_the_connection() -> None:
    app = make_app(Seen())
    unknown = await call(app, "/nowhere", chunks(100, 1000), {"Content-Length": "1000"})
    assert unknown.status == 404
    assert unknown.headers["connection"] == "close"  # uvicorn would otherwise drain the body
    read_whole = await call(app, "/json", chunks(100, 500), {"Content-Length": "500"})
    assert read_whole.status == 200
    assert "connection" not in read_whole.headers  # the connection stays usable
