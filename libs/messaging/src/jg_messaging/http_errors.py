"""HTTP answer to a request that failed because a dependency is unavailable: 503, not 500.

The database, Kafka or another service being away is not the caller's fault and not a bug: the
caller gets ``503 Service Unavailable`` with ``Retry-After`` and the usual error envelope
(``{"code", "message"}``), and may send the same request again (with the same idempotency key).
Any other exception keeps its normal path (a 500 and a traceback in the logs: a bug).

A last resort against bad input: a value PostgreSQL cannot store as text (a NUL byte, a lone
surrogate, a string longer than its column) is the caller's fault, not a bug, and answers 422
through the service's own validation handler. Requests are validated field by field before
they reach the database (``jg_web``), so this only catches what validation missed, without
being able to name the field.
"""

from __future__ import annotations

import asyncpg
import httpx
import structlog
from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from .failures import TransientError, classify

log = structlog.get_logger(__name__)

UNAVAILABLE_CODE = "service_unavailable"
UNAVAILABLE_MESSAGE = (
    "Le service est momentanément indisponible. Merci de réessayer dans quelques instants."
)
RETRY_AFTER_SECONDS = 5

# The exception classes whose instances may be transient (classify() decides).
_MAYBE_TRANSIENT: tuple[type[Exception], ...] = (
    TransientError,
    OSError,  # ConnectionRefusedError, TimeoutError...
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    KafkaError,
    httpx.HTTPError,
)


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    failure = classify(exc)
    if not failure.transient:
        raise exc
    dependency = failure.dependency.value if failure.dependency else "unknown"
    log.warning(
        "request_failed_dependency_unavailable",
        dependency=dependency,
        method=request.method,
        path=request.url.path,
        error=type(exc).__name__,
    )
    return JSONResponse(
        {"code": UNAVAILABLE_CODE, "message": UNAVAILABLE_MESSAGE},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install_unavailable_handler(app: FastAPI) -> None:
    """Answer 503 + Retry-After when a request fails because a dependency is away."""
    for exc_class in _MAYBE_TRANSIENT:
        app.add_exception_handler(exc_class, _unavailable)


# PostgreSQL's refusals of a text value, and asyncpg's own when it cannot encode one.
_TEXT_REFUSALS: dict[type[Exception], tuple[str, str]] = {
    asyncpg.CharacterNotInRepertoireError: (
        "invalid_characters",
        "La requête contient un caractère qui ne peut pas être enregistré.",
    ),
    asyncpg.UntranslatableCharacterError: (
        "invalid_characters",
        "La requête contient un caractère qui ne peut pas être enregistré.",
    ),
    asyncpg.StringDataRightTruncationError: (
        "too_long",
        "Une valeur de la requête est trop longue pour être enregistrée.",
    ),
}


def _text_refusal(exc: Exception) -> tuple[str, str] | None:
    found = _TEXT_REFUSALS.get(type(exc))
    if found is None and type(exc) is asyncpg.DataError and isinstance(exc.__cause__, UnicodeError):
        found = _TEXT_REFUSALS[asyncpg.CharacterNotInRepertoireError]
    return found


async def _data_error(request: Request, exc: Exception) -> Response:
    refusal = _text_refusal(exc)
    if refusal is None:
        return await _unavailable(request, exc)  # not ours: the usual path
    code, message = refusal
    log.warning(
        "request_refused_by_database",
        method=request.method,
        path=request.url.path,
        error=type(exc).__name__,
    )
    handler = request.app.exception_handlers[RequestValidationError]
    error = RequestValidationError(
        [{"type": code, "loc": ("body",), "msg": message, "input": None}]
    )
    answer: Response = await handler(request, error)
    return answer


def install_data_error_handler(app: FastAPI) -> None:
    """Answer 422 (the service's validation envelope) when PostgreSQL refuses a text value."""
    app.add_exception_handler(asyncpg.DataError, _data_error)
