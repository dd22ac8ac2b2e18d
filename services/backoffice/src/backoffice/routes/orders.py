"""Finding an order, its page, and what a member does on it (cancel, resend an email)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jg_web.ids import row_id_path

from backoffice.routes.dependencies import Checked, Ctx, Member, page
from backoffice.usecases import orders

router = APIRouter(include_in_schema=False)

DocumentNumber = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")]


@router.get("/", response_class=HTMLResponse)
async def search(
    request: Request,
    ctx: Ctx,
    session: Member,
    q: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    results = await orders.search(ctx, session, q) if q.strip() else None
    return await page(request, ctx, session, "search.html.j2", q=q, results=results)


@router.get("/commandes/{order_id}", response_class=HTMLResponse)
async def order_page(request: Request, ctx: Ctx, session: Member, order_id: UUID) -> HTMLResponse:
    found = await orders.read_order(ctx, session, order_id)
    return await page(request, ctx, session, "order.html.j2", order_id=order_id, page=found)


@router.post("/commandes/{order_id}/annulation")
async def cancel(
    ctx: Ctx,
    session: Checked,
    order_id: UUID,
    note: Annotated[str, Form(min_length=1, max_length=1000)],
) -> RedirectResponse:
    await orders.cancel(ctx, session, order_id, note.strip())
    return RedirectResponse(f"/commandes/{order_id}", status_code=303)


@router.post("/commandes/{order_id}/emails/{email_id}/renvoi")
async def resend(
    ctx: Ctx,
    session: Checked,
    order_id: UUID,
    email_id: Annotated[int, row_id_path("The email's id")],
) -> RedirectResponse:
    await orders.resend_email(ctx, session, order_id, email_id)
    return RedirectResponse(f"/commandes/{order_id}#emails", status_code=303)


@router.get("/documents/{number}.pdf")
async def document(ctx: Ctx, session: Member, number: DocumentNumber) -> Response:
    content, media_type = await orders.document(ctx, session, number)
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'inline; filename="{number}.pdf"'},
    )
