"""The HTTP error plumbing of every service, once: errors, their JSON bodies, French messages.

Every error answer is a JSON object with a machine ``code`` and a French ``message``; errors
about fields add a list of problems, each ``{"field", "code", "message"}``, under the key the
service has always used (``errors`` in checkout, ``details`` elsewhere)::

    install_error_handlers(
        app,
        problems_key="errors",
        invalid_message="La commande contient des erreurs : voir le détail par champ.",
        field_messages={"postal_code": ("invalid_postal_code", "Code postal invalide.")},
        extra={ConflictError: conflict_handler},
    )

- :class:`ApiError` raised anywhere in a request (route, dependency, use case) answers its
  status, code, message, problems and headers;
- a :class:`~fastapi.exceptions.RequestValidationError` (pydantic, or jg_web's input guard)
  answers 422 with one :class:`Problem` per error, translated into French by
  :func:`problem_from_pydantic`;
- an unknown path or method answers 404 / 405 in French; an ``HTTPException`` whose detail is
  already ``{"code", "message"}`` (jg_auth's :class:`~jg_auth.AuthError`) answers it flat, with
  its headers (``WWW-Authenticate``, ``Retry-After``);
- :class:`JsonBodies` refuses (415) a request body that is not JSON, before any route runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import jg_auth
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from jg_web.countries import INVALID_COUNTRY_CODE
from jg_web.errors import Envelope, error_body
from jg_web.text import INVALID_CHARACTERS

__all__ = [
    "ApiError",
    "ExceptionHandler",
    "JsonBodies",
    "Problem",
    "ProblemsKey",
    "error_envelope",
    "install_error_handlers",
    "problem_from_pydantic",
]

ProblemsKey = Literal["errors", "details"]
ExceptionHandler = Callable[[Request, Any], Awaitable[Response]]

NOT_FOUND_MESSAGE = "Ressource introuvable."
METHOD_NOT_ALLOWED_MESSAGE = "Méthode non autorisée."
UNSUPPORTED_MEDIA_MESSAGE = (
    "Le corps de la requête doit être du JSON (Content-Type: application/json)."
)
_NO_FIELDS: Mapping[str, tuple[str, str]] = MappingProxyType({})
_NO_HANDLERS: Mapping[type[Exception], ExceptionHandler] = MappingProxyType({})


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field: its dotted path, a machine code and a French message.

    ``extra`` adds keys to the problem's JSON (accounts' password rules: ``{"rule": ...}``).
    """

    field: str
    code: str
    message: str
    extra: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message, **self.extra}


class ApiError(Exception):
    """An answer other than success; raised anywhere in a request (rolled back with it).

    ``extra`` adds top-level keys to the body (``{"return_id": ...}``).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        problems: Sequence[Problem] = (),
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.problems = tuple(problems)
        self.headers = dict(headers) if headers else None
        self.extra = dict(extra) if extra else {}


# --- pydantic errors in French ---------------------------------------------------------------

_OWN_MESSAGES = frozenset({INVALID_CHARACTERS, INVALID_COUNTRY_CODE, "too_long"})
_PRICE_FIELDS = frozenset({"price", "unit_price", "total", "line_total", "vat", "amount"})


def field_of(loc: Sequence[Any]) -> str:
    """The dotted field of an error location, without FastAPI's leading ``body``
    (``query.cursor`` and ``header.Idempotency-Key`` keep theirs)."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def problem_from_pydantic(
    error: Mapping[str, Any], field_messages: Mapping[str, tuple[str, str]] = _NO_FIELDS
) -> Problem:
    """One pydantic error as a field, a machine code and a French reason.

    ``field_messages`` maps a field (its whole dotted path, or its last segment) to the code and
    message of the service's own fields (``"postal_code": ("invalid_postal_code", ...)``); they
    win over the generic wording. A validator's ``ValueError`` speaks for itself (its message is
    kept, without pydantic's ``Value error,`` prefix): validators write French.
    """
    name = field_of(error.get("loc", ()))
    kind = str(error.get("type", ""))
    msg = str(error.get("msg", kind))
    last = name.rsplit(".", 1)[-1]
    if kind == "json_invalid":
        return Problem("body", "invalid_json", "Le corps de la requête n'est pas un JSON valide.")
    if kind == "too_long" and "ctx" in error:  # pydantic's: a list over its max_length
        return Problem(name, "too_many_items", "Cette liste est trop longue.")
    if kind in _OWN_MESSAGES:  # jg_web's checks (and the database's last resort) speak French
        return Problem(name, kind, msg)
    if kind == "missing":
        return Problem(name, "missing", "Ce champ est obligatoire.")
    if kind == "extra_forbidden":
        if last in _PRICE_FIELDS:
            return Problem(
                name,
                "price_not_accepted",
                "Les prix sont fixés par notre catalogue, pas par la demande.",
            )
        return Problem(name, "unknown_field", "Ce champ n'est pas accepté.")
    specific = field_messages.get(name) or field_messages.get(last)
    if specific is not None:
        return Problem(name, *specific)
    if kind == "value_error":
        return Problem(name, "invalid_value", msg.removeprefix("Value error, "))
    if kind in {"string_too_short", "string_type"} and error.get("input") in ("", None):
        return Problem(name, "missing", "Ce champ est obligatoire.")
    if kind == "string_too_long":
        return Problem(name, "too_long", "Ce champ est trop long.")
    return Problem(name, "invalid_value", f"Valeur invalide ({msg}).")


