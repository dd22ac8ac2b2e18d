"""The delivery loop: sends the recorded intents over SMTP, outside any transaction.

Its database steps (claim, renewal, outcomes) are the use cases of
:mod:`notifications.usecases.delivery`, each a short transaction of its own; this module holds
the loop, the send slots, the lease clock and the SMTP call.

Exactly once, as the customer sees it, with several replicas on one database:

1. a handler's use case (:mod:`notifications.usecases.emails`) records the intent (one row
   per event and template, with its Message-ID) in the same transaction as the inbox record:
   a redelivered event finds both and does nothing;
2. the dispatcher claims due rows in a short transaction (``FOR UPDATE SKIP LOCKED``), only as
   many as it has free send slots (``dispatch_concurrency``, at most ``dispatch_batch_size``
   per poll): no claimed row waits for a slot. Each claim gets a lease (``next_attempt_at =
   now() + send_lease``) and a new ``lease_token``;
3. while the send lasts (fetching the invoice PDF from payment, then SMTP), the lease is
   renewed every third of ``send_lease`` under its token, so a slow relay never lets the lease
   run out under a send in progress and another replica never takes the row. A dispatcher
   that cannot renew in time (its database away) or finds its lease lost (another replica took
   the row, an erasure suppressed it) abandons the send (``email_send_abandoned_lease_lost``)
   and records nothing;
4. it records the outcome under its token: sent, retry later (transient failure, exponential
   backoff), or failed (permanent failure, or deferred by the relay for ``give_up_after``). An
   outcome offered under a lease that is no longer the row's changes nothing and is logged
   (``email_outcome_discarded_lease_lost``).

A crash (or a lost database) between the relay's "250 OK" and step 4 leaves the row claimed
with no outcome and no renewal; once its lease has run out it is sent again, with the SAME
Message-ID, Date and content, and ``unknown_outcome_resends`` counts it (logged as ``email_resent
_after_unknown_outcome``). We chose this at-least-once side deliberately: a lost order
confirmation (the contract on a durable medium) is worse than a duplicate that mail clients and
support can recognise by its Message-ID. The window is one SMTP round trip plus one UPDATE.

An SMTP outage (connection refused or lost, timeouts, the relay refusing everything) only
delays, however long it lasts: rows stay pending, nothing is lost, a restarted service resumes
from the table, and retries are logged as errors once an email has waited an hour. Only a
message the relay itself keeps deferring (4xx to RCPT or DATA) is given up, after
``give_up_after`` (five days by default, at least one), logged as the error ``email_given_up``.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog
from jg_messaging import tracing

from notifications import metrics
from notifications.invoices import InvoiceClient
from notifications.mail import OutgoingEmail, SmtpSender, build_message, classify
from notifications.repository import ClaimedEmail
from notifications.settings import NotificationsSettings
from notifications.usecases import delivery

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
        self._in_flight: set[asyncio.Task[None]] = set()

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
                task.cancel()  # what is still in flight is sent again once its lease runs out
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.sender.aclose()  # the idle SMTP connections say QUIT
        if self._invoices is not None:
            await self._invoices.aclose()
            self._invoices = None

    def wake(self) -> None:
        self._wakeup.set()

    async def _run(self) -> None:
        assert self._pool is not None
        log.info("dispatcher_started")
        try:
            while not self._stopping:
                self._wakeup.clear()
                try:
                    wanted, started = await self._claim_and_start()
                except Exception as exc:  # the database is away: try again after a pause
                    log.warning("dispatcher_poll_failed", error=repr(exc))
                    wanted = started = 0
                if started and started == wanted and self._free_slots():
                    continue  # a full batch, and slots left: more may be due right now
                await self._wait_for_work()
            if self._in_flight:  # stopping: the sends in flight finish, their leases renewed
                await asyncio.wait(set(self._in_flight))
        finally:
            # cancelled (a stop past its grace period, or a crash): nothing more is recorded
            for task in self._in_flight:
                task.cancel()
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        log.info("dispatcher_stopped")

    def _free_slots(self) -> int:
        return self.settings.dispatch_concurrency - len(self._in_flight)

    async def _wait_for_work(self) -> None:
        """Until a commit wakes us, a send ends (a free slot), or the poll interval is over."""
        wakeup = asyncio.create_task(self._wakeup.wait())
        try:
            await asyncio.wait(
                {wakeup, *self._in_flight},
                timeout=self.settings.dispatch_poll_interval,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            wakeup.cancel()

    async def _claim_and_start(self) -> tuple[int, int]:
        """Claim as many due emails as there are free slots and start sending each at once.

        Returns how many were asked for and how many were claimed (and started).
        """
        assert self._pool is not None
        wanted = min(self._free_slots(), self.settings.dispatch_batch_size)
        if wanted <= 0:
            return 0, 0
        lease = self.settings.send_lease
        claimed_at = asyncio.get_running_loop().time()  # before the claim: a safe lower bound
        claimed = await delivery.claim(self._pool, limit=wanted, lease=lease)
        for email in claimed:
            task = asyncio.create_task(
                self.deliver(email, leased_until=claimed_at + lease),
                name=f"send-email-{email.id}",
            )
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return wanted, len(claimed)

    async def run_once(self) -> int:
        """Claim what can be sent now and send it; returns how many were claimed."""
        _, started = await self._claim_and_start()
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))
        return started

    async def deliver(self, email: ClaimedEmail, *, leased_until: float | None = None) -> None:
        """Send one claimed email under its lease, then record the outcome under that lease.

        ``leased_until``: when the lease runs out on the event loop's clock (measured from
        before the claim); by default a whole ``send_lease`` from now.
        """
        assert self._pool is not None
        if leased_until is None:
            leased_until = asyncio.get_running_loop().time() + self.settings.send_lease
        bound = log.bind(
            message_id=email.message_id,
            template=email.template,
            email_event_id=str(email.event_id),
            attempt=email.attempts,
        )
        parent = tracing.extract({"traceparent": email.traceparent or ""})
        with tracing.span("send email", parent=parent, attributes=_span_attributes(email)):
            await self._deliver(email, leased_until, bound)

    async def _deliver(
        self, email: ClaimedEmail, leased_until: float, bound: structlog.stdlib.BoundLogger
    ) -> None:
        assert self._pool is not None
        try:
            if email.recipient is None or (email.suppressed and not email.exempt_from_suppression):
                await delivery.record_suppressed(self._pool, email, bound)
                metrics.email_outcome("suppressed")
                return
            if email.outcome_unknown:
                bound.warning("email_resent_after_unknown_outcome")
            sending = asyncio.create_task(self._send(email))
            try:
                kept = await self._hold_lease(email, sending, leased_until, bound)
            finally:
                if not sending.done():
                    sending.cancel()
                    await asyncio.wait({sending})
            if not kept:
                bound.warning("email_send_abandoned_lease_lost")
                return
            try:
                response = sending.result()
            except Exception as exc:
                metrics.email_outcome("failed")
                await delivery.record_failure(
                    self._pool, email, classify(exc), self.settings, bound
                )
                return
            metrics.email_outcome("sent")
            await delivery.record_sent(self._pool, email, response, bound)
        except Exception as exc:  # the database is away: the lease runs out, the email is resent
            bound.error("email_outcome_not_recorded", error=repr(exc))

    async def _send(self, email: ClaimedEmail) -> str:
        """Fetch the attachment, build the message and hand it to the relay (its answer)."""
        assert email.recipient is not None
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
        return await self.sender.send(message, email.recipient)

    async def _hold_lease(
        self,
        email: ClaimedEmail,
        sending: asyncio.Task[str],
        leased_until: float,
        bound: structlog.stdlib.BoundLogger,
    ) -> bool:
        """Renew the lease every third of it until ``sending`` ends; False if the lease is lost.

        Lost: the database said another claim (or an erasure) holds the row, or no renewal
        succeeded before the lease ran out (another replica may take the row from then on).
        A send that ended is always recorded: the lease token decides whether it counts.
        """
        assert self._pool is not None
        pool = self._pool
        loop = asyncio.get_running_loop()
        lease = self.settings.send_lease
        while True:
            remaining = leased_until - loop.time()
            if remaining > 0:
                await asyncio.wait({sending}, timeout=min(lease / 3, remaining))
            if sending.done():
                return True
            renewal_started = loop.time()
            if renewal_started >= leased_until:
                return False
            try:
                async with asyncio.timeout(leased_until - renewal_started):
                    renewed = await delivery.renew_lease(pool, email, lease)
            except Exception as exc:  # TimeoutError included: the deadline check decides
                bound.warning("email_lease_renewal_failed", error=repr(exc))
                continue
            if not renewed:
                return False
            leased_until = renewal_started + lease


def _span_attributes(email: ClaimedEmail) -> dict[str, str | int]:
    """The send's span: which email, which attempt (never the recipient: personal data)."""
    return {
        "jg.template": email.template,
        "jg.message_id": email.message_id,
        "jg.email_event_id": str(email.event_id),
        "jg.attempt": email.attempts,
    }
