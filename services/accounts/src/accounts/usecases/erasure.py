"""GDPR erasure in accounts: the customer's own data, then the announcement."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import structlog
from jg_events import (
    CustomerErased,
    CustomerErasureRequested,
    Envelope,
    ErasureRequestedBy,
    Topic,
    topic_name,
)
from jg_messaging import UnitOfWork, utcnow
from jg_web.http import ApiError

from accounts import domain, repository
from accounts.context import Context
from accounts.repository import Account, CustomerRecord
from accounts.security import Keyring
from accounts.usecases.common import live
from accounts.usecases.throttle import check_password

log = structlog.get_logger(__name__)


async def erase_customer(
    conn: repository.Conn,
    keyring: Keyring,
    customer_id: UUID,
    now: datetime,
    *,
    email_verified: bool = False,
) -> CustomerRecord | None:
    """Erase accounts' personal data of a customer; returns the row as it was (or None).

    The account's orders go (its own, and the guest orders linked to it because it proved the
    address). Guest orders of the address that are linked to no account go too only when the
    erasure says the address was proven (``email_verified``): otherwise the address may be a
    stranger's, and their orders are not the account's to erase.
    """
    row = await repository.customer(conn, customer_id, lock=True)
    if row is None or row.erased_at is not None:
        return None
    if row.email:
        await repository.forget_attempts(
            conn,
            subject=keyring.subject(row.email),
            scopes=["login_email", "reset_email", "signup_email"],
        )
        if email_verified:
            await repository.forget_guest_orders(conn, keyring.guest_email(row.email))
    await repository.erase_customer(conn, customer_id, now)
    await repository.forget_sent_events(conn, str(customer_id))
    return row


async def apply_erasure_request(ctx: Context, envelope: Envelope[CustomerErasureRequested]) -> None:
    """Erase accounts' own data, then announce CustomerErased (the last use of the email).

    The request goes on the erasure list first (to be applied again after a restore). A request
    already on the list (imported after a restore of this database, then published again)
    erases again without a second announcement."""
    request = envelope.payload
    async with ctx.runtime.messaging.handling(envelope) as uow:
        if uow.already_processed:
            return
        now = utcnow()
        topic = topic_name(Topic.ACCOUNTS_CUSTOMERS, ctx.runtime.settings.platform.topic_prefix)
        first_time = await repository.record_erasure_request(uow.conn, envelope, topic)
        row = await erase_customer(
            uow.conn, ctx.keyring, request.customer_id, now, email_verified=request.email_verified
        )
        if row is None or not first_time:
            return
        await uow.publish(
            CustomerErased(
                customer_id=row.id,
                customer_number=row.customer_number,
                email=request.email,
                first_name=request.first_name,
                erased_at=now,
            )
        )
        log.info("customer_erased", customer_id=str(row.id))


async def forget_erased_events(ctx: Context, envelope: Envelope[CustomerErased]) -> None:
    """CustomerErased is out: forget it (and every event of the customer) in the outbox."""
    async with ctx.runtime.messaging.handling(envelope) as uow:
        if uow.already_processed:
            return
        await repository.forget_sent_events(uow.conn, str(envelope.payload.customer_id))


async def _request_erasure(
    uow: UnitOfWork, account: Account, by: ErasureRequestedBy, now: datetime
) -> None:
    """Mark the account, end its sessions and links, and publish CustomerErasureRequested
    (the erasure itself follows, in :func:`apply_erasure_request`, as for every service)."""
    await repository.mark_erasure_requested(uow.conn, account.id, by.value, now)
    await repository.end_sessions(uow.conn, account.id, "erasure_requested", now)
    await repository.use_reset_tokens(uow.conn, account.id, now)
    await repository.use_email_changes(uow.conn, account.id, now)
    await repository.use_email_verifications(uow.conn, account.id, now)
    await uow.publish(
        CustomerErasureRequested(
            customer_id=account.id,
            customer_number=account.customer_number,
            email=account.email,
            first_name=account.first_name,
            requested_at=now,
            requested_by=by,
            # Only a proven address lets the other services erase what they hold by it.
            email_verified=account.email_verified,
        )
    )
    log.info(
        "erasure_requested",
        customer_id=str(account.id),
        by=by.value,
        email_verified=account.email_verified,
    )


async def request_own_erasure(
    ctx: Context, customer_id: UUID, current_password: str, address: str
) -> str:
    """The customer asks for their erasure (current password required: 403); returns the
    account's number."""
    async with ctx.pool.acquire() as conn:
        account = await live(conn, customer_id)
    await check_password(ctx, account, current_password, address)
    now = utcnow()
    async with ctx.runtime.messaging.transaction() as uow:
        account = await live(uow.conn, customer_id, lock=True)
        await _request_erasure(uow, account, ErasureRequestedBy.CUSTOMER, now)
    return account.customer_number


async def request_erasure_for_customer_service(ctx: Context, email: str, number: str) -> str:
    """Customer service erases the account of an email and customer number (404 when none
    matches); a request already made is not made again. Returns the account's number."""
    now = utcnow()
    async with ctx.runtime.messaging.transaction() as uow:
        account = await repository.customer_by_email_and_number(uow.conn, email, number)
        if account is None:
            raise ApiError(
                404,
                "customer_not_found",
                "Aucun compte ne correspond à cette adresse e-mail et à ce numéro client.",
            )
        if domain.erasure_to_request(account.erasure_requested_at):
            await _request_erasure(uow, account, ErasureRequestedBy.CUSTOMER_SERVICE, now)
    return account.customer_number
