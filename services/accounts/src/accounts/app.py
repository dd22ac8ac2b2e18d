"""create_app(settings): the one place that wires the accounts service."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from jg_auth import install_staff_gate
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
    migrate,
    register_handlers,
    utcnow,
)
from jg_messaging.operator import parked_outbox_router
from jg_web import BodyLimit, input_guard
from jg_web.http import install_error_handlers

from accounts import repository
from accounts.context import Context
from accounts.handlers import DESCRIPTION, HANDLERS, SERVICE, TITLE
from accounts.routes import ROUTERS
from accounts.security import HashingBusyError, Keyring, Passwords
from accounts.settings import AccountsSettings
from accounts.usecases.staff import seed_development_staff

MIGRATIONS = Path(__file__).parent / "migrations"
HOUSEKEEPING_INTERVAL = 600.0

log = structlog.get_logger(__name__)


def create_app(settings: AccountsSettings | None = None) -> FastAPI:
    settings = settings or AccountsSettings()
    configure_tracing(SERVICE)  # once per process: service.name, OTLP export if configured
    runtime = ServiceRuntime(SERVICE, settings, MIGRATIONS)  # no connection opened here
    keyring = Keyring(settings)
    ctx = Context(runtime, keyring, settings, Passwords(settings))  # what the use cases need
    register_handlers(runtime, ctx, HANDLERS, title=TITLE, description=DESCRIPTION)
    runtime.declare_publications(Topic.ACCOUNTS_CUSTOMERS)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Keys first (they live in the database), so handlers and routes find them ready.
        conn = await asyncpg.connect(settings.database_url.get_secret_value())
        try:
            await migrate(conn, MIGRATIONS, namespace=SERVICE)
            await keyring.load(conn)
            await seed_development_staff(ctx, conn)  # development only
        finally:
            await conn.close()
        assert keyring.verifier is not None
        install_staff_gate(app, keyring.verifier, settings.operator_token)
        await ctx.passwords.warm_up()
        async with runtime.running():
            housekeeping = asyncio.create_task(_housekeeping(runtime, settings))
            try:
                yield
            finally:
                housekeeping.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await housekeeping

    app = FastAPI(
        title="JapanGoodz accounts",
        description="Customer accounts: sign-up, login and access tokens (JWKS), profile, "
        "email verification, forgotten password, GDPR erasure, and 'Mes commandes et "
        "factures'.",
        version="1.0.0",
        lifespan=lifespan,
        telemetry=HTTP_TELEMETRY,  # server spans (jg_messaging.tracing)
        dependencies=[Depends(input_guard())],  # path and query values: jg_web's text rule
    )
    envelope = install_error_handlers(
        app,
        problems_key="details",
        invalid_code="validation_error",
        invalid_message=INVALID_MESSAGE,
        extra={HashingBusyError: _hashing_busy},
    )
    # Bodies are capped as they are read, before any parsing or password hashing.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, envelope=envelope)
    app.add_middleware(CorrelationMiddleware)
    app.add_middleware(PrometheusMiddleware)  # outermost: times and counts every answer
    install_unavailable_handler(app)
    install_data_error_handler(app)
    app.include_router(health_router(runtime))
    app.include_router(parked_outbox_router(runtime))  # managers: replay parked rows
    for router in ROUTERS:
        app.include_router(router)
    app.state.accounts = ctx  # routes get it through Depends (routes.dependencies.context)
    return app


INVALID_MESSAGE = "Certaines informations sont invalides."
BUSY_RETRY_AFTER_SECONDS = 5


async def _hashing_busy(_: Request, exc: HashingBusyError) -> JSONResponse:
    """503 + Retry-After: the password hashing queue is full (see security.Passwords)."""
    return JSONResponse(
        {
            "code": "busy",
            "message": "Notre service est très sollicité en ce moment. Veuillez réessayer dans "
            "quelques secondes.",
        },
        status_code=503,
        headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
    )


async def _housekeeping(runtime: ServiceRuntime, settings: AccountsSettings) -> None:
    """Forget old attempts, spent links, long-ended sessions and the addresses of the erasure
    list no backup needs any more, every few minutes."""
    while True:
        await asyncio.sleep(HOUSEKEEPING_INTERVAL)
        now = utcnow()
        windows = max(
            settings.login_window_seconds,
            settings.reset_window_seconds,
            settings.signup_window_seconds,
            settings.email_verification_resend_window_seconds,
        )
        try:
            async with runtime.pool.acquire() as conn:
                await repository.purge(
                    conn,
                    throttle_before=now - timedelta(seconds=windows),
                    tokens_before=now - timedelta(days=1),
                )
                await repository.forget_erasure_addresses(
                    conn, now - timedelta(days=repository.ERASURE_ADDRESS_KEPT_DAYS)
                )
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("housekeeping_failed", error=repr(error))
