"""Payment's HTTP errors on jg_web.http: ``{"code", "message", "details"?}``; the problems of
a request that fails validation under ``details``, each ``{"field", "code", "message",
"type"}`` (``type``: pydantic's error type, which payment's answers have always carried)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from jg_web.errors import Envelope, error_body
from jg_web.http import Problem, install_error_handlers, problem_from_pydantic
from pydantic import BaseModel, Field

__all__ = ["ErrorBody", "install"]

INVALID_CODE = "invalid_request"
INVALID_MESSAGE = "The request is invalid."


class FieldProblem(BaseModel):
    field: str = Field(description="Dotted path of the field, e.g. 'query.download'.")
    code: str = Field(description="Machine code of the problem, e.g. 'invalid_characters'.")
    message: str = Field(description="Explanation in French.")
    type: str = Field(description="pydantic's error type, e.g. 'string_pattern_mismatch'.")


class ErrorBody(BaseModel):
    code: str = Field(description="Machine-readable error code, e.g. 'invalid_signature'.")
    message: str = Field(description="What went wrong, for a human.")
    details: list[FieldProblem] | None = Field(
        default=None, description="Per-field problems of a request that failed validation."
    )


def _problem(error: dict[str, Any]) -> Problem:
    problem = problem_from_pydantic(error)
    return Problem(
        problem.field, problem.code, problem.message, {"type": str(error.get("type", "invalid"))}
    )


async def _invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    body: dict[str, Any] = error_body(INVALID_CODE, INVALID_MESSAGE)
    body["details"] = [_problem(error).as_json() for error in exc.errors()]
    return JSONResponse(body, status_code=422)


def install(app: FastAPI) -> Envelope:
    """jg_web's handlers (ApiError, 404/405, jg_auth's 401) in payment's shape, and payment's
    validation answer (its problems keep their ``type``)."""
    return install_error_handlers(
        app,
        problems_key="details",
        invalid_code=INVALID_CODE,
        invalid_message=INVALID_MESSAGE,
        extra={RequestValidationError: _invalid},
    )
