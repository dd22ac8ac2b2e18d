"""Authentication: the public keys, sign-up, login, sessions, and the forgotten password."""

from __future__ import annotations

from fastapi import APIRouter, Response

from accounts import metrics
from accounts.routes.dependencies import Caller, ClientAddress, Ctx
from accounts.routes.responses import ERRORS, errors
from accounts.routes.views import tokens
from accounts.schemas import (
    Accepted,
    Login,
    PasswordResetConfirm,
    PasswordResetRequest,
    Refresh,
    SessionInfo,
    SignUp,
    Tokens,
)
from accounts.usecases import password_reset, sessions

router = APIRouter()

RESET_ACCEPTED = (
    "Si un compte JapanGoodz est associé à cette adresse, vous allez recevoir dans quelques "
    "minutes un e-mail contenant un lien pour créer un nouveau mot de passe. Pensez à consulter "
    "votre dossier « Courrier indésirable » ou « Spams »."
)


@router.get(
    "/.well-known/jwks.json",
    tags=["sessions"],
    summary="Public keys of access tokens (JWK Set)",
)
async def jwks(response: Response, ctx: Ctx) -> dict[str, list[dict[str, object]]]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return ctx.keyring.jwks()


@router.post(
    "/customers",
    status_code=201,
    tags=["sessions"],
    summary="Sign up: create an account and log in (a link to verify the email is sent)",
    responses=errors(409, 429, 503, body=True),
)
async def sign_up(body: SignUp, ctx: Ctx, address: ClientAddress) -> Tokens:
    new = sessions.NewCustomer(body.email, body.password, body.first_name, body.last_name)
    return tokens(await sessions.sign_up(ctx, new, address), ctx.settings)


@router.post(
    "/login",
    tags=["sessions"],
    summary="Log in with email and password",
    responses=errors(429, body=True),
)
async def login(body: Login, ctx: Ctx, address: ClientAddress) -> Tokens:
    try:
        issued = await sessions.log_in(ctx, body.email, body.password, address)
    except Exception as exc:
        metrics.LOGINS.labels(metrics.login_outcome(exc)).inc()
        raise
    metrics.LOGINS.labels(metrics.login_outcome(None)).inc()
    return tokens(issued, ctx.settings)


@router.post(
    "/sessions/refresh",
    tags=["sessions"],
    summary="New tokens for an open session (the refresh token is single-use)",
    responses=errors(body=True),
)
async def refresh(body: Refresh, ctx: Ctx) -> Tokens:
    return tokens(await sessions.refresh(ctx, body.refresh_token), ctx.settings)


@router.get(
    "/sessions/validate",
    tags=["sessions"],
    summary="Is this access token's session still open? (for services that must know now)",
    responses=ERRORS,
)
async def validate(claims: Caller) -> SessionInfo:
    return SessionInfo(
        customer_id=claims.customer_id,
        session_id=claims.session_id,
        expires_at=claims.expires_at,
    )


@router.post(
    "/logout", status_code=204, tags=["sessions"], summary="End this session", responses=ERRORS
)
async def logout(claims: Caller, ctx: Ctx) -> Response:
    await sessions.log_out(ctx, claims.session_id)
    return Response(status_code=204)


@router.post(
    "/password-reset",
    status_code=202,
    tags=["password reset"],
    summary="Forgotten password: email a single-use link (same answer for any address)",
    responses=errors(429, body=True),
)
async def request_password_reset(
    body: PasswordResetRequest, ctx: Ctx, address: ClientAddress
) -> Accepted:
    try:
        await password_reset.request_password_reset(ctx, body.email, address)
    except Exception as exc:
        metrics.PASSWORD_RESETS.labels("requested", metrics.outcome_of(exc)).inc()
        raise
    metrics.PASSWORD_RESETS.labels("requested", metrics.outcome_of(None)).inc()
    return Accepted(message=RESET_ACCEPTED)


@router.post(
    "/password-reset/confirm",
    tags=["password reset"],
    summary="Set a new password with the link's token; ends the link and logs in",
    responses=errors(400, 503, body=True),
)
async def confirm_password_reset(body: PasswordResetConfirm, ctx: Ctx) -> Tokens:
    try:
        issued = await password_reset.confirm_password_reset(ctx, body.token, body.new_password)
    except Exception as exc:
        metrics.PASSWORD_RESETS.labels("completed", metrics.outcome_of(exc)).inc()
        raise
    metrics.PASSWORD_RESETS.labels("completed", metrics.outcome_of(None)).inc()
    return tokens(issued, ctx.settings)
