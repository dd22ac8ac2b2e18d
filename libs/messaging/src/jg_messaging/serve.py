"""`python -m <service>`: structured logs first, then uvicorn on the service's create_app()."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI

from .logs import configure_logging
from .settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def serve(
    service: str,
    settings_cls: Callable[[], S],
    create_app: Callable[[S], FastAPI],
    **uvicorn_options: Any,
) -> None:
    """Read the settings from the environment, configure logs, run the app until stopped.

    Uvicorn's own logging config is left out so its lines go through structlog too; its access
    log is off (requests are logged by the services with their correlation id). Uvicorn runs the
    service on uvloop (a dependency of jg-messaging, picked by uvicorn's ``auto``): the event
    loop's own work was the largest share of each service's CPU. The HTTP parser stays h11:
    httptools answers a request carrying both Content-Length and chunked Transfer-Encoding with
    a plain-text 400 before the app sees it, where h11 reads the chunks and the services' body
    limits answer their JSON 413 (tests/integration test_body_limit, test_upload_limits).
    """
    settings = settings_cls()
    configure_logging(service, level=settings.platform.log_level, json=settings.platform.log_json)
    options: dict[str, Any] = {
        "log_config": None,
        "access_log": False,
        "http": "h11",
        **uvicorn_options,
    }
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, **options)
