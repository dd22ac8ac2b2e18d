"""Fulfillment's HTTP errors on jg_web.http: ``{"code", "message", "details"?}``, the problems
of a request under ``details``, each ``{"field", "code", "message"}``; the use cases' refusals
(:class:`~fulfillment.usecases.CommandError`) answered with their status."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from jg_web.errors import error_body
from jg_web.http import ApiError, Problem, install_error_handlers, problem_from_pydantic
from pydantic import BaseModel, Field

from fulfillment.usecases import CommandError, Failure

__all__ = ["ERRORS", "UNREADABLE", "ApiError", "ErrorBody", "install"]

INVALID_MESSAGE = "La requête contient des erreurs."
STATUS: dict[Failure, int] = {Failure.NOT_FOUND: 404, Failure.CONFLICT: 409, Failure.INVALID: 422}


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


def _answer(
    status: int, code: str, message: str, problems: list[Problem], extra: dict[str, Any]
) -> JSONResponse:
    body: dict[str, Any] = error_body(code, message)
    if problems:
        body["details"] = [p.as_json() for p in problems]
    body.update(extra)
    return JSONResponse(body, status_code=status)


async def _refused(_: Request, exc: CommandError) -> JSONResponse:
    problems = [Problem(p.field, p.code, p.message) for p in exc.problems]
    return _answer(STATUS[exc.failure], exc.code, exc.message, problems, exc.extra)


def _field(problem: Problem) -> Problem:
    """Fulfillment names a field without its location (``sku``, not ``path.sku``)."""
    parts = [p for p in problem.field.split(".") if p not in ("body", "query", "path")]
    return Problem(".".join(parts) or "body", problem.code, problem.message, problem.extra)


async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [_field(problem_from_pydantic(error)) for error in exc.errors()]
    return _answer(422, "invalid_request", INVALID_MESSAGE, problems, {})


def install(app: FastAPI) -> None:
    """jg_web's handlers (ApiError, 404/405, jg_auth's 401) in fulfillment's shape, and
    fulfillment's own: refused commands, and validation problems named by field only."""
    install_error_handlers(
        app,
        problems_key="details",
        invalid_message=INVALID_MESSAGE,
        extra={CommandError: _refused, RequestValidationError: _invalid},
    )


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid bearer token"},
    404: {"model": ErrorBody, "description": "Unknown order (or not this customer's)"},
    422: {"model": ErrorBody, "description": "Invalid request, or refused by the rules"},
}

UNREADABLE: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Body is not readable JSON (not UTF-8)"}
}
