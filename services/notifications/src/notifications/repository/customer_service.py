"""Customer service's view of the emails: those of an order, and a resend's copy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from notifications.domain import EmailStatus

# --- Customer service ------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderEmail:
    """An email about an order, as customer service sees it (no body)."""

    id: int
    template: str
    subject: str | None
    status: EmailStatus
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    customer_id: UUID | None
    recipient_hash: str
    has_recipient: bool
    has_content: bool
    exempt_from_suppression: bool


def _order_email(r: asyncpg.Record) -> OrderEmail:
    return OrderEmail(
        id=r["id"],
        template=r["template"],
        subject=r["subject"],
        status=EmailStatus(r["status"]),
        created_at=r["created_at"],
        sent_at=r["sent_at"],
        last_error=r["last_error"],
        customer_id=r["customer_id"],
        recipient_hash=r["recipient_hash"],
        has_recipient=r["has_recipient"],
        has_content=r["has_content"],
        exempt_from_suppression=r["exempt_from_suppression"],
    )


_ORDER_EMAIL = """SELECT id, template, subject, status, created_at, sent_at, last_error,
       customer_id, recipient_hash, recipient IS NOT NULL AS has_recipient,
       body_text IS NOT NULL AND body_html IS NOT NULL AS has_content, exempt_from_suppression
  FROM notification_emails"""


async def order_emails(conn: asyncpg.Connection, order_id: UUID) -> list[OrderEmail]:
    rows = await conn.fetch(f"{_ORDER_EMAIL} WHERE order_id = $1 ORDER BY created_at, id", order_id)
    return [_order_email(r) for r in rows]


async def email_for_resend(conn: asyncpg.Connection, email_id: int) -> OrderEmail | None:
    row = await conn.fetchrow(f"{_ORDER_EMAIL} WHERE id = $1 FOR UPDATE", email_id)
    return _order_email(row) if row is not None else None


async def insert_resend(
    conn: asyncpg.Connection, email_id: int, event_id: UUID, message_id: str, actor: str
) -> int:
    """A new pending email copying the original's recipient and content (its id)."""
    return int(
        await conn.fetchval(
            """INSERT INTO notification_emails (
                   event_id, event_type, template, message_id, correlation_id, ordering_key,
                   order_id, customer_id, recipient, recipient_name, recipient_hash, subject,
                   body_text, body_html, attachment_path, attachment_filename, attachment_type,
                   status, exempt_from_suppression, forget_after_send, event_occurred_at,
                   resent_from, resent_by)
               SELECT $2, event_type, template, $3, correlation_id, ordering_key, order_id,
                      customer_id, recipient, recipient_name, recipient_hash, subject,
                      body_text, body_html, attachment_path, attachment_filename,
                      attachment_type, 'pending', exempt_from_suppression, forget_after_send,
                      now(), id, $4
                 FROM notification_emails WHERE id = $1
               RETURNING id""",
            email_id,
            event_id,
            message_id,
            actor,
        )
    )
