"""Sign-up, login, sessions (refresh, logout) and the check of an access token's session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import asyncpg
import structlog
from jg_auth import AuthError, CustomerClaims, TokenError
from jg_events import CustomerRegistered
from jg_messaging import utcnow
from jg_web.http import ApiError, Problem

from accounts import domain, repository
from accounts.context import Context
from accounts.repository import Account
from accounts.security import HashingBusyError
from accounts.usecases import throttle
from accounts.usecases.common import (
    SESSION_ENDED,
    AccountView,
    account_view,
    check_new_password,
    live,
)
from accounts.usecases.verification import new_verification_link

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class IssuedTokens:
    """An access token and the session's (new) refresh token, for the account."""

    access_token: str
    expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    session_id: UUID
    customer: AccountView


@dataclass(frozen=True)
class NewCustomer:
    email: str
    password: str
    first_name: str
    last_name: str


async def authenticate(ctx: Context, token: str | None) -> CustomerClaims:
    """A valid access token whose session is still open (checked in the database)."""
    if not token:
        raise AuthError("missing_credentials")
    assert ctx.keyring.verifier is not None
    try:
        claims = await ctx.keyring.verifier.verify(token)
    except TokenError as error:
        raise AuthError(error.reason) from error
    async with ctx.pool.acquire() as conn:
        alive = await repository.live_session(conn, claims.session_id, claims.customer_id, utcnow())
    if alive is None:
        raise AuthError("session_ended", SESSION_ENDED)
    return claims


async def open_session(
    ctx: Context, conn: repository.Conn, account: Account, now: datetime
) -> IssuedTokens:
    session_id = uuid4()
    refresh, refresh_hash = domain.new_token()
    refresh_expires = now + timedelta(days=ctx.settings.session_ttl_days)
    await repository.insert_session(
        conn,
        session_id=session_id,
        customer_id=account.id,
        refresh_hash=refresh_hash,
        now=now,
        expires_at=refresh_expires,
    )
    return await tokens_for(ctx, conn, account, session_id, refresh, refresh_expires, now)


async def tokens_for(
    ctx: Context,
    conn: repository.Conn,
    account: Account,
    session_id: UUID,
    refresh: str,
    refresh_expires: datetime,
    now: datetime,
) -> IssuedTokens:
    access, expires_at = ctx.keyring.access_token(
        customer_id=account.id, session_id=session_id, email=account.email, now=now
    )
    return IssuedTokens(
        access_token=access,
        expires_at=expires_at,
        refresh_token=refresh,
        refresh_expires_at=refresh_expires,
        session_id=session_id,
        customer=await account_view(conn, account, now),
    )


async def sign_up(ctx: Context, new: NewCustomer, address: str) -> IssuedTokens:
    """Create the account and log in; CustomerRegistered carries the sealed verification link.

    Refused: a password against the policy (422), past the sign-up limits (429), an address
    that already has an account (409)."""
    names = (new.first_name, new.last_name)
    check_new_password(new.password, email=new.email, names=names, field_name="password")
    await throttle.limit_sign_ups(ctx, new.email, address, utcnow())
    password_hash = await ctx.passwords.hash(new.password)
    now = utcnow()
    try:
        async with ctx.runtime.messaging.transaction() as uow:
            number = domain.customer_number(await repository.next_customer_sequence(uow.conn))
            account = await repository.insert_customer(
                uow.conn,
                customer_id=uuid4(),
                number=number,
                email=new.email,
                first_name=new.first_name,
                last_name=new.last_name,
                password_hash=password_hash,
                now=now,
            )
            tokens = await open_session(ctx, uow.conn, account, now)
            sealed, expires_at = await new_verification_link(ctx, uow.conn, account, now)
            await uow.publish(
                CustomerRegistered(
                    customer_id=account.id,
                    customer_number=number,
                    email=new.email,
                    first_name=new.first_name,
                    last_name=new.last_name,
                    sealed_verification_url=sealed,
                    verification_expires_at=expires_at,
                )
            )
    except asyncpg.UniqueViolationError as error:
        raise ApiError(
            409,
            "email_taken",
            "Un compte existe déjà avec cette adresse e-mail. Connectez-vous ou utilisez "
            "« Mot de passe perdu ? ».",
            problems=[Problem("email", "email_taken", "Adresse déjà utilisée.")],
        ) from error
    log.info("customer_registered", customer_id=str(account.id))
    return tokens


async def log_in(ctx: Context, email: str, password: str, address: str) -> IssuedTokens:
    """Open a session for the right email and password (slowed down after failures: 429;
    wrong: 401, the same for an unknown email and in the same time)."""
    now = utcnow()
    ids = await throttle.throttle_login(ctx, email, address, now)
    async with ctx.pool.acquire() as conn:
        account = await repository.live_customer_by_email(conn, email)
    if not await ctx.passwords.verify(account.password_hash if account else None, password):
        log.info("login_failed")
        raise ApiError(401, "invalid_credentials", "Adresse e-mail ou mot de passe incorrect.")
    assert account is not None
    await throttle.login_succeeded(ctx, email, ids)
    if ctx.passwords.needs_rehash(account.password_hash):
        try:
            new_hash = await ctx.passwords.hash(password)
        except HashingBusyError:
            log.info("password_rehash_postponed")  # the next login will do it
        else:
            async with ctx.pool.acquire() as conn:
                await repository.rehash_password(conn, account.id, account.password_hash, new_hash)
    async with ctx.pool.acquire() as conn, conn.transaction():
        tokens = await open_session(ctx, conn, account, now)
    log.info("customer_logged_in", customer_id=str(account.id))
    return tokens


async def refresh(ctx: Context, refresh_token: str) -> IssuedTokens:
    """New tokens for an open session; the refresh token is single-use (rotated)."""
    now = utcnow()
    async with ctx.pool.acquire() as conn, conn.transaction():
        session = await repository.session_by_refresh_token(
            conn, domain.hash_token(refresh_token), now
        )
        if session is None:
            raise AuthError("session_ended", SESSION_ENDED)
        account = await live(conn, session.customer_id)
        new_refresh, new_hash = domain.new_token()
        await repository.rotate_refresh_token(conn, session.id, new_hash, now)
        return await tokens_for(
            ctx, conn, account, session.id, new_refresh, session.expires_at, now
        )


async def log_out(ctx: Context, session_id: UUID) -> None:
    async with ctx.pool.acquire() as conn:
        await repository.end_session(conn, session_id, "logout", utcnow())
