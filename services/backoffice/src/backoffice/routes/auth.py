"""Signing in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backoffice.domain import safe_next
from backoffice.routes.dependencies import COOKIE, REASONS, Checked, Ctx, page, same_site
from backoffice.usecases import sessions

router = APIRouter(include_in_schema=False)


@router.get("/connexion", response_class=HTMLResponse)
async def sign_in_form(
    request: Request, ctx: Ctx, suivant: str = "/", raison: str | None = None
) -> HTMLResponse:
    return await page(
        request,
        ctx,
        None,
        "sign_in.html.j2",
        next=safe_next(suivant),
        reason=REASONS.get(raison or ""),
        email="",
    )


@router.post("/connexion", response_model=None, dependencies=[Depends(same_site)])
async def sign_in(
    request: Request,
    ctx: Ctx,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    suivant: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    try:
        session = await sessions.sign_in(ctx, email.strip(), password)
    except sessions.SignInError as exc:
        return await page(
            request,
            ctx,
            None,
            "sign_in.html.j2",
            status_code=401,
            next=safe_next(suivant),
            error=exc.message,
            email=email,
        )
    response = RedirectResponse(safe_next(suivant), status_code=303)
    response.set_cookie(
        COOKIE,
        session.id,
        max_age=int((session.expires_at - session.created_at).total_seconds()),
        httponly=True,
        secure=ctx.settings.cookie_secure,
        samesite="strict",
        path="/",
    )
    return response


@router.post("/deconnexion")
async def sign_out(ctx: Ctx, session: Checked) -> RedirectResponse:
    await sessions.sign_out(ctx, session)
    response = RedirectResponse("/connexion?raison=deconnexion", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
