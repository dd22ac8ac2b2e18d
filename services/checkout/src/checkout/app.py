"""The one place that wires the checkout service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from pathlib import Path

import jg_auth
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
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
    register_handlers,
    utcnow,
)
from jg_messaging.operator import parked_outbox_router
from jg_web import INVALID_COUNTRY_CODE, BodyLimit, input_guard
from jg_web.errors import Envelope
from jg_web.http import JsonBodies, install_error_handlers

from checkout import metrics, routes
from checkout.context import SERVICE, Context
from checkout.domain import ConflictError, OrderRejectedError
from checkout.handlers import DESCRIPTION as HANDLERS_DESCRIPTION
from checkout.handlers import HANDLERS
from checkout.scheduler import ReleaseScheduler
from checkout.settings import CheckoutSettings

MIGRATIONS = Path(__file__).parent / "migrations"

INVALID_MESSAGE = "La commande contient des erreurs : voir le détail par champ."

# Checkout's own fields: their machine code and French reason when pydantic refuses them.
FIELD_MESSAGES: dict[str, tuple[str, str]] = {
    "payment.type": (
        "unsupported_payment_type",
        "Moyen de paiement non accepté : carte bancaire (Visa, Mastercard, Maestro) ou "
        "Revolut Pay.",
    ),
    "email": ("invalid_email", "Adresse e-mail invalide."),
    "country_code": (
        INVALID_COUNTRY_CODE,
        "Le pays doit être un code ISO à deux lettres majuscules (par exemple « FR »).",
    ),
    "postal_code": ("invalid_postal_code", "Code postal invalide."),
    "phone": ("invalid_phone", "Numéro de téléphone invalide."),
    "stripe_payment_method_id": (
        "invalid_payment_method_id",
        "Identifiant de moyen de paiement Stripe invalide (« pm_... » attendu).",
    ),
    "quantity": ("invalid_quantity", "La quantité doit être un nombre entier."),
}


def create_app(
    settings: CheckoutSettings | None = None,
    *,
    verifier: jg_auth.TokenVerifier | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """Build the app; no connection is opened until the lifespan starts.

    ``verifier`` checks customers' access tokens; by default accounts' JWKS from
    ``JG_AUTH_*`` settings (fetched on the first customer token, then cached).
    """
    settings = settings or CheckoutSettings()
    verifier = verifier or jg_auth.AuthSettings().verifier()
    configure_tracing(SERVICE)  # once per process: service.name, OTLP export if configured
    runtime = ServiceRuntime(SERVICE, settings, MIGRATIONS)
    ctx = Context(runtime=runtime, settings=settings, clock=clock)
    register_handlers(
        runtime, ctx, HANDLERS, title="checkout inputs", description=HANDLERS_DESCRIPTION
    )
    runtime.declare_publications(Topic.CHECKOUT_ORDERS)
    _measure(runtime)
    scheduler = ReleaseScheduler(ctx)

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
        telemetry=HTTP_TELEMETRY,  # server spans (jg_messaging.tracing)
        # path, query and Idempotency-Key values follow jg_web's text rule (422, field named)
        dependencies=[Depends(input_guard(data_headers=("Idempotency-Key",)))],
    )
    app.state.runtime = runtime
    app.state.context = ctx  # routes.dependencies.context
    app.state.principal = jg_auth.bearer_principal(verifier, settings.storefront_token)
    jg_auth.install_staff_gate(app, verifier, settings.operator_token)  # /operator routes
    app.state.scheduler = scheduler
    app.state.settings = settings
    envelope = install_errors(app)
    app.add_middleware(JsonBodies, envelope=envelope)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, envelope=envelope)
    app.add_middleware(CorrelationMiddleware)
    app.add_middleware(PrometheusMiddleware)  # outermost: times and counts every answer
    app.include_router(health_router(runtime))
    app.include_router(parked_outbox_router(runtime))  # managers: replay parked rows
    app.include_router(routes.catalogue.router)
    app.include_router(routes.operator.router)
    app.include_router(routes.orders.router)
    return app


def _measure(runtime: ServiceRuntime) -> None:
    """The business figures /metrics shows, refreshed before a scrape."""
    # orders by status reads the whole table: at most every 30 s
    runtime.add_metrics_probe("orders", lambda: metrics.refresh_orders(runtime.pool), every=30.0)
    runtime.add_metrics_probe("releases", lambda: metrics.refresh_releases(runtime.pool))


def install_errors(app: FastAPI) -> Envelope:
    """jg_web.http's handlers in checkout's shape (``errors``, always a list), checkout's field
    messages and its own exceptions; 503 when the database is away, 422 for a text value
    PostgreSQL refuses. Returns the envelope of the answers given by middleware."""
    envelope = install_error_handlers(
        app,
        problems_key="errors",
        always_list=True,
        invalid_message=INVALID_MESSAGE,
        field_messages=FIELD_MESSAGES,
        extra={
            OrderRejectedError: _rejected,
            ConflictError: _conflict,
            jg_auth.AuthError: _unauthenticated,
        },
    )
    install_unavailable_handler(app)
    install_data_error_handler(app)
    return envelope


# --- checkout's own answers, in its envelope ({"code", "message", "errors": [...]}) ---------


def _answer(
    status: int,
    code: str,
    message: str,
    problems: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"code": code, "message": message, "errors": problems or []}
    return JSONResponse(body, status_code=status, headers=dict(headers) if headers else None)


async def _rejected(_: Request, exc: OrderRejectedError) -> JSONResponse:
    """The domain refused the request's content: 422, one problem per field."""
    problems = [{"field": p.field, "code": p.code, "message": p.message} for p in exc.problems]
    return _answer(422, "invalid_request", INVALID_MESSAGE, problems)


async def _conflict(_: Request, exc: ConflictError) -> JSONResponse:
    """The order's state forbids the command: 409 with the reason."""
    return _answer(409, exc.code, exc.message)


async def _unauthenticated(_: Request, exc: jg_auth.AuthError) -> JSONResponse:
    """jg_auth's 401; checkout has always said ``unauthorized`` for a missing token."""
    code = "unauthorized" if exc.code == "missing_credentials" else str(exc.code)
    return _answer(exc.status_code, code, exc.message, headers=exc.headers)
