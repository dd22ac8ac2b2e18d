"""Forgotten password: a single-use link by email (the same answer for any address), then a new
password set with it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog
from jg_events import CustomerField, EmailProof, LinkPurpose, PasswordResetRequested
from jg_messaging import utcnow
from jg_web.http import ApiError

from accounts import domain, repository
from accounts.context import Context
from accounts.usecases.common import check_new_password, customer_updated, live
from accounts.usecases.sessions import IssuedTokens, open_session
from accounts.usecases.verification import prove_email

log = structlog.get_logger(__name__)

RESET_LINK_INVALID = (
    "Ce lien de réinitialisation n'est plus valide : il a déjà été utilisé ou il a expiré. "
    "Veuillez faire une nouvelle demande depuis « Mot de passe perdu ? »."
)


async def request_password_reset(ctx: Context, email: str, address: str) -> None:
    """Send a reset link if the address has an account; answer in the same time either way
    (never before ``reset_response_seconds``). 429 past the client address's limit."""
    floor = ctx.settings.reset_response_seconds
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        await _password_reset(ctx, email, address)
    finally:
        elapsed = loop.time() - started
        if elapsed > floor:
            log.warning("password_reset_slower_than_floor", elapsed=round(elapsed, 3))
        await asyncio.sleep(max(0.0, floor - elapsed))


async def _password_reset(ctx: Context, email: str, address: str) -> None:
    # The same work whatever the outcome: a token, its hash, two attempt rows, a lookup.
    settings = ctx.settings
    token, token_hash = domain.new_token()
    now = utcnow()
    since = now - timedelta(seconds=settings.reset_window_seconds)
    email_subject = ctx.keyring.subject(email)
    address_subject = ctx.keyring.subject(f"address:{address}")
    async with ctx.runtime.messaging.transaction() as uow:
        from_address = await repository.attempts_since(
            uow.conn, "reset_address", address_subject, since
        )
        if domain.over_limit(len(from_address), settings.reset_limit_per_address):
            raise ApiError(
                429,
                "too_many_requests",
                "Trop de demandes de réinitialisation. Veuillez réessayer plus tard.",
                headers={"Retry-After": str(settings.reset_window_seconds)},
            )
        for_email = await repository.attempts_since(uow.conn, "reset_email", email_subject, since)
        await repository.record_attempt(uow.conn, "reset_address", address_subject, now)
        await repository.record_attempt(uow.conn, "reset_email", email_subject, now)
        account = await repository.live_customer_by_email(uow.conn, email, lock=True)
        if account is None:
            return
        if domain.over_limit(len(for_email), settings.reset_limit_per_email):
            log.warning("password_reset_email_limit", customer_id=str(account.id))
            return
        expires_at = now + timedelta(seconds=settings.reset_token_ttl_seconds)
        await repository.insert_reset_token(uow.conn, token_hash, account.id, now, expires_at)
        await uow.publish(
            PasswordResetRequested(
                customer_id=account.id,
                customer_number=account.customer_number,
                email=account.email,
                first_name=account.first_name,
                sealed_reset_url=ctx.keyring.seal(
                    domain.link_with_token(settings.storefront_reset_url, token),
                    purpose=LinkPurpose.PASSWORD_RESET,
                    customer_id=account.id,
                    recipient=account.email,
                ),
                expires_at=expires_at,
            )
        )


async def confirm_password_reset(ctx: Context, token: str, new_password: str) -> IssuedTokens:
    """Set the new password with a valid link (400 otherwise; 422 against the policy); the
    link and every session end, the address is proven, and a new session opens."""
    token_hash = domain.hash_token(token)
    invalid = ApiError(400, "reset_link_invalid", RESET_LINK_INVALID)
    async with ctx.pool.acquire() as conn:
        found = await repository.usable_reset_token(conn, token_hash, utcnow())
        account = await repository.live_customer(conn, found.customer_id) if found else None
    if account is None:
        raise invalid
    check_new_password(
        new_password,
        email=account.email,
        names=(account.first_name, account.last_name),
        field_name="new_password",
    )
    password_hash = await ctx.passwords.hash(new_password)
    now = utcnow()
    async with ctx.runtime.messaging.transaction() as uow:
        if await repository.usable_reset_token(uow.conn, token_hash, now, lock=True) is None:
            raise invalid  # used or expired meanwhile
        account = await live(uow.conn, account.id, lock=True)
        await repository.use_reset_tokens(uow.conn, account.id, now)
        await repository.set_password(uow.conn, account.id, password_hash, now)
        await repository.end_sessions(uow.conn, account.id, "password_reset", now)
        await uow.publish(customer_updated(account, [CustomerField.PASSWORD]))
        # The link went to the account's address: following it proves the address.
        await prove_email(ctx, uow, account, EmailProof.PASSWORD_RESET_LINK, now)
        account = await live(uow.conn, account.id)
        tokens = await open_session(ctx, uow.conn, account, now)
        # Control of the mailbox is proven: lift the slow-down on this email.
        await repository.forget_attempts(
            uow.conn, subject=ctx.keyring.subject(account.email), scopes=["login_email"]
        )
    log.info("password_reset_done", customer_id=str(account.id))
    return tokens