# --- bodies and handlers ---------------------------------------------------------------------


def error_envelope(problems_key: ProblemsKey, *, always_list: bool = False) -> Envelope:
    """The service's body builder for answers given by plumbing (jg_web's BodyLimit, 415).

    ``always_list``: the problems key is present (``[]``) even without problems (checkout's
    ``errors``); otherwise it appears only with problems."""

    def envelope(code: str, message: str) -> dict[str, Any]:
        body = error_body(code, message)
        if always_list:
            body[problems_key] = []
        return body

    return envelope


@dataclass(frozen=True)
class _Shape:
    problems_key: ProblemsKey
    always_list: bool

    def response(
        self,
        status: int,
        code: str,
        message: str,
        problems: Sequence[Problem] = (),
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> JSONResponse:
        body = error_body(code, message)
        if problems or self.always_list:
            body[self.problems_key] = [p.as_json() for p in problems]
        body.update(extra or {})
        return JSONResponse(body, status_code=status, headers=dict(headers) if headers else None)


def install_error_handlers(
    app: FastAPI,
    *,
    problems_key: ProblemsKey,
    invalid_message: str,
    invalid_code: str = "invalid_request",
    always_list: bool = False,
    field_messages: Mapping[str, tuple[str, str]] = _NO_FIELDS,
    extra: Mapping[type[Exception], ExceptionHandler] = _NO_HANDLERS,
) -> Envelope:
    """Answer ApiError, validation errors, 404/405 and jg_auth's errors in the service's shape.

    ``invalid_code`` / ``invalid_message``: the body of a 422 for a request that fails
    validation; ``field_messages``: see :func:`problem_from_pydantic`; ``extra``: the service's
    own exception handlers (registered last: they may override these). Returns the service's
    :data:`~jg_web.errors.Envelope`, for ``BodyLimit(envelope=...)`` and ``JsonBodies``.
    """
    shape = _Shape(problems_key, always_list)

    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return shape.response(
            exc.status, exc.code, exc.message, exc.problems, headers=exc.headers, extra=exc.extra
        )

    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [problem_from_pydantic(e, field_messages) for e in exc.errors()]
        return shape.response(422, invalid_code, invalid_message, problems)

    async def auth_error(_: Request, exc: jg_auth.AuthError) -> JSONResponse:
        return shape.response(exc.status_code, exc.code, exc.message, headers=exc.headers)

    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail: Any = exc.detail  # a str for Starlette, a dict for jg_auth and some routes
        if isinstance(detail, dict) and "code" in detail and "message" in detail:
            code, message = str(detail["code"]), str(detail["message"])
        else:
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
            message = str(detail)
            if exc.status_code == 404 and message == "Not Found":
                message = NOT_FOUND_MESSAGE
            elif exc.status_code == 405:
                message = METHOD_NOT_ALLOWED_MESSAGE
        return shape.response(exc.status_code, code, message, headers=exc.headers)

    app.add_exception_handler(ApiError, api_error)  # type: ignore[arg-type]  # Starlette types handlers with Exception
    app.add_exception_handler(RequestValidationError, invalid)  # type: ignore[arg-type]  # idem
    app.add_exception_handler(jg_auth.AuthError, auth_error)  # type: ignore[arg-type]  # idem
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]  # idem
    for exc_class, handler in extra.items():
        app.add_exception_handler(exc_class, handler)
    return error_envelope(problems_key, always_list=always_list)


# --- the JSON body guard ---------------------------------------------------------------------


def is_json(content_type: str) -> bool:
    """``application/json`` or any ``application/*+json``, whatever its parameters."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class JsonBodies:
    """Refuse (415) a request body that is not JSON, before any route runs.

    Nothing is read here: a body is announced by ``Content-Length`` (not 0) or
    ``Transfer-Encoding``. Sizes are :class:`jg_web.BodyLimit`'s business. ``envelope`` builds
    the service's error body (see :func:`install_error_handlers`).
    """

    def __init__(self, app: ASGIApp, *, envelope: Envelope = error_body) -> None:
        self.app = app
        self.envelope = envelope

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in {"POST", "PUT", "PATCH"}:
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            has_body = "transfer-encoding" in headers or headers.get("content-length", "0") != "0"
            if has_body and not is_json(headers.get("content-type", "")):
                response = JSONResponse(
                    self.envelope("unsupported_media_type", UNSUPPORTED_MEDIA_MESSAGE),
                    status_code=415,
                    headers={"Connection": "close"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
