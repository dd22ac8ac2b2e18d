"""Several replicas on one database, a slow relay: each email is sent by one replica, once.

The relay is a real SMTP server in the test process that answers the end of DATA only after a
delay longer than the lease; the database is the real PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage

import asyncpg
import pytest
import structlog
from jg_messaging import migrate
from notifications import repository
from notifications.app import MIGRATIONS
from notifications.dispatcher import Dispatcher
from notifications.mail import SmtpSender
from notifications.repository import NewEmail
from notifications.settings import NotificationsSettings
from structlog.testing import capture_logs

from .conftest import InvoiceServer, Notifications

pytestmark = pytest.mark.integration


class SlowSmtpServer:
    """A real SMTP relay that answers the end of each message after ``delay`` seconds.

    ``accepted`` lists the Message-ID of every message it answered 250 to, in order.
    """

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.accepted: list[str] = []
        self.dropped = 0  # messages whose client left before the answer
        self.port = 0
        self.sessions = 0
        self.most_sessions_at_once = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.sessions += 1
        self.most_sessions_at_once = max(self.most_sessions_at_once, self.sessions)
        try:
            await self._converse(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.sessions -= 1
            writer.close()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def reply(line: bytes) -> None:
            writer.write(line + b"\r\n")
            await writer.drain()

        await reply(b"220 slow.test ESMTP")
        while line := await reader.readline():
            verb = line.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                await reply(b"250-slow.test\r\n250 8BITMIME")
            elif verb == "DATA":
                await reply(b"354 End data with <CR><LF>.<CR><LF>")
                data = bytearray()
                while (chunk := await reader.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                await asyncio.sleep(self.delay)  # the relay takes its time
                if reader.at_eof():  # the client gave up: no 250, nothing accepted
                    self.dropped += 1
                    return
                self.accepted.append(str(message_from_bytes(bytes(data))["Message-ID"]))
                await reply(b"250 2.0.0 Ok: queued")
            elif verb == "QUIT":
                await reply(b"221 Bye")
                return
            else:
                await reply(b"250 OK")

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[SlowSmtpServer]:
        server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        async with server:
            yield self


class CountingSender(SmtpSender):
    """The real SMTP sender, noting which replica sent what (to show both were at work)."""

    def __init__(self, settings: NotificationsSettings, sent: list[str]) -> None:
        super().__init__(settings)
        self.sent = sent

    async def send(self, message: EmailMessage, recipient: str) -> str:
        response = await super().send(message, recipient)
        self.sent.append(str(message["Message-ID"]))
        return response


def new_email(recipient: str, *, invoice: bool = False) -> NewEmail:
    event_id = uuid.uuid4()
    order_id = uuid.uuid4()
    return NewEmail(
        event_id=event_id,
        event_type="InvoiceIssued" if invoice else "Shipped",
        event_occurred_at=datetime.now(UTC),
        template="invoice_issued" if invoice else "order_shipped",
        message_id=f"<{event_id}@japangoodz.test>",
        correlation_id=f"test-{event_id}",
        ordering_key=f"order:{order_id}",  # one email per order: every one is due at once
        order_id=order_id,
        customer_id=None,
        recipient=recipient,
        recipient_name="Camille Durand",
        recipient_hash=f"hash-{recipient}",
        subject="Votre commande JG-2026-000123 a été expédiée",
        body_text="Bonjour Camille,\nvotre colis est en route.\n",
        body_html="<p>Bonjour Camille,</p><p>votre colis est en route.</p>",
        attachment_path=f"/invoices/F-{order_id}.pdf" if invoice else None,
        attachment_filename="facture-F-TEST.pdf" if invoice else None,
        attachment_type="application/pdf" if invoice else None,
        status="pending",
    )


async def prepared_database(notifications: Notifications, emails: list[NewEmail]) -> None:
    conn = await notifications.db()
    try:
        await migrate(conn, MIGRATIONS)
        for email in emails:
            assert await repository.insert_email(conn, email)
    finally:
        await conn.close()


async def test_two_replicas_and_a_relay_slower_than_the_lease_send_each_email_exactly_once(
    notifications: Notifications, invoice_server: InvoiceServer, recipient: str
) -> None:
    emails = [new_email(recipient, invoice=n % 4 == 0) for n in range(16)]
    await prepared_database(notifications, emails)
    # Lengths in seconds of a 2-second lease: renewals come every third of it, so a busy
    # machine (CI runs other services beside this test) does not lose a lease it renews.
    invoice_server.delay = 3.0  # payment is slow too: the lease covers the PDF's fetch
    relay = SlowSmtpServer(delay=5.0)  # answers after 2.5 lease lengths
    async with relay.serving():
        settings = notifications.settings(
            smtp_port=relay.port,
            send_lease=2.0,
            dispatch_batch_size=20,  # more than the slots: only what is sent at once is claimed
            dispatch_concurrency=4,
            dispatch_poll_interval=0.1,
        )
        sent_by: list[list[str]] = [[], []]
        replicas = [Dispatcher(settings, sender=CountingSender(settings, sent)) for sent in sent_by]
        pools = [
            await asyncpg.create_pool(
                settings.database_url.get_secret_value(), min_size=1, max_size=5
            )
            for _ in replicas
        ]
        with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            try:
                for replica, pool in zip(replicas, pools, strict=True):
                    replica.start(pool)
                rows = await notifications.wait_rows(
                    "SELECT status FROM notification_emails",
                    until=lambda rows: all(r["status"] == "sent" for r in rows),
                    timeout=60,
                )
            finally:
                for replica in replicas:
                    await replica.stop()
                for pool in pools:
                    await pool.close()

    assert [r["status"] for r in rows] == ["sent"] * len(emails)
    # every email reached the relay exactly once, each sent by one replica only
    assert Counter(relay.accepted) == Counter(e.message_id for e in emails)
    assert relay.dropped == 0
    assert sorted(sent_by[0] + sent_by[1]) == sorted(e.message_id for e in emails)
    assert sent_by[0] and sent_by[1]  # both replicas were at work
    assert relay.most_sessions_at_once <= 2 * settings.dispatch_concurrency
    rows = await notifications.rows(
        "SELECT attempts, unknown_outcome_resends, in_flight_since, lease_token"
        " FROM notification_emails"
    )
    assert {
        (r["attempts"], r["unknown_outcome_resends"], r["in_flight_since"], r["lease_token"])
        for r in rows
    } == {(1, 0, None, None)}  # claimed once each; no claim was ever taken over
    assert len(invoice_server.requests) == 4  # each PDF fetched once
    events = Counter(e["event"] for e in logs)
    assert events["email_sent"] == len(emails)
    for never in (
        "email_outcome_discarded_lease_lost",
        "email_send_abandoned_lease_lost",
        "email_resent_after_unknown_outcome",
        "email_lease_renewal_failed",
    ):
        assert events[never] == 0, never


async def test_an_outcome_under_a_lease_that_was_taken_over_changes_nothing(
    notifications: Notifications, recipient: str
) -> None:
    await prepared_database(notifications, [new_email(recipient)])
    conn = await notifications.db()
    try:
        (first,) = await repository.claim_due(conn, limit=10, lease=60)
        # its holder stalls past the lease; another replica claims the row
        await conn.execute("UPDATE notification_emails SET next_attempt_at = now()")
        (second,) = await repository.claim_due(conn, limit=10, lease=60)
        assert second.lease_token != first.lease_token and second.outcome_unknown
        before = await conn.fetchrow("SELECT * FROM notification_emails")

        stale = first.lease_token
        assert not await repository.renew_lease(conn, first.id, stale, 60)
        assert not await repository.mark_sent(conn, first.id, stale, "250 2.0.0 Ok")
        assert not await repository.mark_retry(conn, first.id, stale, "451 later", 5)
        assert not await repository.mark_failed(conn, first.id, stale, "permanent", "550 no")
        assert not await repository.mark_suppressed(conn, first.id, stale)
        assert await conn.fetchrow("SELECT * FROM notification_emails") == before

        # the current holder's outcome counts, and ends its lease
        assert await repository.renew_lease(conn, second.id, second.lease_token, 60)
        assert await repository.mark_sent(conn, second.id, second.lease_token, "250 2.0.0 Ok")
        row = await conn.fetchrow("SELECT * FROM notification_emails")
        assert (row["status"], row["smtp_response"], row["lease_token"]) == (
            "sent",
            "250 2.0.0 Ok",
            None,
        )
        assert not await repository.mark_retry(conn, second.id, second.lease_token, "late", 5)
        assert await conn.fetchval("SELECT status FROM notification_emails") == "sent"
    finally:
        await conn.close()


async def test_a_dispatcher_whose_lease_is_taken_over_abandons_the_send_and_records_nothing(
    notifications: Notifications, recipient: str
) -> None:
    email = new_email(recipient)
    await prepared_database(notifications, [email])
    relay = SlowSmtpServer(delay=3.0)
    async with relay.serving():
        settings = notifications.settings(
            smtp_port=relay.port, send_lease=1.0, dispatch_poll_interval=0.1
        )
        replica = Dispatcher(settings)
        pool = await asyncpg.create_pool(
            settings.database_url.get_secret_value(), min_size=1, max_size=3
        )
        with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            try:
                replica.start(pool)
                await notifications.wait_rows(
                    "SELECT 1 FROM notification_emails WHERE in_flight_since IS NOT NULL",
                    until=lambda rows: len(rows) == 1,
                )
                # another replica takes the row over (as if the lease had run out), for a while
                thief = uuid.uuid4()
                await notifications.rows(
                    "UPDATE notification_emails SET lease_token = $1,"
                    " next_attempt_at = now() + interval '1 hour'",
                    thief,
                )
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 10
                while not any(e["event"] == "email_send_abandoned_lease_lost" for e in logs):
                    assert loop.time() < deadline, [e["event"] for e in logs]
                    await asyncio.sleep(0.05)
                await asyncio.sleep(3.5)  # past the relay's answer, had the send gone on
            finally:
                await replica.stop()
                await pool.close()
    (row,) = await notifications.rows("SELECT * FROM notification_emails")
    assert (row["status"], row["lease_token"], row["attempts"]) == ("pending", thief, 1)
    assert row["body_text"] and row["last_error"] is None  # nothing recorded by the loser
    assert row["next_attempt_at"] > datetime.now(UTC) + timedelta(minutes=50)
    assert relay.accepted == []  # the send was cut off before the relay's 250
    assert not any(e["event"] in ("email_sent", "email_retry_scheduled") for e in logs)
