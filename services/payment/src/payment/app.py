"""The one place that wires the payment service."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import Depends, FastAPI
from jg_auth import AuthSettings, TokenVerifier, bearer_principal
from jg_events import Topic
from jg_messaging import (
    CorrelationMiddleware,
    ServiceRuntime,
    health_router,
    install_data_error_handler,
    install_unavailable_handler,
)
from jg_web import BodyLimit, RouteLimit, input_guard

from payment.handlers import SERVICE, register_handlers
from payment.routes import install_error_handlers, invoices_router, webhooks_router
from payment.settings import PaymentSettings
from payment.stripe_gateway import StripeGateway
from payment.sync import StripeSync
from payment.workflow import PaymentWorkflow

MIGRATIONS = Path(__file__).parent / "migrations"


class _Gateway:
    """Holds the Stripe client, created when the service starts and closed when it stops."""

    def __init__(self) -> None:
        self.gateway: StripeGateway | None = None

    def __call__(self) -> StripeGateway:
        if self.gateway is None:
            raise RuntimeError("the service is not started")
        return self.gateway


def create_app(
    settings: PaymentSettings | None = None, *, verifier: TokenVerifier | None = None
) -> FastAPI:
    """Build the app; no connection is opened until the lifespan starts.

    ``verifier`` checks customers' access tokens (default: accounts' JWKS from ``JG_AUTH_*``).
    """
    settings = settings or PaymentSettings()
    runtime = ServiceRuntime(SERVICE, settings, MIGRATIONS)
    holder = _Gateway()
    workflow = PaymentWorkflow(lambda: runtime.pool, holder, settings)
    register_handlers(runtime, workflow)
    runtime.declare_publications(Topic.PAYMENT_PAYMENTS)
    sync = StripeSync(workflow, settings.stripe_sync_interval)
    principal = bearer_principal(verifier or AuthSettings().verifier(), settings.internal_token)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        holder.gateway = StripeGateway(settings)
        try:
            async with runtime.running():
                await sync.start()
                try:
                    yield
                finally:
                    await sync.stop()
        finally:
            await holder.gateway.close()
            holder.gateway = None

    app = FastAPI(
        title="JapanGoodz payment",
        version="1.0.0",
        description="Stripe authorisations, captures, cancellations and refunds driven by the "
        "order's events; Stripe's webhooks; invoices and credit notes (one continuous series, "
        "PDF) for the customer and internal callers.",
        lifespan=lifespan,
        dependencies=[Depends(input_guard())],  # path and query values: jg_web's text rule
    )
    install_error_handlers(app)
    install_unavailable_handler(app)
    install_data_error_handler(app)
    webhooks = RouteLimit(
        methods=frozenset({"POST"}),
        path=re.compile(r"/webhooks/stripe/?"),
        max_bytes=settings.max_webhook_body_bytes,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, routes=[webhooks])
    app.add_middleware(CorrelationMiddleware)
    app.include_router(health_router(runtime))
    app.include_router(webhooks_router(workflow))
    app.include_router(invoices_router(workflow, principal))
    app.state.runtime = runtime
    app.state.workflow = workflow
    app.state.sync = sync
    app.state.settings = settings
    return app
