"""HTTP routes: the email previews (development only; /health and /ready come from jg_messaging)."""

from __future__ import annotations

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from notifications.domain import Template
from notifications.preview import index_page, preview_plans
from notifications.rendering import RenderedEmail, Renderer

__all__ = ["previews_router"]

_TEMPLATE = Path(
    description="Template name, e.g. 'order_confirmed' (the list is on GET /previews).",
    examples=["order_confirmed"],
)


def _unknown(template: str) -> JSONResponse:
    return JSONResponse(
        status_code=404,
        content={
            "code": "unknown_template",
            "message": f"Aucun modèle d'e-mail ne s'appelle « {template} ».",
            "templates": [t.value for t in Template],
        },
    )


def previews_router(renderer: Renderer) -> APIRouter:
    router = APIRouter(prefix="/previews", tags=["previews (development)"])

    def render(template: str) -> RenderedEmail | None:
        try:
            name = Template(template)
        except ValueError:
            return None
        return renderer.render(preview_plans()[name])

    @router.get(
        "",
        summary="Every email, rendered with the example events (development only)",
        response_class=HTMLResponse,
    )
    async def index() -> HTMLResponse:
        rendered = {t: renderer.render(plan) for t, plan in preview_plans().items()}
        return HTMLResponse(index_page(rendered, suffix="previews/"))

    @router.get(
        "/{template}.html",
        summary="The HTML part of one email, exactly as sent (CSS inlined)",
        response_class=HTMLResponse,
        responses={404: {"description": "Unknown template: JSON with 'code' and 'message'"}},
    )
    async def html_part(template: str = _TEMPLATE) -> Response:
        email = render(template)
        return _unknown(template) if email is None else HTMLResponse(email.html)

    @router.get(
        "/{template}.txt",
        summary="The plain-text part of one email, with its subject",
        response_class=PlainTextResponse,
        responses={404: {"description": "Unknown template: JSON with 'code' and 'message'"}},
    )
    async def text_part(template: str = _TEMPLATE) -> Response:
        email = render(template)
        if email is None:
            return _unknown(template)
        return PlainTextResponse(f"Objet : {email.subject}\n\n{email.text}")

    return router
