"""The manager's pages: dead letters, parked outbox rows (replay), the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jg_web.ids import row_id_path

from backoffice.routes.dependencies import Checked, Ctx, Member, page
from backoffice.usecases import audit, deadletters

router = APIRouter(include_in_schema=False)

ServiceName = Annotated[str, Path(pattern=r"^[a-z]{1,32}$")]


@router.get("/lettres-mortes", response_class=HTMLResponse)
async def dead_letters(request: Request, ctx: Ctx, session: Member) -> HTMLResponse:
    found = await deadletters.letters(ctx)
    return await page(request, ctx, session, "dead_letters.html.j2", letters=found)


@router.post("/lettres-mortes/{letter_id}/rejeu")
async def replay_dead_letter(
    ctx: Ctx, session: Checked, letter_id: Annotated[int, row_id_path("The dead letter's id")]
) -> RedirectResponse:
    await deadletters.replay(ctx, session, letter_id)
    return RedirectResponse("/lettres-mortes", status_code=303)


@router.get("/messages-en-attente", response_class=HTMLResponse)
async def parked(request: Request, ctx: Ctx, session: Member) -> HTMLResponse:
    found = await deadletters.parked(ctx, session)
    return await page(request, ctx, session, "parked.html.j2", parked=found)


@router.post("/messages-en-attente/{service}/{row_id}/rejeu")
async def replay_parked(
    ctx: Ctx,
    session: Checked,
    service: ServiceName,
    row_id: Annotated[int, row_id_path("The parked row's id")],
) -> RedirectResponse:
    await deadletters.replay_parked(ctx, session, service, row_id)
    return RedirectResponse("/messages-en-attente", status_code=303)


@router.get("/journal", response_class=HTMLResponse)
async def trail(request: Request, ctx: Ctx, session: Member) -> HTMLResponse:
    entries = await audit.trail(ctx, session)
    return await page(request, ctx, session, "audit.html.j2", entries=entries)
