"""``create_app(settings)``: the one place that wires the notifications service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from jg_auth import AuthSettings, TokenVerifier, install_staff_gate
from jg_messaging import (
    HTTP_TELEMETRY,
    CorrelationMiddleware,
    PrometheusMiddleware,
    ServiceRuntime,
    configure_tracing,
    health_router,
    install_data_error_handler,
    install_unavailable_handler,
    register_handlers,
)
from jg_messaging.operator import parked_outbox_router
from jg_web import BodyLimit, input_guard, validation_error_handler
from jg_web.http import install_error_handlers

from notifications import metrics, routes
from notifications.context import SERVICE, Context, renderer_for
from notifications.dispatcher import Dispatcher
from notifications.handlers import DESCRIPTION, HANDLERS, TITLE
from notifications.settings import NotificationsSettings

__all__ = ["MIGRATIONS", "create_app", "renderer_for"]

MIGRATIONS = Path(__file__).parent / "migrations"
INVALID_MESSAGE = "La requête contient des erreurs."


def create_app(
    settings: NotificationsSettings | None = None, *, verifier: TokenVerifier | None = None
) -> FastAPI:
    """``verifier`` checks the staff tokens of the /operator routes (default: accounts' JWKS
    from ``JG_AUTH_*``)."""
    settings = settings or NotificationsSettings()
    configure_tracing(SERVICE)  # once per process: service.name, OTLP export if configured
    verifier = verifier or AuthSettings(environment=settings.platform.environment).verifier()
    runtime = ServiceRuntime(SERVICE, settings, MIGRATIONS)  # no connection opened here
    dispatcher = Dispatcher(settings)
    ctx = Context(runtime, settings, renderer_for(settings), wake=dispatcher.wake)
    register_handlers(runtime, ctx, HANDLERS, title=TITLE, description=DESCRIPTION)
    runtime.add_metrics_probe("emails", lambda: metrics.refresh(runtime.pool))

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            dispatcher.start(runtime.pool)
            try:
                yield
            finally:
                await dispatcher.stop()

    app = FastAPI(
        title="JapanGoodz notifications",
        description="French customer emails from events, exactly once, over SMTP.",
        lifespan=lifespan,
        telemetry=HTTP_TELEMETRY,  # server spans (jg_messaging.tracing)
        dependencies=[Depends(input_guard())],  # path and query values: jg_web's text rule
    )
    envelope = install_error_handlers(
        app,
        problems_key="details",
        invalid_message=INVALID_MESSAGE,
        # notifications' 422 names a path or query value without its "path."/"query." prefix
        # ("template", "lang"), as jg_web's validation_error_handler does; jg_web.http keeps it.
        extra={RequestValidationError: validation_error_handler},
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, envelope=envelope)
    app.add_middleware(CorrelationMiddleware)
    app.add_middleware(PrometheusMiddleware)  # outermost: times and counts every answer
    install_unavailable_handler(app)
    install_data_error_handler(app)
    app.include_router(health_router(runtime))
    app.include_router(parked_outbox_router(runtime))  # managers: replay parked rows
    if settings.previews_on:
        app.include_router(routes.router)
    app.include_router(routes.operator_router)
    install_staff_gate(app, verifier, settings.operator_token)
    app.state.runtime = runtime
    app.state.context = ctx  # routes.renderer
    app.state.dispatcher = dispatcher
    return app
