"""HTTP routes: the email previews (development only; /health and /ready come from jg_messaging).

``router`` is included by ``app.py`` when previews are on; each route calls one use case of
:mod:`notifications.usecases.previews` and shapes the answer.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from notifications.context import Context
from notifications.rendering import Renderer
from notifications.usecases.previews import preview_email, preview_index

__all__ = ["router"]


def renderer(request: Request) -> Renderer:
    """The service's renderer (``app.state.context``, set by ``create_app``)."""
    ctx: Context = request.app.state.context
    return ctx.renderer


TemplateName = Annotated[
    str,
    Path(
        description="Template name, e.g. 'order_confirmed' (the list is on GET /previews).",
        examples=["order_confirmed"],
    ),
]
RendererDep = Annotated[Renderer, Depends(renderer)]
_UNKNOWN: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown template: JSON with 'code', 'message', 'templates'"}
}

router = APIRouter(prefix="/previews", tags=["previews (development)"])


@router.get(
    "",
    summary="Every email, rendered with the example events (development only)",
    response_class=HTMLResponse,
)
async def index(renderer: RendererDep) -> HTMLResponse:
    return HTMLResponse(preview_index(renderer))


@router.get(
    "/{template}.html",
    summary="The HTML part of one email, exactly as sent (CSS inlined)",
    response_class=HTMLResponse,
    responses=_UNKNOWN,
)
async def html_part(template: TemplateName, renderer: RendererDep) -> HTMLResponse:
    return HTMLResponse(preview_email(renderer, template).html)


@router.get(
    "/{template}.txt",
    summary="The plain-text part of one email, with its subject",
    response_class=PlainTextResponse,
    responses=_UNKNOWN,
)
async def text_part(template: TemplateName, renderer: RendererDep) -> PlainTextResponse:
    email = preview_email(renderer, template)
    return PlainTextResponse(f"Objet : {email.subject}\n\n{email.text}")
