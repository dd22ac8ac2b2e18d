"""create_app(settings): the one place that wires the fulfillment service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from jg_auth import AuthError, AuthSettings, TokenVerifier, auth_error_handler, bearer_principal
from jg_events import Topic
from jg_messaging import (
    CorrelationMiddleware,
    ServiceRuntime,
    health_router,
    install_unavailable_handler,
    lifespan,
)

from fulfillment import domain
from fulfillment.handlers import SERVICE, Context, register_handlers
from fulfillment.routes import UploadLimit, customer_router, install_error_handlers, operator_router
from fulfillment.settings import FulfillmentSettings

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = """Stock and reservations, the hand-off of released orders to the logistics team,
backorders, shipments and tracking links, returns (withdrawal) and after-sales claims.

Customers: `Authorization: Bearer` with the storefront's token (acting for the customer) or the
customer's access token from accounts. Operators: `Authorization: Bearer` with
FULFILLMENT_OPERATOR_TOKEN. Events: see `/asyncapi.json`."""


def create_app(
    settings: FulfillmentSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    clock: Callable[[], datetime] = domain.utc_now,
) -> FastAPI:
    """The fulfillment service. Opens no connection: the lifespan does."""
    settings = settings or FulfillmentSettings()
    runtime = ServiceRuntime(SERVICE, settings, MIGRATIONS)
    ctx = Context(runtime=runtime, settings=settings, clock=clock)
    register_handlers(ctx)
    runtime.declare_publications(Topic.LOGISTICS_REQUESTS, Topic.FULFILLMENT_ORDERS)
    verifier = verifier or AuthSettings().verifier()
    principal = bearer_principal(verifier, settings.storefront_token)

    app = FastAPI(
        title="JapanGoodz fulfillment",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan(runtime),
    )
    app.state.runtime = runtime
    app.add_middleware(
        UploadLimit,
        max_bytes=settings.claim_photo_max_count * settings.claim_photo_max_bytes + 64 * 1024,
    )
    app.add_middleware(CorrelationMiddleware)
    install_error_handlers(app)
    install_unavailable_handler(app)
    app.add_exception_handler(AuthError, auth_error_handler)
    app.include_router(health_router(runtime))
    app.include_router(customer_router(ctx, principal))
    app.include_router(operator_router(ctx))

    return app
