"""Slowing down failed logins and limiting sign-ups: the attempts counted in the database, the
decisions in :mod:`accounts.domain`."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import structlog
from jg_messaging import utcnow
from jg_web.http import ApiError

from accounts import domain, repository
from accounts.context import Context
from accounts.repository import Account

log = structlog.get_logger(__name__)


def too_many(message: str, wait: float) -> ApiError:
    """429 with the wait in French words and ``Retry-After``."""
    return ApiError(
        429,
        "too_many_requests",
        f"{message} Veuillez réessayer dans {domain.wait_text(wait)}.",
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
    )


async def throttle_login(ctx: Context, email: str, address: str, now: datetime) -> list[int]:
    """Record this attempt; refuse it (429) if recent failures impose a wait."""
    email_subject = ctx.keyring.subject(email)
    address_subject = ctx.keyring.subject(f"address:{address}")
    since = now - timedelta(seconds=ctx.settings.login_window_seconds)
    async with ctx.pool.acquire() as conn:
        ids = [
            await repository.record_attempt(conn, "login_email", email_subject, now),
            await repository.record_attempt(conn, "login_address", address_subject, now),
        ]
        by_email = await repository.attempts_since(
            conn, "login_email", email_subject, since, besides=ids[0]
        )
        by_address = await repository.attempts_since(
            conn, "login_address", address_subject, since, besides=ids[1]
        )
        wait = domain.login_wait(
            by_email,
            by_address,
            now,
            per_email=ctx.login_backoff(per_address=False),
            per_address=ctx.login_backoff(per_address=True),
        )
        if wait > 0:
            await repository.forget_attempts(conn, ids=ids)
            log.warning("login_slowed_down", wait=round(wait, 1))
            raise ApiError(
                429,
                "too_many_attempts",
                "Trop de tentatives de connexion. Veuillez réessayer dans "
                f"{domain.wait_text(wait)}.",
                headers={"Retry-After": str(math.ceil(wait))},
            )
    return ids


async def login_succeeded(ctx: Context, email: str, ids: list[int]) -> None:
    """A right password: the attempts of this login and the email's failures are forgotten."""
    async with ctx.pool.acquire() as conn:
        await repository.forget_attempts(conn, ids=ids[1:])
        await repository.forget_attempts(
            conn, subject=ctx.keyring.subject(email), scopes=["login_email"]
        )


async def check_password(ctx: Context, account: Account, password: str, address: str) -> None:
    """The current password of a logged-in customer (counted like a login attempt; 403)."""
    ids = await throttle_login(ctx, account.email, address, utcnow())
    if not await ctx.passwords.verify(account.password_hash, password):
        raise ApiError(403, "wrong_password", "Le mot de passe actuel est incorrect.")
    await login_succeeded(ctx, account.email, ids)


async def take_room(
    conn: repository.Conn, scope: str, subject: bytes, *, limit: int, window: int, now: datetime
) -> float:
    """Count one request against a sliding-window limit (0: accepted and recorded), else the
    seconds to wait. Exact across instances: the subject is locked in the database."""
    await repository.lock_subject(conn, scope, subject)
    span = timedelta(seconds=window)
    recent = await repository.attempts_since(conn, scope, subject, now - span)
    wait = domain.wait_for_room(recent, now, limit=limit, window=span)
    if wait == 0:
        await repository.record_attempt(conn, scope, subject, now)
    return wait


async def limit_sign_ups(ctx: Context, email: str, address: str, now: datetime) -> None:
    """Sign-ups per client address and per email address (429 past either limit)."""
    settings = ctx.settings
    window = settings.signup_window_seconds
    async with ctx.sign_up_checks, ctx.pool.acquire() as conn, conn.transaction():
        from_address = await take_room(
            conn,
            "signup_address",
            ctx.keyring.subject(f"address:{address}"),
            limit=settings.signup_limit_per_address,
            window=window,
            now=now,
        )
        if from_address:
            log.warning("sign_up_limited", per="address", wait=round(from_address))
            raise too_many("Trop de créations de compte depuis votre connexion.", from_address)
        for_email = await take_room(
            conn,
            "signup_email",
            ctx.keyring.subject(email),
            limit=settings.signup_limit_per_email,
            window=window,
            now=now,
        )
        if for_email:  # the transaction rolls back: the address's count is not taken
            log.warning("sign_up_limited", per="email", wait=round(for_email))
            raise too_many("Trop de tentatives d'inscription avec cette adresse e-mail.", for_email)
