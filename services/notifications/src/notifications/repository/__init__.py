"""PostgreSQL access (asyncpg, plain SQL). Every function takes the connection to use.

Statuses are :class:`~notifications.domain.EmailStatus` outside this module; the SQL spells
them as literals (``status = 'pending'``) on purpose: the delivery queue's partial indexes
(``WHERE status = 'pending'``) serve a prepared statement only when it says the same literal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
from jg_messaging import tracing

from notifications.domain import EmailStatus, FailureKind
from notifications.repository.customer_service import (
    OrderEmail,
    email_for_resend,
    insert_resend,
    order_emails,
)

__all__ = [
    "ClaimedEmail",
    "NewEmail",
    "OrderEmail",
    "add_suppression",
    "claim_due",
    "customer_erased",
    "email_for_resend",
    "erasure_verified",
    "forget_customer",
    "insert_email",
    "insert_resend",
    "lift_suppression",
    "mark_failed",
    "mark_retry",
    "mark_sent",
    "mark_suppressed",
    "order_emails",
    "order_refused_revision",
    "record_confirmation",
    "record_erased_customer",
    "record_refusal",
    "renew_lease",
    "suppressed_since",
]


@dataclass(frozen=True)
class NewEmail:
    """A send intent, as the use case records it (``usecases.emails``)."""

    event_id: UUID
    event_type: str
    event_occurred_at: datetime
    template: str
    message_id: str
    correlation_id: str | None
    ordering_key: str
    order_id: UUID | None
    customer_id: UUID | None
    recipient: str | None
    recipient_name: str | None
    recipient_hash: str
    subject: str | None
    body_text: str | None
    body_html: str | None
    attachment_path: str | None
    attachment_filename: str | None
    attachment_type: str | None
    status: EmailStatus
    exempt_from_suppression: bool = False
    forget_after_send: bool = False
    last_error: str | None = None
    failure_kind: FailureKind | None = None


@dataclass(frozen=True)
class ClaimedEmail:
    """A pending email reserved by one dispatcher for one attempt."""

    id: int
    event_id: UUID
    template: str
    message_id: str
    recipient: str | None
    recipient_name: str | None
    subject: str
    body_text: str
    body_html: str
    attachment_path: str | None
    attachment_filename: str | None
    attachment_type: str | None
    date_header: datetime
    created_at: datetime
    attempts: int
    exempt_from_suppression: bool
    suppressed: bool
    outcome_unknown: bool  # a previous attempt was claimed and never recorded (a crash)
    lease_token: UUID  # this claim's: renewals and the outcome are accepted under it only
    deferred_since: datetime | None  # first 4xx of the relay about this message, if any
    traceparent: str | None = None  # the trace of the handler that recorded it (the send joins)


async def insert_email(conn: asyncpg.Connection, email: NewEmail) -> bool:
    """Record a send intent; False when this (event, template) is already recorded."""
    inserted = await conn.fetchval(
        """INSERT INTO notification_emails (
               event_id, event_type, template, message_id, correlation_id, ordering_key,
               order_id, customer_id, recipient, recipient_name, recipient_hash, subject,
               body_text, body_html, attachment_path, attachment_filename, attachment_type,
               status, exempt_from_suppression, forget_after_send, last_error, failure_kind,
               event_occurred_at, failed_at, traceparent)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                   $18, $19, $20, $21, $22, $23, CASE WHEN $18 = 'failed' THEN now() END, $24)
           ON CONFLICT (event_id, template) DO NOTHING
           RETURNING true""",
        email.event_id,
        email.event_type,
        email.template,
        email.message_id,
        email.correlation_id,
        email.ordering_key,
        email.order_id,
        email.customer_id,
        email.recipient,
        email.recipient_name,
        email.recipient_hash,
        email.subject,
        email.body_text,
        email.body_html,
        email.attachment_path,
        email.attachment_filename,
        email.attachment_type,
        str(email.status),
        email.exempt_from_suppression,
        email.forget_after_send,
        email.last_error,
        str(email.failure_kind) if email.failure_kind else None,
        email.event_occurred_at,
        tracing.inject().get("traceparent"),  # the handler's transaction
    )
    return bool(inserted)


# --- Orders ----------------------------------------------------------------------------------


async def record_refusal(conn: asyncpg.Connection, order_id: UUID, revision: int) -> None:
    await conn.execute(
        """INSERT INTO notification_orders (order_id, refused_revision) VALUES ($1, $2)
           ON CONFLICT (order_id) DO UPDATE
           SET refused_revision = GREATEST(notification_orders.refused_revision, $2),
               updated_at = now()""",
        order_id,
        revision,
    )


async def record_confirmation(conn: asyncpg.Connection, order_id: UUID, revision: int) -> None:
    await conn.execute(
        """INSERT INTO notification_orders (order_id, confirmed_revision) VALUES ($1, $2)
           ON CONFLICT (order_id) DO UPDATE
           SET confirmed_revision = GREATEST(notification_orders.confirmed_revision, $2),
               updated_at = now()""",
        order_id,
        revision,
    )


async def order_refused_revision(conn: asyncpg.Connection, order_id: UUID) -> int | None:
    value = await conn.fetchval(
        "SELECT refused_revision FROM notification_orders WHERE order_id = $1", order_id
    )
    return int(value) if value is not None else None


# --- Suppression (erasure) -------------------------------------------------------------------


async def suppressed_since(conn: asyncpg.Connection, recipient_hash: str) -> datetime | None:
    value: datetime | None = await conn.fetchval(
        "SELECT requested_at FROM notification_suppressions WHERE recipient_hash = $1",
        recipient_hash,
    )
    return value


async def add_suppression(
    conn: asyncpg.Connection, recipient_hash: str, customer_id: UUID | None, requested_at: datetime
) -> None:
    await conn.execute(
        """INSERT INTO notification_suppressions (recipient_hash, customer_id, requested_at)
           VALUES ($1, $2, $3)
           ON CONFLICT (recipient_hash) DO UPDATE
           SET requested_at = GREATEST(notification_suppressions.requested_at, $3),
               customer_id = COALESCE($2, notification_suppressions.customer_id)""",
        recipient_hash,
        customer_id,
        requested_at,
    )


async def lift_suppression(conn: asyncpg.Connection, recipient_hash: str) -> None:
    await conn.execute(
        "DELETE FROM notification_suppressions WHERE recipient_hash = $1", recipient_hash
    )


async def record_erased_customer(
    conn: asyncpg.Connection, customer_id: UUID, requested_at: datetime, email_verified: bool
) -> None:
    await conn.execute(
        """INSERT INTO notification_erased_customers (customer_id, requested_at, email_verified)
           VALUES ($1, $2, $3)
           ON CONFLICT (customer_id) DO UPDATE
           SET requested_at = LEAST(notification_erased_customers.requested_at, $2),
               email_verified = notification_erased_customers.email_verified OR $3""",
        customer_id,
        requested_at,
        email_verified,
    )


async def customer_erased(conn: asyncpg.Connection, customer_id: UUID | None) -> bool:
    """True when the account's erasure was requested: nothing more is written about it."""
    if customer_id is None:
        return False
    return bool(
        await conn.fetchval(
            "SELECT true FROM notification_erased_customers WHERE customer_id = $1", customer_id
        )
    )


