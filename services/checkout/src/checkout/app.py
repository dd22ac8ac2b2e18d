"""The one place that wires the checkout service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import jg_auth
from fastapi import Depends, FastAPI
from jg_events import Topic
from jg_messaging import (
    CorrelationMiddleware,
    ServiceRuntime,
    health_router,
    install_data_error_handler,
    install_unavailable_handler,
)
from jg_web import BodyLimit, input_guard

from checkout.auth import authenticator
from checkout.handlers import SERVICE, register_handlers
from checkout.http import JsonBodies, error_envelope, install_error_handlers
from checkout.routes import catalogue_router, orders_router
from checkout.scheduler import ReleaseScheduler
from checkout.settings import CheckoutSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: CheckoutSettings | None = None, *, verifier: jg_auth.TokenVerifier | None = None
) -> FastAPI:
    """Build the app; no connection is opened until the lifespan starts.

    ``verifier`` checks customers' access tokens; by default accounts' JWKS from
    ``JG_AUTH_*`` settings (fetched on the first customer token, then cached).
    """
    settings = settings or CheckoutSettings()
    verifier = verifier or jg_auth.AuthSettings().verifier()
    runtime = ServiceRuntime(SERVICE, settings, MIGRATIONS)
    register_handlers(runtime, settings)
    runtime.declare_publications(Topic.CHECKOUT_ORDERS)
    scheduler = ReleaseScheduler(
        runtime,
        settings.release_poll_interval,
        retry_first_delay=settings.release_retry_first_delay,
        retry_max_delay=settings.release_retry_max_delay,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            await scheduler.start()
            try:
                yield
            finally:
                await scheduler.stop()

    app = FastAPI(
        title="JapanGoodz checkout",
        version="1.0.0",
        description="The storefront's order API: catalogue prices, orders, the modification "
        "window, and the order's status up to the hand-off and delivery.",
        lifespan=lifespan,
        # path, query and Idempotency-Key values follow jg_web's text rule (422, field named)
        dependencies=[Depends(input_guard(data_headers=("Idempotency-Key",)))],
    )
    install_error_handlers(app)
    install_unavailable_handler(app)
    install_data_error_handler(app)
    app.add_middleware(JsonBodies)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, envelope=error_envelope)
    app.add_middleware(CorrelationMiddleware)
    app.include_router(health_router(runtime))
    app.include_router(catalogue_router(runtime, settings))
    app.include_router(orders_router(runtime, settings, authenticator(settings, verifier)))
    app.state.runtime = runtime
    app.state.scheduler = scheduler
    app.state.settings = settings
    return app
