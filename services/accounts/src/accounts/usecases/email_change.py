"""Changing the account's email: a link to the new address, which proves it when followed."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import asyncpg
from jg_events import CustomerField, EmailChangeRequested, EmailProof, LinkPurpose
from jg_messaging import utcnow
from jg_web.http import ApiError, Problem

from accounts import domain, repository
from accounts.context import Context
from accounts.usecases.common import AccountView, account_view, customer_updated, live
from accounts.usecases.throttle import check_password
from accounts.usecases.verification import prove_email

EMAIL_TAKEN = "Cette adresse e-mail est déjà utilisée par un compte."
EMAIL_LINK_INVALID = (
    "Ce lien de confirmation n'est plus valide : il a déjà été utilisé ou il a expiré. Vous "
    "pouvez refaire la demande depuis votre compte."
)


async def request_email_change(
    ctx: Context, customer_id: UUID, new_email: str, current_password: str, address: str
) -> None:
    """Send a confirmation link to ``new_email`` (current password required: 403; the same
    address: 422; an address with an account: 409)."""
    async with ctx.pool.acquire() as conn:
        account = await live(conn, customer_id)
    await check_password(ctx, account, current_password, address)
    if domain.same_email(new_email, account.email):
        raise ApiError(
            422,
            "validation_error",
            "Certaines informations sont invalides.",
            problems=[Problem("new_email", "same_email", "C'est déjà votre adresse e-mail.")],
        )
    token, token_hash = domain.new_token()
    now = utcnow()
    expires_at = now + timedelta(seconds=ctx.settings.email_change_ttl_seconds)
    async with ctx.runtime.messaging.transaction() as uow:
        if await repository.email_in_use(uow.conn, new_email):
            raise ApiError(409, "email_taken", EMAIL_TAKEN)
        account = await live(uow.conn, customer_id, lock=True)
        await repository.insert_email_change(
            uow.conn, token_hash, account.id, new_email, now, expires_at
        )
        await uow.publish(
            EmailChangeRequested(
                customer_id=account.id,
                customer_number=account.customer_number,
                email=account.email,
                first_name=account.first_name,
                new_email=new_email,
                sealed_confirmation_url=ctx.keyring.seal(
                    domain.link_with_token(ctx.settings.storefront_email_confirm_url, token),
                    purpose=LinkPurpose.EMAIL_CHANGE,
                    customer_id=account.id,
                    recipient=new_email,
                ),
                expires_at=expires_at,
            )
        )


async def confirm_email_change(ctx: Context, token: str) -> AccountView:
    """Follow the link sent to the new address: the account takes it, proven (400 when the
    link is not valid, 409 when another account took the address meanwhile)."""
    now = utcnow()
    async with ctx.runtime.messaging.transaction() as uow:
        change = await repository.usable_email_change(uow.conn, domain.hash_token(token), now)
        if change is None:
            raise ApiError(400, "email_link_invalid", EMAIL_LINK_INVALID)
        account = await live(uow.conn, change.customer_id, lock=True)
        previous = account.email
        try:
            async with uow.conn.transaction():  # a savepoint: the error leaves it usable
                account = await repository.set_email(uow.conn, account.id, change.new_email, now)
        except asyncpg.UniqueViolationError as error:
            raise ApiError(409, "email_taken", EMAIL_TAKEN) from error
        await repository.use_email_changes(uow.conn, account.id, now)
        # Reset links went to the previous address: they prove nothing about this one.
        await repository.use_reset_tokens(uow.conn, account.id, now)
        await uow.publish(customer_updated(account, [CustomerField.EMAIL], previous))
        # The link went to the new address: following it proves the address.
        await prove_email(ctx, uow, account, EmailProof.EMAIL_CHANGE_LINK, now)
        account = await live(uow.conn, account.id)
        return await account_view(uow.conn, account, now)
