"""HTTP answer to a request that failed because a dependency is unavailable: 503, not 500.

The database, Kafka or another service being away is not the caller's fault and not a bug: the
caller gets ``503 Service Unavailable`` with ``Retry-After`` and the usual error envelope
(``{"code", "message"}``), and may send the same request again (with the same idempotency key).
Any other exception keeps its normal path (a 500 and a traceback in the logs: a bug).
"""

from __future__ import annotations

import asyncpg
import httpx
import structlog
from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

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
