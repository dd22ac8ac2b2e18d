"""The profile: reading it, changing names and billing address, changing the password."""

from __future__ import annotations

from uuid import UUID

import structlog
from jg_auth import CustomerClaims
from jg_events import Address, CustomerField
from jg_messaging import utcnow
from jg_web import COUNTRY_NOT_DELIVERED, delivery_problem
from jg_web.http import ApiError, Problem

from accounts import domain, repository
from accounts.context import Context
from accounts.usecases.common import (
    AccountView,
    account_view,
    check_new_password,
    customer_updated,
    live,
)
from accounts.usecases.throttle import check_password

log = structlog.get_logger(__name__)


async def show_profile(ctx: Context, customer_id: UUID) -> AccountView:
    async with ctx.pool.acquire() as conn:
        return await account_view(conn, await live(conn, customer_id), utcnow())


async def change_profile(
    ctx: Context, customer_id: UUID, change: domain.ProfileChange
) -> AccountView:
    """Apply the given fields (a billing address in a country not delivered: 422); publish
    CustomerUpdated with the fields that really changed, if any."""
    new_address = change.billing_address
    if new_address is not None:
        reason = delivery_problem(new_address.country_code, ctx.settings.countries)
        if reason is not None:
            raise ApiError(
                422,
                "validation_error",
                "Certaines informations sont invalides.",
                problems=[Problem("billing_address.country_code", COUNTRY_NOT_DELIVERED, reason)],
            )
    now = utcnow()
    async with ctx.runtime.messaging.transaction() as uow:
        account = await live(uow.conn, customer_id, lock=True)
        current = domain.ProfileFields(
            account.first_name, account.last_name, account.billing_address
        )
        updated, changed = domain.apply_profile_change(current, change)
        if changed:
            address: Address | None = updated.billing_address
            account = await repository.update_profile(
                uow.conn,
                customer_id,
                first_name=updated.first_name,
                last_name=updated.last_name,
                billing_address=address.model_dump(mode="json") if address else None,
                now=now,
            )
            await uow.publish(customer_updated(account, changed))
        return await account_view(uow.conn, account, now)


async def change_password(
    ctx: Context, claims: CustomerClaims, current_password: str, new_password: str, address: str
) -> None:
    """Current password required (403); the new one follows the policy (422); the other
    sessions and the outstanding reset links end."""
    async with ctx.pool.acquire() as conn:
        account = await live(conn, claims.customer_id)
    await check_password(ctx, account, current_password, address)
    check_new_password(
        new_password,
        email=account.email,
        names=(account.first_name, account.last_name),
        field_name="new_password",
    )
    password_hash = await ctx.passwords.hash(new_password)
    now = utcnow()
    async with ctx.runtime.messaging.transaction() as uow:
        account = await live(uow.conn, claims.customer_id, lock=True)
        await repository.set_password(uow.conn, account.id, password_hash, now)
        ended = await repository.end_sessions(
            uow.conn, account.id, "password_changed", now, keep=claims.session_id
        )
        await repository.use_reset_tokens(uow.conn, account.id, now)
        await uow.publish(customer_updated(account, [CustomerField.PASSWORD]))
    log.info("password_changed", customer_id=str(account.id), other_sessions_ended=ended)
