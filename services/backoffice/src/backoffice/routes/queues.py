"""The work queues: claims (with their photos and the decision), returns received, backorders,
refused logistics reports, the inventory count."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backoffice.domain import wording
from backoffice.routes.dependencies import Checked, Ctx, Member, page
from backoffice.usecases import queues

router = APIRouter(include_in_schema=False)


@router.get("/reclamations", response_class=HTMLResponse)
async def claims(request: Request, ctx: Ctx, session: Member) -> HTMLResponse:
    found = await queues.claims(ctx, session)
    return await page(request, ctx, session, "claims.html.j2", claims=found)


@router.get("/reclamations/{claim_id}", response_class=HTMLResponse)
async def claim(request: Request, ctx: Ctx, session: Member, claim_id: UUID) -> HTMLResponse:
    found = await queues.claim(ctx, session, claim_id)
    return await page(request, ctx, session, "claim.html.j2", claim=found, claim_id=claim_id)


@router.get("/reclamations/{claim_id}/photos/{photo_id}")
async def photo(ctx: Ctx, session: Member, claim_id: UUID, photo_id: UUID) -> Response:
    content, media_type = await queues.photo(ctx, session, claim_id, photo_id)
    return Response(content, media_type=media_type, headers={"X-Content-Type-Options": "nosniff"})


@router.post("/reclamations/{claim_id}/decision")
async def decide(
    ctx: Ctx,
    session: Checked,
    claim_id: UUID,
    resolution: Annotated[Literal["refund", "reship", "rejected"], Form()],
    message: Annotated[str, Form(max_length=4000)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
) -> RedirectResponse:
    try:
        refund = wording.parse_euros(amount)
    except ValueError:
        await queues.say(ctx, session, "Le montant doit être en euros, par exemple 19,90.")
        return RedirectResponse(f"/reclamations/{claim_id}", status_code=303)
    decision = queues.Decision(resolution, message.strip() or None, refund)
    done = await queues.resolve(ctx, session, claim_id, decision)
    target = "/reclamations" if done else f"/reclamations/{claim_id}"
    return RedirectResponse(target, status_code=303)


@router.get("/files", response_class=HTMLResponse)
async def other_queues(request: Request, ctx: Ctx, session: Member) -> HTMLResponse:
    found = await queues.others(ctx, session)
    return await page(
        request,
        ctx,
        session,
        "queues.html.j2",
        queues=found,
        age=lambda since: queues.age(since, ctx.clock()),
    )


@router.get("/inventaire", response_class=HTMLResponse)
async def stock_form(request: Request, ctx: Ctx, session: Member) -> HTMLResponse:
    return await page(request, ctx, session, "stock.html.j2")


@router.post("/inventaire")
async def count_stock(
    ctx: Ctx,
    session: Checked,
    sku: Annotated[str, Form(pattern=r"^[A-Z0-9][A-Z0-9-]{0,63}$")],
    name_fr: Annotated[str, Form(min_length=1, max_length=200)],
    on_hand: Annotated[int, Form(ge=0, le=1_000_000)],
    note: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    count = queues.Count(sku, name_fr.strip(), on_hand, note.strip() or None)
    await queues.count_stock(ctx, session, count)
    return RedirectResponse("/inventaire", status_code=303)
