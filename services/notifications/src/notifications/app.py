"""``create_app(settings)``: the one place that wires the notifications service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from jg_messaging import (
    CorrelationMiddleware,
    ServiceRuntime,
    health_router,
    install_data_error_handler,
    install_unavailable_handler,
)
from jg_web import BodyLimit, input_guard, validation_error_handler

from notifications.dispatcher import Dispatcher
from notifications.handlers import SERVICE, EmailRecorder, register_handlers
from notifications.rendering import Renderer, Shop
from notifications.routes import previews_router
from notifications.settings import NotificationsSettings

__all__ = ["MIGRATIONS", "create_app", "renderer_for"]

MIGRATIONS = Path(__file__).parent / "migrations"


def renderer_for(settings: NotificationsSettings) -> Renderer:
    shop = Shop(
        shop_url=settings.shop_url,
        customer_space_url=settings.customer_space_url,
        contact_email=settings.reply_to_address.addr_spec,
        seller=settings.seller,
        return_costs_borne_by_customer=settings.return_costs_borne_by_customer,
    )
    return Renderer(shop, timezone=settings.timezone)


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()
    runtime = ServiceRuntime(SERVICE, settings, MIGRATIONS)  # no connection opened here
    renderer = renderer_for(settings)
    dispatcher = Dispatcher(settings)
    register_handlers(runtime, EmailRecorder(runtime, settings, renderer, dispatcher.wake))

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
        dependencies=[Depends(input_guard())],  # path and query values: jg_web's text rule
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(CorrelationMiddleware)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    install_unavailable_handler(app)
    install_data_error_handler(app)
    app.include_router(health_router(runtime))
    if settings.previews_on:
        app.include_router(previews_router(renderer))
    app.state.runtime = runtime
    app.state.dispatcher = dispatcher
    return app