async def erasure_verified(conn: asyncpg.Connection, customer_id: UUID) -> bool:
    """Whether the erasure request of this account came with a proven address."""
    return bool(
        await conn.fetchval(
            "SELECT email_verified FROM notification_erased_customers WHERE customer_id = $1",
            customer_id,
        )
    )


async def forget_customer(
    conn: asyncpg.Connection, recipient_hash: str | None, customer_id: UUID | None
) -> int:
    """Erase the address, name, subject, bodies and relay answers of a customer's emails (those
    of the account, and those sent to the address when ``recipient_hash`` is given: only for a
    proven address); cancel their pending ones.

    Emails exempt from suppression that are still pending (the erasure acknowledgement and
    confirmation) are left alone: they forget their own address once sent.
    """
    result: str = await conn.execute(
        """UPDATE notification_emails
           SET recipient = NULL, recipient_name = NULL, body_text = NULL, body_html = NULL,
               subject = NULL, smtp_response = NULL, last_error = NULL,
               status = CASE WHEN status = 'pending' THEN 'suppressed' ELSE status END,
               in_flight_since = NULL
           WHERE (($1::text IS NOT NULL AND recipient_hash = $1)
                  OR ($2::uuid IS NOT NULL AND customer_id = $2))
             AND NOT (exempt_from_suppression AND status = 'pending')""",
        recipient_hash,
        customer_id,
    )
    return int(result.split()[-1])


