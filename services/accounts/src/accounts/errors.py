"""4xx answers: ``{"code", "message", "details"?}`` (French message, machine code)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from jg_auth import AuthError, auth_error_handler
from starlette.exceptions import HTTPException as StarletteHTTPException

from accounts.security import HashingBusyError


class ApiError(Exception):
    """An answer other than success; raised anywhere in a request, rolled back with it."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def _body(code: str, message: str, details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return body


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(
        _body(exc.code, exc.message, exc.details), status_code=exc.status, headers=exc.headers
    )


def _field_message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "invalide"))
    return message.removeprefix("Value error, ")


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {
            "field": ".".join(str(p) for p in error["loc"] if p != "body"),
            "message": _field_message(error),
        }
        for error in exc.errors()
    ]
    return JSONResponse(
        _body("validation_error", "Certaines informations sont invalides.", details),
        status_code=422,
    )


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = {404: "Page introuvable.", 405: "Méthode non autorisée."}.get(
        exc.status_code, str(exc.detail)
    )
    return JSONResponse(
        _body(code, message), status_code=exc.status_code, headers=getattr(exc, "headers", None)
    )


BUSY_RETRY_AFTER_SECONDS = 5


async def _hashing_busy(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        _body(
            "busy",
            "Notre service est très sollicité en ce moment. Veuillez réessayer dans quelques "
            "secondes.",
        ),
        status_code=503,
        headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HashingBusyError, _hashing_busy)
    app.add_exception_handler(AuthError, auth_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not authenticated, or the session ended.", "model": None},
    422: {"description": "Invalid input, with per-field details.", "model": None},
}
