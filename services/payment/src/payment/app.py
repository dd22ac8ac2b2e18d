"""create_app(settings): the one place that wires the payment service."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
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
    register_handlers,
)
from jg_messaging.operator import parked_outbox_router
from jg_web import BodyLimit, RouteLimit, input_guard

from payment.context import SERVICE, Context
from payment.handlers import DESCRIPTION as HANDLERS_DESCRIPTION
from payment.handlers import HANDLERS
from payment.routes import errors, invoices, operator, webhooks
from payment.settings import PaymentSettings
from payment.stripe_gateway import StripeGateway
from payment.sync import StripeSync

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = (
    "Stripe authorisations, captures, cancellations and refunds driven by the order's events; "
    "Stripe's webhooks; invoices and credit notes (one continuous series, PDF) for the "
    "customer and internal callers."
)


def _lifespan(
    ctx: Context, sync: StripeSync
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """Open the Stripe client, then the runtime (pool, migrations, relay, broker), then the
    synchronisation pass; close them in the reverse order."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        gateway = ctx.stripe.gateway = StripeGateway(ctx.settings)
        try:
            async with ctx.runtime.running():
                await sync.start()
                try:
                    yield
                finally:
                    await sync.stop()
        finally:
            await gateway.close()
            ctx.stripe.gateway = None

    return lifespan


def create_app(
    settings: PaymentSettings | None = None, *, verifier: TokenVerifier | None = None
) -> FastAPI:
    """Build the app; no connection is opened until the lifespan starts.

    ``verifier`` checks customers' access tokens (default: accounts' JWKS from ``JG_AUTH_*``).
    """
    settings = settings or PaymentSettings()
    configure_tracing(SERVICE)  # once per process: service.name, OTLP export if configured
    runtime = ServiceRuntime(SERVICE, settings, MIGRATIONS)
    ctx = Context(runtime=runtime, settings=settings)
    register_handlers(
        runtime, ctx, HANDLERS, title="payment inputs", description=HANDLERS_DESCRIPTION
    )
    runtime.declare_publications(Topic.PAYMENT_PAYMENTS)
    sync = StripeSync(ctx, settings.stripe_sync_interval)

    app = FastAPI(
        title="JapanGoodz payment",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=_lifespan(ctx, sync),
        telemetry=HTTP_TELEMETRY,  # server spans (jg_messaging.tracing)
        dependencies=[Depends(input_guard())],  # path and query values: jg_web's text rule
    )
    app.state.runtime = runtime
    app.state.context = ctx  # routes.dependencies.context
    verifier = verifier or AuthSettings().verifier()
    app.state.principal = bearer_principal(verifier, settings.internal_token)  # .caller
    install_staff_gate(app, verifier, settings.operator_token)  # the /operator routes
    app.state.sync = sync
    app.state.settings = settings
    errors.install(app)
    install_unavailable_handler(app)
    install_data_error_handler(app)
    webhook_bodies = RouteLimit(
        methods=frozenset({"POST"}),
        path=re.compile(r"/webhooks/stripe/?"),
        max_bytes=settings.max_webhook_body_bytes,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, routes=[webhook_bodies])
    app.add_middleware(CorrelationMiddleware)
    app.add_middleware(PrometheusMiddleware)  # outermost: times and counts every answer
    app.include_router(health_router(runtime))
    app.include_router(parked_outbox_router(runtime))  # managers: replay parked rows
    app.include_router(webhooks.router)
    app.include_router(invoices.router)
    app.include_router(operator.router)
    return app