# --- Delivery queue --------------------------------------------------------------------------


async def claim_due(conn: asyncpg.Connection, *, limit: int, lease: float) -> list[ClaimedEmail]:
    """Reserve up to ``limit`` due emails for ``lease`` seconds (short transaction, SKIP LOCKED).

    Each claimed row gets a new ``lease_token``: the claimer renews the lease and records the
    outcome with it; a claim taken over after its lease ran out makes the old token worthless.

    Per ordering key (an order, a customer) only the pending email of the earliest event is
    due, so the customer reads them in the order the events happened, even after an outage.
    """
    async with conn.transaction():
        rows = await conn.fetch(
            """WITH due AS (
                   SELECT e.id, e.in_flight_since AS previous_in_flight
                   FROM notification_emails e
                   WHERE e.status = 'pending' AND e.next_attempt_at <= now()
                     AND NOT EXISTS (
                         SELECT 1 FROM notification_emails older
                         WHERE older.ordering_key = e.ordering_key
                           AND older.status = 'pending'
                           AND (older.event_occurred_at, older.id)
                               < (e.event_occurred_at, e.id))
                   ORDER BY e.next_attempt_at, e.id
                   LIMIT $1
                   FOR UPDATE OF e SKIP LOCKED)
               UPDATE notification_emails e
               SET attempts = e.attempts + 1,
                   in_flight_since = now(),
                   lease_token = gen_random_uuid(),
                   next_attempt_at = now() + make_interval(secs => $2),
                   unknown_outcome_resends = e.unknown_outcome_resends
                       + (due.previous_in_flight IS NOT NULL)::int
               FROM due
               WHERE e.id = due.id
               RETURNING e.*, due.previous_in_flight IS NOT NULL AS outcome_unknown,
                   EXISTS (SELECT 1 FROM notification_suppressions s
                           WHERE s.recipient_hash = e.recipient_hash) AS suppressed""",
            limit,
            lease,
        )
    return [_claimed(r) for r in sorted(rows, key=lambda r: r["id"])]


def _claimed(r: asyncpg.Record) -> ClaimedEmail:
    return ClaimedEmail(
        id=r["id"],
        event_id=r["event_id"],
        template=r["template"],
        message_id=r["message_id"],
        recipient=r["recipient"],
        recipient_name=r["recipient_name"],
        subject=r["subject"] or "",
        body_text=r["body_text"] or "",
        body_html=r["body_html"] or "",
        attachment_path=r["attachment_path"],
        attachment_filename=r["attachment_filename"],
        attachment_type=r["attachment_type"],
        date_header=r["date_header"],
        created_at=r["created_at"],
        attempts=r["attempts"],
        exempt_from_suppression=r["exempt_from_suppression"],
        suppressed=r["suppressed"],
        outcome_unknown=r["outcome_unknown"],
        lease_token=r["lease_token"],
        deferred_since=r["deferred_since"],
        traceparent=r["traceparent"],
    )


async def renew_lease(
    conn: asyncpg.Connection, email_id: int, lease_token: UUID, lease: float
) -> bool:
    """Extend the lease of a claim still held under ``lease_token``; False if it is lost.

    Lost: another dispatcher took the row over after the lease ran out, or the row is no
    longer pending (an erasure suppressed it).
    """
    renewed = await conn.fetchval(
        """UPDATE notification_emails
           SET next_attempt_at = now() + make_interval(secs => $3)
           WHERE id = $1 AND lease_token = $2 AND status = 'pending'
           RETURNING true""",
        email_id,
        lease_token,
        lease,
    )
    return bool(renewed)


