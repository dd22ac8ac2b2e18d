"""The HTTP error envelope: ``{"code", "message", "details"?}``, validation errors listing
per-field details, and the use cases' refusals mapped to their statuses."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from fulfillment.domain import Problem
from fulfillment.usecases import CommandError, Failure


class FieldProblem(BaseModel):
    field: str = Field(description="Dotted path of the field, e.g. 'photos.0' or 'items.1.sku'.")
    code: str = Field(description="Machine code of the problem, e.g. 'not_an_image'.")
    message: str = Field(description="Explanation in French.")


class ErrorBody(BaseModel):
    code: str = Field(description="Machine code, e.g. 'order_not_found'.")
    message: str = Field(description="Readable explanation (French for customer endpoints).")
    details: list[FieldProblem] | None = Field(
        default=None, description="Per-field problems, for validation errors."
    )


class ApiError(Exception):
    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        details: list[FieldProblem] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details
        self.extra = extra or {}


STATUS: dict[Failure, int] = {Failure.NOT_FOUND: 404, Failure.CONFLICT: 409, Failure.INVALID: 422}


def _field(problem: Problem) -> FieldProblem:
    return FieldProblem(field=problem.field, code=problem.code, message=problem.message)


def _error_response(error: ApiError) -> JSONResponse:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = [d.model_dump() for d in error.details]
    body.update(error.extra)
    return JSONResponse(body, status_code=error.status_code)


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return _error_response(exc)

    async def rejected(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, CommandError)
        details = [_field(p) for p in exc.problems] or None
        return _error_response(
            ApiError(STATUS[exc.failure], exc.code, exc.message, details, exc.extra)
        )

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = [
            FieldProblem(
                field=".".join(str(p) for p in err["loc"] if p not in ("body", "query", "path"))
                or "body",
                code=str(err["type"]),
                message=str(err["msg"]),
            )
            for err in exc.errors()
        ]
        return _error_response(
            ApiError(422, "invalid_request", "La requête contient des erreurs.", details)
        )

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if isinstance(exc.detail, dict) and "code" in exc.detail:
            return JSONResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            {"code": code, "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(CommandError, rejected)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid bearer token"},
    404: {"model": ErrorBody, "description": "Unknown order (or not this customer's)"},
    422: {"model": ErrorBody, "description": "Invalid request, or refused by the rules"},
}

UNREADABLE: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Body is not readable JSON (not UTF-8)"}
}
