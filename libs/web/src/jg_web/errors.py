"""The JSON error envelope shared by the services: ``{"code", "message", ...}``.

Every service answers errors as a JSON object with a machine ``code`` and a French ``message``;
some add per-field problems (``details`` or ``errors``). Plumbing that answers on a service's
behalf (the body limit) builds the object with the service's :data:`Envelope`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import Send

__all__ = [
    "Envelope",
    "error_body",
    "send_json_error",
    "validation_error_handler",
]

Envelope = Callable[[str, str], dict[str, Any]]
"""Builds a service's error body from a machine code and a French message."""


def error_body(code: str, message: str) -> dict[str, Any]:
    """The envelope every service understands: ``{"code", "message"}``."""
    return {"code": code, "message": message}


async def send_json_error(
    send: Send,
    status: int,
    body: dict[str, Any],
    headers: Sequence[tuple[str, str]] = (),
    *,
    close: bool = False,
) -> None:
    """Send a whole JSON answer through a raw ASGI ``send``.

    ``close`` adds ``Connection: close``: the server closes the connection after the answer
    instead of reading (and discarding) the rest of a body nobody wants.
    """
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers),
    ]
    if close:
        raw.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload, "more_body": False})


def _field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


async def validation_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """422 ``{"code": "invalid_request", "message", "details": [{"field", "code", "message"}]}``
    for a service that has no validation handler of its own."""
    assert isinstance(exc, RequestValidationError)
    details = [
        {"field": _field(e.get("loc", ())), "code": str(e.get("type")), "message": str(e["msg"])}
        for e in exc.errors()
    ]
    return JSONResponse(
        {
            "code": "invalid_request",
            "message": "La requête contient des erreurs.",
            "details": details,
        },
        status_code=422,
    )