# Every outcome is recorded only under the lease that sent (or tried to send) the email, and
# ends it. Each returns False, changing nothing, when that lease is no longer the row's.


async def mark_sent(
    conn: asyncpg.Connection, email_id: int, lease_token: UUID, smtp_response: str
) -> bool:
    recorded = await conn.fetchval(
        """UPDATE notification_emails
           SET status = 'sent', sent_at = now(), in_flight_since = NULL, lease_token = NULL,
               smtp_response = $3, last_error = NULL,
               body_text = CASE WHEN forget_after_send THEN NULL ELSE body_text END,
               body_html = CASE WHEN forget_after_send THEN NULL ELSE body_html END,
               recipient = CASE WHEN forget_after_send THEN NULL ELSE recipient END,
               recipient_name = CASE WHEN forget_after_send THEN NULL ELSE recipient_name END
           WHERE id = $1 AND lease_token = $2 AND status = 'pending'
           RETURNING true""",
        email_id,
        lease_token,
        smtp_response[:1000],
    )
    return bool(recorded)


async def mark_retry(
    conn: asyncpg.Connection,
    email_id: int,
    lease_token: UUID,
    error: str,
    delay: float,
    *,
    deferred: bool = False,
) -> bool:
    """Try again in ``delay`` seconds; ``deferred``: the relay answered 4xx about this message."""
    recorded = await conn.fetchval(
        """UPDATE notification_emails
           SET in_flight_since = NULL, lease_token = NULL, last_error = $3,
               next_attempt_at = now() + make_interval(secs => $4),
               deferred_since = CASE WHEN $5 THEN COALESCE(deferred_since, now())
                                     ELSE deferred_since END
           WHERE id = $1 AND lease_token = $2 AND status = 'pending'
           RETURNING true""",
        email_id,
        lease_token,
        error[:2000],
        delay,
        deferred,
    )
    return bool(recorded)


async def mark_failed(
    conn: asyncpg.Connection, email_id: int, lease_token: UUID, kind: FailureKind, error: str
) -> bool:
    recorded = await conn.fetchval(
        """UPDATE notification_emails
           SET status = 'failed', failed_at = now(), failure_kind = $3, last_error = $4,
               in_flight_since = NULL, lease_token = NULL,
               body_text = CASE WHEN forget_after_send THEN NULL ELSE body_text END,
               body_html = CASE WHEN forget_after_send THEN NULL ELSE body_html END,
               recipient = CASE WHEN forget_after_send THEN NULL ELSE recipient END,
               recipient_name = CASE WHEN forget_after_send THEN NULL ELSE recipient_name END
           WHERE id = $1 AND lease_token = $2 AND status = 'pending'
           RETURNING true""",
        email_id,
        lease_token,
        str(kind),
        error[:2000],
    )
    return bool(recorded)


async def mark_suppressed(conn: asyncpg.Connection, email_id: int, lease_token: UUID) -> bool:
    recorded = await conn.fetchval(
        """UPDATE notification_emails
           SET status = 'suppressed', in_flight_since = NULL, lease_token = NULL,
               recipient = NULL, recipient_name = NULL, body_text = NULL, body_html = NULL
           WHERE id = $1 AND lease_token = $2 AND status = 'pending'
           RETURNING true""",
        email_id,
        lease_token,
    )
    return bool(recorded)


async def pending_emails(conn: asyncpg.Connection) -> tuple[int, float | None]:
    """Emails waiting to be sent, and the age in seconds of the oldest (None when none waits)."""
    row = await conn.fetchrow(
        """SELECT count(*) AS pending,
                  extract(epoch FROM now() - min(created_at))::float8 AS oldest
           FROM notification_emails WHERE status = 'pending'"""
    )
    assert row is not None
    return int(row["pending"]), row["oldest"]
