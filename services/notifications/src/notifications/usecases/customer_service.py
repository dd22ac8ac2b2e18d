"""Customer service (the console): the emails of an order, and a resend to the same address."""

from __future__ import annotations

from uuid import UUID, uuid4

import structlog
from jg_web.http import ApiError

from notifications import domain, repository
from notifications.context import Context
from notifications.domain.resend import StoredEmail, resend_refusal

log = structlog.get_logger(__name__)


async def order_emails(ctx: Context, order_id: UUID) -> list[repository.OrderEmail]:
    async with ctx.runtime.pool.acquire() as conn:
        return await repository.order_emails(conn, order_id)


async def resend(ctx: Context, email_id: int, actor: str) -> int:
    """A new pending email with the original's content and recipient (its id); 404 for an
    unknown email, 409 with the reason in French when it cannot be sent again."""
    async with ctx.runtime.pool.acquire() as conn, conn.transaction():
        original = await repository.email_for_resend(conn, email_id)
        if original is None:
            raise ApiError(404, "email_not_found", "Cet e-mail est introuvable.")
        refusal = resend_refusal(
            StoredEmail(
                status=original.status.value,
                has_recipient=original.has_recipient,
                has_content=original.has_content,
                exempt_from_suppression=original.exempt_from_suppression,
            ),
            customer_erased=await repository.customer_erased(conn, original.customer_id),
            address_suppressed=await repository.suppressed_since(conn, original.recipient_hash)
            is not None,
        )
        if refusal is not None:
            raise ApiError(409, refusal.value, refusal.message)
        event_id = uuid4()  # the resend's own identity (its Message-ID differs)
        message_id = domain.message_id(event_id, original.template, ctx.sender_domain)
        new_id = await repository.insert_resend(conn, email_id, event_id, message_id, actor)
    ctx.wake()
    log.info("email_resent", email_id=email_id, resend_id=new_id, template=original.template)
    return new_id
