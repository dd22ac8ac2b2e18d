"""HTTP routes: the email previews (development only; /health and /ready come from jg_messaging)
and customer service's emails of an order and resend (``operator_router``, staff tokens).

``router`` is included by ``app.py`` when previews are on; each route calls one use case of
:mod:`notifications.usecases.previews` (or ``customer_service``) and shapes the answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, cast
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from jg_auth import Operator, staff_or_operator
from jg_web.ids import row_id_path
from pydantic import BaseModel, Field

from notifications.context import Context
from notifications.rendering import Renderer
from notifications.usecases import customer_service
from notifications.usecases.previews import preview_email, preview_index

__all__ = ["operator_router", "router"]


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


# --- customer service (the console): staff tokens or NOTIFICATIONS_OPERATOR_TOKEN -------------


class OrderEmailOut(BaseModel):
    id: int = Field(description="The email's id (to resend it).")
    template: str = Field(description="e.g. 'order_confirmed'.")
    subject: str | None = Field(description="None once the customer's data was erased.")
    status: Literal["pending", "sent", "failed", "suppressed"] = Field(
        description="Delivery status."
    )
    created_at: datetime = Field(description="When the email was recorded (UTC).")
    sent_at: datetime | None = Field(description="When the relay accepted it (UTC).")
    last_error: str | None = Field(description="The last delivery error, if any.")


class Resent(BaseModel):
    id: int = Field(description="The new email's id (pending, sent by the dispatcher).")
    resent_from: int = Field(description="The email it copies.")


def context(request: Request) -> Context:
    return cast(Context, request.app.state.context)


Ctx = Annotated[Context, Depends(context)]
Staff = Annotated[Operator, Depends(staff_or_operator("agent"))]

operator_router = APIRouter(
    prefix="/operator",
    tags=["customer service"],
    responses={
        401: {"description": "No staff or operator token (or an invalid one)"},
        403: {"description": "A staff role below the route's"},
    },
)


@operator_router.get("/orders/{order_id}/emails", summary="The emails of an order (oldest first)")
async def order_emails(
    order_id: Annotated[UUID, Path(description="Order id (from checkout).")], ctx: Ctx, _: Staff
) -> list[OrderEmailOut]:
    return [
        OrderEmailOut(
            id=email.id,
            template=email.template,
            subject=email.subject,
            status=email.status.value,
            created_at=email.created_at,
            sent_at=email.sent_at,
            last_error=email.last_error,
        )
        for email in await customer_service.order_emails(ctx, order_id)
    ]


@operator_router.post(
    "/emails/{email_id}/resend",
    status_code=202,
    summary="Send an email again, same content, same recipient",
    responses={
        404: {"description": "No such email."},
        409: {"description": "Cannot be resent (erased customer, suppressed address...)."},
    },
)
async def resend_email(
    email_id: Annotated[int, row_id_path("The email's id (from the order's emails).")],
    ctx: Ctx,
    who: Staff,
) -> Resent:
    return Resent(id=await customer_service.resend(ctx, email_id, who.actor), resent_from=email_id)
