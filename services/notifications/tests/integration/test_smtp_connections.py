"""SMTP connections kept between emails, against the real Mailpit: fewer connections, none lost.

The relay is the shared Mailpit, a Mailpit of the test's own (stopped and started again), or
the shared Mailpit behind a small TCP proxy in the test process that can hang up the way a
relay does: a 421 as the next command arrives (its idle timeout crossing our MAIL FROM), or the
connection lost after the end of DATA, before the relay's answer reaches us.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from jg_devstack import Endpoints
from jg_devstack.spare import SpareMailpit, spare_mailpit
from jg_events import Shipped
from jg_events.examples import example
from jg_messaging import Environment, PlatformSettings
from notifications.app import create_app
from notifications.mail import OutgoingEmail, SmtpSender, build_message, classify
from notifications.settings import NotificationsSettings
from structlog.testing import capture_logs

from .conftest import Mailpit, Notifications, for_customer, wrap

pytestmark = pytest.mark.integration


def settings(host: str, port: int, **overrides: object) -> NotificationsSettings:
    return NotificationsSettings(
        platform=PlatformSettings(environment=Environment.TEST),
        smtp_host=host,
        smtp_port=port,
        **overrides,  # type: ignore[arg-type]
    )


def message(recipient: str, s: NotificationsSettings) -> EmailMessage:
    event_id = uuid.uuid4()
    return build_message(
        OutgoingEmail(
            message_id=f"<{event_id}@japangoodz.test>",
            event_id=event_id,
            template="order_shipped",
            recipient=recipient,
            recipient_name="Camille Durand",
            subject="Votre commande JG-2026-000123 a été expédiée",
            text="Bonjour Camille,\nvotre colis est en route.\n",
            html="<p>Bonjour Camille,</p><p>votre colis est en route.</p>",
            date=datetime.now(UTC),
        ),
        sender=s.sender_address,
        reply_to=s.reply_to_address,
    )


def message_ids(messages: list[dict[str, object]]) -> list[object]:
    return [m["MessageID"] for m in messages]


# --- A Mailpit of the test's own --------------------------------------------------------------


@pytest.fixture
def own_mailpit(tmp_path: Path) -> Iterator[SpareMailpit]:
    with spare_mailpit(tmp_path / "mailpit.log") as spare:
        yield spare


# --- A proxy in front of the shared Mailpit that hangs up as relays do ------------------------


@dataclass
class Session:
    client: asyncio.StreamWriter
    relay: asyncio.StreamWriter
    hang_up_on_next_command: bool = False
    muted: bool = False  # the relay's answers no longer reach the client


@dataclass
class HangingUpRelay:
    """Forwards SMTP to Mailpit; ``connections`` counts the sessions it was asked for."""

    target: tuple[str, int]
    port: int = 0
    connections: int = 0
    cut_after_data: bool = False  # forward the end of DATA, then hang up before the answer
    sessions: list[Session] = field(default_factory=list)

    def hang_up_idle_sessions(self) -> None:
        """Each open session answers its next command with a 421 and closes."""
        for session in self.sessions:
            session.hang_up_on_next_command = True

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        relay_reader, relay_writer = await asyncio.open_connection(*self.target)
        session = Session(writer, relay_writer)
        self.sessions.append(session)
        answers = asyncio.create_task(self._answers(session, relay_reader))
        try:
            await self._commands(session, reader)
        except ConnectionError:
            pass
        finally:
            self.sessions.remove(session)
            answers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await answers
            relay_writer.close()
            writer.close()

    async def _commands(self, session: Session, reader: asyncio.StreamReader) -> None:
        tail = b""
        while chunk := await reader.read(65536):
            if session.hang_up_on_next_command:
                session.muted = True
                session.client.write(b"421 4.4.2 relay.test Error: timeout exceeded\r\n")
                await session.client.drain()
                return
            ends_data = b"\r\n.\r\n" in tail + chunk
            tail = (tail + chunk)[-4:]
            if ends_data and self.cut_after_data:
                session.muted = True  # the relay's 250 will not reach the client
                session.relay.write(chunk)
                await session.relay.drain()
                await asyncio.sleep(1.0)  # Mailpit accepts the message meanwhile
                return
            session.relay.write(chunk)
            await session.relay.drain()

    async def _answers(self, session: Session, relay_reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await relay_reader.read(65536):
                if session.muted:
                    continue
                session.client.write(chunk)
                await session.client.drain()
        session.client.close()  # the relay hung up: so does the proxy

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[HangingUpRelay]:
        server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        async with server:
            yield self


@pytest.fixture
async def proxy(stack: Endpoints) -> AsyncIterator[HangingUpRelay]:
    relay = HangingUpRelay((stack.mailpit_smtp_host, stack.mailpit_smtp_port))
    async with relay.serving():
        yield relay


# --- The tests --------------------------------------------------------------------------------


async def test_the_emails_of_a_busy_dispatcher_share_a_few_connections(
    notifications: Notifications, mailpit: Mailpit, recipient: str
) -> None:
    count = 12
    app = create_app(notifications.settings(dispatch_concurrency=4))
    async with notifications.running(app):
        await notifications.publish(
            *(
                wrap(for_customer(example(Shipped), recipient, order_id=uuid.uuid4()))
                for _ in range(count)
            )
        )
        messages = await mailpit.wait_for(recipient, count, settle=0.5)
        sender: SmtpSender = app.state.dispatcher.sender
        opened = sender.connections_opened
        assert sender.idle_connections >= 1  # kept for the next email
    assert len(messages) == count and len(set(message_ids(messages))) == count
    assert 1 <= opened <= 4  # at most one per send slot, instead of one per email
    assert sender.idle_connections == 0  # the stop closed them


async def test_no_connection_is_kept_when_the_idle_time_is_zero_or_over(
    stack: Endpoints, mailpit: Mailpit, recipient: str
) -> None:
    host, port = stack.mailpit_smtp_host, stack.mailpit_smtp_port
    once = SmtpSender(s := settings(host, port, smtp_idle_seconds=0))
    await once.send(message(recipient, s), recipient)
    await once.send(message(recipient, s), recipient)
    assert (once.connections_opened, once.idle_connections) == (2, 0)

    briefly = SmtpSender(s := settings(host, port, smtp_idle_seconds=0.3))
    await briefly.send(message(recipient, s), recipient)
    assert briefly.idle_connections == 1
    await asyncio.sleep(0.6)
    assert briefly.idle_connections == 0  # idle too long: closed
    await briefly.send(message(recipient, s), recipient)
    assert briefly.connections_opened == 2
    await briefly.aclose()
    assert len(await mailpit.wait_for(recipient, 4, settle=0.5)) == 4


async def test_a_connection_says_quit_after_its_quota_of_emails(
    proxy: HangingUpRelay, mailpit: Mailpit, recipient: str
) -> None:
    """Relays cap the messages of a connection (often at 100): the sender stops short of it."""
    sender = SmtpSender(s := settings("127.0.0.1", proxy.port, smtp_messages_per_connection=2))
    for _ in range(5):
        await sender.send(message(recipient, s), recipient)
    # 2 + 2 + 1 emails: three connections, the third still open for the next email
    assert (sender.connections_opened, proxy.connections) == (3, 3)
    assert sender.idle_connections == 1
    await sender.aclose()
    assert len(await mailpit.wait_for(recipient, 5, settle=0.5)) == 5


async def test_a_connection_the_relay_closed_is_replaced_and_no_email_is_lost_or_doubled(
    own_mailpit: SpareMailpit, recipient: str
) -> None:
    s = settings("127.0.0.1", own_mailpit.smtp_port)
    sender = SmtpSender(s)
    first, second = message(recipient, s), message(recipient, s)
    await sender.send(first, recipient)
    assert (sender.connections_opened, sender.idle_connections) == (1, 1)

    own_mailpit.stop()  # the relay restarts: the idle connection is gone
    own_mailpit.start()
    await sender.send(second, recipient)
    assert sender.connections_opened == 2
    await sender.aclose()

    messages = await Mailpit(own_mailpit.api_url).wait_for(recipient, 2, settle=0.5)
    assert sorted(message_ids(messages)) == sorted(
        [str(first["Message-ID"]).strip("<>"), str(second["Message-ID"]).strip("<>")]
    )


async def test_a_421_on_a_reused_connection_sends_the_email_at_once_on_a_fresh_one(
    proxy: HangingUpRelay, mailpit: Mailpit, recipient: str
) -> None:
    s = settings("127.0.0.1", proxy.port)
    sender = SmtpSender(s)
    first, second = message(recipient, s), message(recipient, s)
    await sender.send(first, recipient)
    assert sender.idle_connections == 1

    proxy.hang_up_idle_sessions()  # its idle timeout fires as our MAIL FROM arrives
    with capture_logs() as logs:
        await sender.send(second, recipient)  # no error: nothing was handed over, sent again
    (replaced,) = [e for e in logs if e["event"] == "smtp_reused_connection_failed"]
    assert replaced["code"] == 421  # the kind and code are logged, never the recipient
    assert recipient not in str(replaced)
    assert (sender.connections_opened, proxy.connections) == (2, 2)
    await sender.aclose()

    messages = await mailpit.wait_for(recipient, 2, settle=0.5)
    assert len(messages) == 2
    assert len(set(message_ids(messages))) == 2


async def test_an_error_after_the_data_is_never_retried_on_another_connection(
    proxy: HangingUpRelay, mailpit: Mailpit, recipient: str
) -> None:
    s = settings("127.0.0.1", proxy.port)
    sender = SmtpSender(s)
    await sender.send(message(recipient, s), recipient)
    assert sender.idle_connections == 1

    proxy.cut_after_data = True  # the relay takes the message, its 250 never reaches us
    lost_answer = message(recipient, s)
    with pytest.raises(aiosmtplib.SMTPException) as raised:
        await sender.send(lost_answer, recipient)
    failure = classify(raised.value)
    assert failure.outage and not failure.permanent  # as with a connection of its own
    assert (sender.connections_opened, proxy.connections) == (1, 1)  # no second attempt
    assert sender.idle_connections == 0  # the failed connection was discarded
    await sender.aclose()

    messages = await mailpit.wait_for(recipient, 2, settle=1.5)
    assert len(messages) == 2  # the earlier email and this one, once
    assert message_ids(messages).count(str(lost_answer["Message-ID"]).strip("<>")) == 1
