"""create_app(settings): the one place that wires the fulfillment service."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import Depends, FastAPI
from jg_auth import AuthSettings, TokenVerifier, bearer_principal, install_staff_gate
from jg_events import Topic
from jg_messaging import (
    HTTP_TELEMETRY,
    CorrelationMiddleware,
    PrometheusMiddleware,
    ServiceRuntime,
    configure_tracing,
    health_router,
    install_data_error_handler,
    install_unavailable_handler,
    lifespan,
    register_handlers,
    utcnow,
)
from jg_messaging.operator import parked_outbox_router
from jg_web import BodyLimit, RouteLimit, UploadSlots, input_guard

from fulfillment import metrics
from fulfillment.context import SERVICE, Context
from fulfillment.handlers import DESCRIPTION as HANDLERS_DESCRIPTION
from fulfillment.handlers import HANDLERS
from fulfillment.routes import customer, errors, operator
from fulfillment.settings import FulfillmentSettings

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = """Stock and reservations, the hand-off of released orders to the logistics team,
backorders, shipments and tracking links, returns (withdrawal) and after-sales claims.

Customers: `Authorization: Bearer` with the storefront's token (acting for the customer) or the
customer's access token from accounts. Operators: `Authorization: Bearer` with
FULFILLMENT_OPERATOR_TOKEN. Events: see `/asyncapi.json`."""


def claim_uploads(settings: FulfillmentSettings, slots: UploadSlots) -> RouteLimit:
    """The claims' route class: photos, a larger cap, and a bounded number read at once."""
    return RouteLimit(
        methods=frozenset({"POST"}),
        path=re.compile(r"/orders/[^/]+/claims/?"),
        max_bytes=settings.claim_upload_max_bytes,
        code="upload_too_large",
        message="L'envoi est trop volumineux : réduisez la taille ou le nombre de photos "
        f"({settings.claim_photo_max_count} photos de "
        f"{settings.claim_photo_max_bytes // (1024 * 1024)} Mo au plus).",
        slots=slots,
    )


def create_app(
    settings: FulfillmentSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """The fulfillment service. Opens no connection: the lifespan does."""
    settings = settings or FulfillmentSettings()
    configure_tracing(SERVICE)  # once per process: service.name, OTLP export if configured
    runtime = ServiceRuntime(SERVICE, settings, MIGRATIONS)
    ctx = Context(runtime=runtime, settings=settings, clock=clock)
    register_handlers(
        runtime, ctx, HANDLERS, title="fulfillment inputs", description=HANDLERS_DESCRIPTION
    )
    runtime.declare_publications(Topic.LOGISTICS_REQUESTS, Topic.FULFILLMENT_ORDERS)
    runtime.add_metrics_probe("backorders", lambda: metrics.refresh(runtime.pool))
    verifier = verifier or AuthSettings().verifier()

    app = FastAPI(
        title="JapanGoodz fulfillment",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan(runtime),
        telemetry=HTTP_TELEMETRY,  # server spans (jg_messaging.tracing)
        dependencies=[Depends(input_guard())],  # path and query values: jg_web's text rule
    )
    app.state.runtime = runtime
    app.state.context = ctx  # routes.dependencies.context
    # routes.dependencies.caller
    app.state.principal = bearer_principal(verifier, settings.storefront_token)
    install_staff_gate(app, verifier, settings.operator_token)  # the /operator routes
    app.state.upload_slots = UploadSlots(
        settings.upload_concurrency, wait_seconds=settings.upload_wait_seconds
    )
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        routes=[claim_uploads(settings, app.state.upload_slots)],
    )
    app.add_middleware(CorrelationMiddleware)
    app.add_middleware(PrometheusMiddleware)  # outermost: times and counts every answer
    errors.install(app)
    install_unavailable_handler(app)
    install_data_error_handler(app)
    app.include_router(health_router(runtime))
    app.include_router(parked_outbox_router(runtime))  # managers: replay parked rows
    app.include_router(customer.router)
    app.include_router(operator.router)

    return app
