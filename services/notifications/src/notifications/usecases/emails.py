"""The emails an event gives, recorded as send intents in the event's unit of work.

Each intent is one row per (event, template), rendered, with its Message-ID, in the same
transaction as the inbox record: a redelivered event finds both and records nothing. The
dispatcher sends them afterwards; nothing here talks to SMTP.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from jg_events import Envelope
from jg_messaging import PermanentError

from notifications import domain, repository
from notifications.context import Context
from notifications.domain import EmailPlan, EmailStatus, FailureKind

__all__ = ["planned", "record_emails", "send_emails"]

log = structlog.get_logger(__name__)


async def send_emails(ctx: Context, envelope: Envelope[Any]) -> None:
    """Record the emails the event gives (most events: nothing else is kept here)."""
    async with ctx.runtime.messaging.handling(envelope) as uow:
        if uow.already_processed:
            return
        recorded = await record_emails(ctx, uow.conn, envelope, planned(ctx, envelope))
    if recorded:
        ctx.wake()


def planned(ctx: Context, envelope: Envelope[Any]) -> list[EmailPlan]:
    """The emails the event gives; an account link we cannot open is a permanent error."""
    try:
        return domain.plan_emails(envelope.payload, ctx.links)
    except domain.LinkUnavailableError as error:
        # Another key than accounts' (a misconfiguration): retried, then dead-lettered, to
        # be replayed once the keys match. Never logged with the link.
        log.error("account_link_unreadable", reason=str(error))
        raise PermanentError(f"cannot open the account link of {envelope.type}") from error


async def record_emails(
    ctx: Context, conn: asyncpg.Connection, envelope: Envelope[Any], plans: list[EmailPlan]
) -> int:
    """Lift the suppressions the event renews, then record each plan; how many are to send."""
    for plan in plans:
        await _lift_suppression_if_renewed(ctx, conn, envelope, plan)
    recorded = 0
    for plan in plans:
        recorded += await _record(ctx, conn, envelope, plan)
    return recorded


async def _lift_suppression_if_renewed(
    ctx: Context, conn: asyncpg.Connection, envelope: Envelope[Any], plan: EmailPlan
) -> None:
    address_hash = ctx.hash(plan.to_email)
    since = await repository.suppressed_since(conn, address_hash)
    if since is not None and domain.suppression_lifted(
        since, envelope.payload, envelope.occurred_at
    ):
        await repository.lift_suppression(conn, address_hash)
        log.info("suppression_lifted", reason=envelope.type)


async def _record(
    ctx: Context, conn: asyncpg.Connection, envelope: Envelope[Any], plan: EmailPlan
) -> int:
    """Record one send intent: 1 if it is to send, 0 if suppressed, failed or already there."""
    address_hash = ctx.hash(plan.to_email)
    status = domain.intent_status(
        address_suppressed=await repository.suppressed_since(conn, address_hash) is not None,
        account_erased=await repository.customer_erased(conn, plan.customer_id),
        exempt=plan.exempt_from_suppression,
        deliverable=domain.is_deliverable_address(plan.to_email),
    )
    if status is EmailStatus.SUPPRESSED:
        await repository.insert_email(conn, _intent(ctx, envelope, plan, address_hash, status))
        log.info("email_suppressed", template=plan.template.value)
        return 0
    rendered = ctx.renderer.render(plan)
    if status is EmailStatus.FAILED:
        email = _intent(
            ctx,
            envelope,
            plan,
            address_hash,
            status,
            subject=rendered.subject,
            failure_kind=FailureKind.INVALID_ADDRESS,
            last_error="the recipient address is not deliverable",
        )
        await repository.insert_email(conn, email)
        log.error("email_invalid_address", template=plan.template.value)
        return 0
    email = _intent(
        ctx,
        envelope,
        plan,
        address_hash,
        status,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
    )
    inserted = await repository.insert_email(conn, email)
    if inserted:
        log.info("email_recorded", template=plan.template.value, message_id=email.message_id)
    return int(inserted)


def _intent(
    ctx: Context,
    envelope: Envelope[Any],
    plan: EmailPlan,
    address_hash: str,
    status: EmailStatus,
    *,
    subject: str | None = None,
    body_text: str | None = None,
    body_html: str | None = None,
    failure_kind: FailureKind | None = None,
    last_error: str | None = None,
) -> repository.NewEmail:
    """The row of one send intent; a suppressed one keeps no address, name or content."""
    suppressed = status is EmailStatus.SUPPRESSED
    attachment = plan.attachment
    return repository.NewEmail(
        event_id=envelope.event_id,
        event_type=envelope.type,
        event_occurred_at=envelope.occurred_at,
        template=plan.template.value,
        message_id=domain.message_id(envelope.event_id, plan.template, ctx.sender_domain),
        correlation_id=envelope.correlation_id,
        ordering_key=plan.ordering_key,
        order_id=plan.order_id,
        customer_id=plan.customer_id,
        recipient=None if suppressed else plan.to_email,
        recipient_name=None if suppressed else plan.to_name,
        recipient_hash=address_hash,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        attachment_path=attachment.path if attachment else None,
        attachment_filename=attachment.filename if attachment else None,
        attachment_type=attachment.content_type if attachment else None,
        status=status,
        exempt_from_suppression=plan.exempt_from_suppression,
        forget_after_send=plan.forget_after_send,
        last_error=last_error,
        failure_kind=failure_kind,
    )
