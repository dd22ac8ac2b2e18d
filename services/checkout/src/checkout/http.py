"""HTTP plumbing: JSON errors with a machine code, the content type guard.

Body sizes and the text rule of path, query and header values are jg_web's (see app.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import jg_auth
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from jg_web import INVALID_CHARACTERS, INVALID_COUNTRY_CODE
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from checkout.auth import AuthError
from checkout.domain import ConflictError, OrderRejectedError, Problem


def error_response(
    status: int,
    code: str,
    message: str,
    problems: Sequence[Problem] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {
        "code": code,
        "message": message,
        "errors": [{"field": p.field, "code": p.code, "message": p.message} for p in problems],
    }
    return JSONResponse(body, status_code=status, headers=headers)


INVALID_MESSAGE = "La commande contient des erreurs : voir le détail par champ."
_OWN_MESSAGES = frozenset({INVALID_CHARACTERS, INVALID_COUNTRY_CODE, "too_long"})


def _field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def problem_from_pydantic(error: dict[str, Any]) -> Problem:
    """Turn one pydantic error into a field, a machine code and a French reason."""
    field = _field(error.get("loc", ()))
    kind = error.get("type", "")
    last = field.rsplit(".", 1)[-1]
    if kind == "json_invalid":
        return Problem("body", "invalid_json", "Le corps de la requête n'est pas un JSON valide.")
    if kind in _OWN_MESSAGES:  # jg_web's checks (and the database's last resort) speak French
        return Problem(field, kind, str(error.get("msg", "")))
    if kind == "missing":
        return Problem(field, "missing", "Ce champ est obligatoire.")
    if kind == "extra_forbidden":
        if last in {"price", "unit_price", "total", "line_total", "vat", "amount"}:
            return Problem(
                field,
                "price_not_accepted",
                "Les prix sont fixés par notre catalogue, pas par la demande.",
            )
        return Problem(field, "unknown_field", "Ce champ n'est pas accepté.")
    if field == "payment.type":
        return Problem(
            field,
            "unsupported_payment_type",
            "Moyen de paiement non accepté : carte bancaire (Visa, Mastercard, Maestro) ou "
            "Revolut Pay.",
        )
    specific = {
        "email": ("invalid_email", "Adresse e-mail invalide."),
        "country_code": (
            "invalid_country_code",
            "Le pays doit être un code ISO à deux lettres majuscules (par exemple « FR »).",
        ),
        "postal_code": ("invalid_postal_code", "Code postal invalide."),
        "phone": ("invalid_phone", "Numéro de téléphone invalide."),
        "stripe_payment_method_id": (
            "invalid_payment_method_id",
            "Identifiant de moyen de paiement Stripe invalide (« pm_... » attendu).",
        ),
        "quantity": ("invalid_quantity", "La quantité doit être un nombre entier."),
    }
    if last in specific:
        code, message = specific[last]
        return Problem(field, code, message)
    if kind in {"string_too_short", "string_type"} and error.get("input") in ("", None):
        return Problem(field, "missing", "Ce champ est obligatoire.")
    if kind == "string_too_long":
        return Problem(field, "too_long", "Ce champ est trop long.")
    if kind == "too_long":
        return Problem(field, "too_many_items", "Cette liste est trop longue.")
    return Problem(field, "invalid_value", f"Valeur invalide ({error.get('msg', kind)}).")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [problem_from_pydantic(dict(e)) for e in exc.errors()]
        return error_response(422, "invalid_request", INVALID_MESSAGE, problems)

    @app.exception_handler(OrderRejectedError)
    async def _rejected(_: Request, exc: OrderRejectedError) -> JSONResponse:
        return error_response(422, "invalid_request", INVALID_MESSAGE, exc.problems)

    @app.exception_handler(ConflictError)
    async def _conflict(_: Request, exc: ConflictError) -> JSONResponse:
        return error_response(409, exc.code, exc.message)

    @app.exception_handler(AuthError)
    async def _auth(_: Request, exc: AuthError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(jg_auth.AuthError)
    async def _token(_: Request, exc: jg_auth.AuthError) -> JSONResponse:
        code = "unauthorized" if exc.code == "missing_credentials" else str(exc.code)
        return error_response(exc.status_code, code, exc.message, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        code = codes.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else "Erreur."
        if exc.status_code == 404:
            message = "Ressource introuvable."
        return error_response(exc.status_code, code, message)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class JsonBodies:
    """Refuse (415) a request body that is not JSON, before any route runs.

    Nothing is read here: a body is announced by ``Content-Length`` (not 0) or
    ``Transfer-Encoding``. Sizes are :class:`jg_web.BodyLimit`'s business.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in {"POST", "PUT", "PATCH"}:
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            has_body = "transfer-encoding" in headers or headers.get("content-length", "0") != "0"
            if has_body and not _is_json(headers.get("content-type", "")):
                response = error_response(
                    415,
                    "unsupported_media_type",
                    "Le corps de la requête doit être du JSON (Content-Type: application/json).",
                    headers={"Connection": "close"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def error_envelope(code: str, message: str) -> dict[str, Any]:
    """Checkout's error body for an answer given by plumbing (413 from jg_web.BodyLimit)."""
    return {"code": code, "message": message, "errors": []}


def json_dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
