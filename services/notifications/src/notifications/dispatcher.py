"""The delivery loop: sends the recorded intents over SMTP, outside any transaction.

Exactly once, as the customer sees it:

1. a handler records the intent (one row per event and template, with its Message-ID) in the
   same transaction as the inbox record: a redelivered event finds both and does nothing;
2. the dispatcher claims due rows in a short transaction (``FOR UPDATE SKIP LOCKED``; the row
   gets a lease: ``next_attempt_at = now() + send_lease``), so several instances never send
   the same row at the same time;
3. it sends over SMTP with no transaction open, then records the outcome: sent, retry later
   (transient failure, exponential backoff), or failed (permanent failure, or still failing
   after ``give_up_after``).

A crash (or a lost database) between the relay's "250 OK" and step 3 leaves the row claimed
with no outcome; once its lease has run out it is sent again, with the SAME Message-ID, Date
and content, and ``unknown_outcome_resends`` counts it (logged as ``email_resent_after_unknown
_outcome``). We chose this at-least-once side deliberately: a lost order confirmation (the
contract on a durable medium) is worse than a duplicate that mail clients and support can
recognise by its Message-ID. An SMTP outage only delays: rows stay pending, nothing is lost,
and a restarted service resumes from the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import UTC, datetime

import asyncpg
import structlog

from notifications import repository
from notifications.domain import retry_delay
from notifications.invoices import InvoiceClient
from notifications.mail import OutgoingEmail, SmtpSender, build_message, classify
from notifications.repository import ClaimedEmail
from notifications.settings import NotificationsSettings

__all__ = ["Dispatcher"]

log = structlog.get_logger(__name__)


class Dispatcher:
    """Polls the intent rows and delivers them; ``wake()`` after a commit skips the wait."""

    def __init__(
        self,
        settings: NotificationsSettings,
        *,
        sender: SmtpSender | None = None,
        invoices: InvoiceClient | None = None,
    ) -> None:
        self.settings = settings
        self.sender = sender or SmtpSender(settings)
        self._invoices = invoices
        self._pool: asyncpg.Pool | None = None
        self._task: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()
        self._stopping = False

    @property
    def invoices(self) -> InvoiceClient:
        if self._invoices is None:
            s = self.settings
            self._invoices = InvoiceClient(
                s.payment_base_url,
                s.payment_internal_token.get_secret_value(),
                timeout=s.payment_timeout,
            )
        return self._invoices

    def start(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="notifications-dispatcher")

    async def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()
        task, self._task = self._task, None
        if task is not None:
            done, _ = await asyncio.wait({task}, timeout=30)  # let the sends in flight finish
            if not done:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._invoices is not None:
            await self._invoices.aclose()
            self._invoices = None

    def wake(self) -> None:
        self._wakeup.set()

    async def _run(self) -> None:
        assert self._pool is not None
        log.info("dispatcher_started")
        while not self._stopping:
            try:
                count = await self.run_once()
            except Exception as exc:  # the database is away: try again after a pause
                log.warning("dispatcher_poll_failed", error=repr(exc))
                count = 0
            if count == 0 and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._wakeup.wait(), timeout=self.settings.dispatch_poll_interval
                    )
                self._wakeup.clear()
        log.info("dispatcher_stopped")

    async def run_once(self) -> int:
        """Claim the due emails and deliver them; returns how many were claimed."""
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            claimed = await repository.claim_due(
                conn, limit=self.settings.dispatch_batch_size, lease=self.settings.send_lease
            )
        if not claimed:
            return 0
        semaphore = asyncio.Semaphore(self.settings.dispatch_concurrency)

        async def deliver(email: ClaimedEmail) -> None:
            async with semaphore:
                await self.deliver(email)

        await asyncio.gather(*(deliver(email) for email in claimed))
        return len(claimed)

    async def deliver(self, email: ClaimedEmail) -> None:
        assert self._pool is not None
        bound = log.bind(
            message_id=email.message_id,
            template=email.template,
            email_event_id=str(email.event_id),
            attempt=email.attempts,
        )
        if email.recipient is None or (email.suppressed and not email.exempt_from_suppression):
            async with self._pool.acquire() as conn:
                await repository.mark_suppressed(conn, email.id)
            bound.info("email_suppressed")
            return
        if email.outcome_unknown:
            bound.warning("email_resent_after_unknown_outcome")
        try:
            attachment = None
            if email.attachment_path:
                attachment = await self.invoices.fetch(email.attachment_path)
            message = build_message(
                OutgoingEmail(
                    message_id=email.message_id,
                    event_id=email.event_id,
                    template=email.template,
                    recipient=email.recipient,
                    recipient_name=email.recipient_name,
                    subject=email.subject,
                    text=email.body_text,
                    html=email.body_html,
                    date=email.date_header,
                    attachment=attachment,
                    attachment_filename=email.attachment_filename,
                    attachment_type=email.attachment_type or "application/pdf",
                ),
                sender=self.settings.sender_address,
                reply_to=self.settings.reply_to_address,
            )
            response = await self.sender.send(message, email.recipient)
        except Exception as exc:
            await self._record_failure(email, exc, bound)
            return
        async with self._pool.acquire() as conn:
            await repository.mark_sent(conn, email.id, response)
        bound.info("email_sent")

    async def _record_failure(
        self, email: ClaimedEmail, exc: Exception, bound: structlog.stdlib.BoundLogger
    ) -> None:
        assert self._pool is not None
        failure = classify(exc)
        age = (datetime.now(UTC) - email.created_at).total_seconds()
        async with self._pool.acquire() as conn:
            if failure.permanent:
                await repository.mark_failed(conn, email.id, "permanent", failure.reason)
                bound.error("email_failed_permanently", reason=failure.reason)
            elif age >= self.settings.give_up_after:
                await repository.mark_failed(conn, email.id, "expired", failure.reason)
                bound.error("email_given_up", reason=failure.reason, age_seconds=round(age))
            else:
                delay = retry_delay(
                    email.attempts,
                    first=self.settings.retry_first_delay,
                    maximum=self.settings.retry_max_delay,
                    jitter=random.uniform(-1, 1),
                )
                await repository.mark_retry(conn, email.id, failure.reason, delay)
                bound.warning("email_retry_scheduled", reason=failure.reason, retry_in=delay)
