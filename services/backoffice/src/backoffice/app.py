"""``create_app(settings)``: the one place that wires the customer-service console."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import urlencode

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jg_events import Topic
from jg_messaging import (
    HTTP_TELEMETRY,
    CorrelationMiddleware,
    PrometheusMiddleware,
    configure_tracing,
    health_router,
)
from jg_web import BodyLimit
from starlette.exceptions import HTTPException

from backoffice import routes
from backoffice.clients import RefusedError, Services, SignInAgainError, UnavailableError
from backoffice.context import SERVICE, Context
from backoffice.handlers import on_dead_letter
from backoffice.letterbox import ConsoleRuntime, Letterbox
from backoffice.routes.dependencies import TEMPLATES, CrossSiteError, CsrfError, NeedSignInError
from backoffice.settings import BackofficeSettings
from backoffice.usecases import NotAllowedError
from backoffice.usecases.common import unavailable_message

__all__ = ["MIGRATIONS", "create_app"]

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
STATIC = Path(__file__).parent / "static"

# Pages are the console's own: no script or style from elsewhere, no framing, no caching.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def create_app(settings: BackofficeSettings | None = None) -> FastAPI:
    settings = settings or BackofficeSettings()
    runtime = ConsoleRuntime(SERVICE, settings, MIGRATIONS)  # no connection opened here
    runtime.declare_publications(*Topic)  # a dead letter's replay goes back to its topic
    services = Services(
        {
            s: settings.service_url(s)
            for s in ("accounts", "checkout", "payment", "fulfillment", "notifications")
        },
        settings.service_timeout,
    )
    letterbox = Letterbox(settings, SERVICE)
    ctx = Context(runtime, settings, services, letterbox)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            await letterbox.start(lambda record: on_dead_letter(ctx, record))
            try:
                yield
            finally:
                await letterbox.stop()
                await services.close()

    configure_tracing(SERVICE)  # once per process: service.name, OTLP export if configured
    app = FastAPI(
        title="JapanGoodz console",
        description="The customer-service console: French pages over the services' APIs.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        telemetry=HTTP_TELEMETRY,  # server spans (jg_messaging.tracing)
    )
    app.state.runtime = runtime
    app.state.context = ctx  # routes.dependencies.context
    app.state.settings = settings
    _install_errors(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(CorrelationMiddleware)
    app.middleware("http")(_security_headers)
    app.add_middleware(PrometheusMiddleware)  # outermost: times and counts every answer
    app.include_router(health_router(runtime))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in (
        routes.auth.router,
        routes.orders.router,
        routes.queues.router,
        routes.admin.router,
    ):
        app.include_router(router)
    return app


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request,
        "error.html.j2",
        {"title": title, "message": message, "member": None},
        status_code=status,
    )


async def _cross_site(request: Request, _: Exception) -> Response:
    log.warning(
        "console_sign_in_from_another_site",
        origin=request.headers.get("origin"),
        fetch_site=request.headers.get("sec-fetch-site"),
    )
    return _error_page(
        request,
        403,
        "Connexion refusée",
        "Pour votre sécurité, connectez-vous depuis la page de connexion de la console.",
    )


def _install_errors(app: FastAPI) -> None:
    async def sign_in_first(request: Request, exc: Exception) -> Response:
        query = {"suivant": getattr(exc, "next_path", "/")}
        reason = getattr(exc, "reason", None) or (
            "jeton" if isinstance(exc, SignInAgainError) else None
        )
        if reason:
            query["raison"] = reason
        return RedirectResponse(f"/connexion?{urlencode(query)}", status_code=303)

    async def forbidden(request: Request, _: Exception) -> Response:
        return _error_page(
            request,
            403,
            "Action réservée",
            "Cette action est réservée aux responsables de l’équipe.",
        )

    async def csrf(request: Request, _: Exception) -> Response:
        return _error_page(
            request,
            403,
            "Formulaire expiré",
            "Ce formulaire n’est plus valable. Rechargez la page et réessayez.",
        )

    async def unavailable(request: Request, exc: Exception) -> Response:
        service = getattr(exc, "service", "")
        return _error_page(request, 503, "Service indisponible", unavailable_message(service))

    async def refused(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status", 404) or 404
        message = getattr(exc, "message", "") or "Cette page n’existe pas."
        return _error_page(request, 404 if status == 404 else 400, "Introuvable", message)

    async def invalid(request: Request, _: Exception) -> Response:
        return _error_page(
            request,
            422,
            "Formulaire incomplet",
            "Certains champs sont manquants ou invalides. Revenez en arrière pour les corriger.",
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        if status == 404:
            return _error_page(request, 404, "Introuvable", "Cette page n’existe pas.")
        if status == 405:
            return _error_page(request, 405, "Action impossible", "Cette action n’existe pas.")
        return _error_page(request, status, "Erreur", "La demande n’a pas pu aboutir.")

    app.add_exception_handler(NeedSignInError, sign_in_first)
    app.add_exception_handler(SignInAgainError, sign_in_first)
    app.add_exception_handler(NotAllowedError, forbidden)
    app.add_exception_handler(CsrfError, csrf)
    app.add_exception_handler(CrossSiteError, _cross_site)
    app.add_exception_handler(UnavailableError, unavailable)
    app.add_exception_handler(RefusedError, refused)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
