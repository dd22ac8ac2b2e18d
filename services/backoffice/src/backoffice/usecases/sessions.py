"""Signing in and out: accounts checks the member, the console keeps the session server-side."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from backoffice import repository
from backoffice.clients import RefusedError, UnavailableError
from backoffice.context import Context
from backoffice.domain import Action, Member, Outcome, Role, Session, SessionState, new_session
from backoffice.usecases.common import record, unavailable_message

WRONG_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."
TOO_MANY = "Trop de tentatives de connexion. Patientez quelques minutes avant de réessayer."


class SignInError(Exception):
    """The sign-in failed; ``message`` is what the page says, in French."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def sign_in(ctx: Context, email: str, password: str) -> Session:
    """Ask accounts (POST /staff/login); on success open a session with the staff token."""
    try:
        response = await ctx.services.call(
            "accounts", "POST", "/staff/login", json={"email": email, "password": password}
        )
    except UnavailableError as exc:
        raise SignInError(unavailable_message("accounts")) from exc
    except RefusedError as exc:
        if exc.status == 429:
            raise SignInError(TOO_MANY) from exc
        if exc.status in (400, 401, 422):
            raise SignInError(WRONG_CREDENTIALS) from exc
        raise SignInError(unavailable_message("accounts")) from exc  # no staff login there
    body = response.json()
    m = body["member"]
    member = Member(id=UUID(str(m["id"])), email=m["email"], name=m["name"], role=Role(m["role"]))
    session = new_session(
        secrets.token_urlsafe(32),
        secrets.token_urlsafe(32),
        member,
        body["access_token"],
        int(body.get("expires_in") or 900),
        ctx.clock(),
        timedelta(hours=ctx.settings.session_hours),
    )
    await repository.delete_expired_sessions(ctx.runtime.pool, ctx.clock())
    await repository.insert_session(ctx.runtime.pool, session)
    await record(ctx, session, Action.SIGN_IN, Outcome.DONE)
    return session


@dataclass(frozen=True)
class Current:
    session: Session | None
    state: SessionState | None  # None: no such session


async def current(ctx: Context, session_id: str | None) -> Current:
    """The session behind a cookie, and whether it still lets the member work."""
    if not session_id:
        return Current(None, None)
    session = await repository.get_session(ctx.runtime.pool, session_id)
    if session is None:
        return Current(None, None)
    state = session.state(ctx.clock())
    if state is not SessionState.ACTIVE:
        await repository.delete_session(ctx.runtime.pool, session.id)
    return Current(session, state)


async def sign_out(ctx: Context, session: Session) -> None:
    await repository.delete_session(ctx.runtime.pool, session.id)
    await record(ctx, session, Action.SIGN_OUT, Outcome.DONE)


async def take_flash(ctx: Context, session: Session) -> tuple[str, bool] | None:
    return await repository.pop_flash(ctx.runtime.pool, session.id)
