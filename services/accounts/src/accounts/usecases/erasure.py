"""GDPR erasure in accounts: the customer's own data, then the announcement."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from jg_events import CustomerErased, CustomerErasureRequested, Envelope, Topic, topic_name

from accounts import repository
from accounts.security import Keyring, utcnow
from accounts.usecases.context import Context

log = structlog.get_logger(__name__)


async def erase_customer(
    conn: repository.Conn,
    keyring: Keyring,
    customer_id: UUID,
    now: datetime,
    *,
    email_verified: bool = False,
) -> Any:
    """Erase accounts' personal data of a customer; returns the row as it was (or None).

    The account's orders go (its own, and the guest orders linked to it because it proved the
    address). Guest orders of the address that are linked to no account go too only when the
    erasure says the address was proven (``email_verified``): otherwise the address may be a
    stranger's, and their orders are not the account's to erase.
    """
    row = await repository.customer(conn, customer_id, lock=True)
    if row is None or row["erased_at"] is not None:
        return None
    if row["email"]:
        await repository.forget_attempts(
            conn,
            subject=keyring.subject(row["email"]),
            scopes=["login_email", "reset_email", "signup_email"],
        )
        if email_verified:
            await repository.forget_guest_orders(conn, keyring.guest_email(row["email"]))
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
                customer_id=row["id"],
                customer_number=row["customer_number"],
                email=request.email,
                first_name=request.first_name,
                erased_at=now,
            )
        )
        log.info("customer_erased", customer_id=str(row["id"]))


async def forget_erased_events(ctx: Context, envelope: Envelope[CustomerErased]) -> None:
    """CustomerErased is out: forget it (and every event of the customer) in the outbox."""
    async with ctx.runtime.messaging.handling(envelope) as uow:
        if uow.already_processed:
            return
        await repository.forget_sent_events(uow.conn, str(envelope.payload.customer_id))
