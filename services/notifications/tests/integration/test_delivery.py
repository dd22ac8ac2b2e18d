"""Delivery guarantees against real SMTP servers: outages, crashes, refusals, erasure."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage

import pytest
from jg_events import (
    CustomerErased,
    CustomerErasureRequested,
    CustomerRegistered,
    Delivered,
    OrderConfirmed,
    PasswordResetRequested,
    Shipped,
)
from jg_events.examples import example
from notifications.dispatcher import Dispatcher
from notifications.mail import SmtpSender
from notifications.settings import NotificationsSettings

from .conftest import Mailpit, Notifications, closed_port, for_customer, wrap

pytestmark = pytest.mark.integration


async def test_an_smtp_outage_delays_the_emails_and_loses_none(
    notifications: Notifications, mailpit: Mailpit, recipient: str
) -> None:
    order_id = uuid.uuid4()
    confirmed = wrap(for_customer(example(OrderConfirmed), recipient, order_id=order_id))
    shipped = wrap(for_customer(example(Shipped), recipient, order_id=order_id))
    reset = wrap(for_customer(example(PasswordResetRequested), recipient, customer_id=uuid.uuid4()))
    async with notifications.running(smtp_port=closed_port()):  # the relay is down
        await notifications.publish(confirmed, shipped, reset)
        rows = await notifications.wait_rows(
            "SELECT template, attempts, last_error, status FROM notification_emails",
            until=lambda rows: len(rows) == 3 and sum(r["attempts"] for r in rows) >= 4,
        )
        assert {r["status"] for r in rows} == {"pending"}
        assert any("onnect" in (r["last_error"] or "") for r in rows), rows
        assert await mailpit.search(recipient) == []  # delayed, not sent

    async with notifications.running():  # the relay is back (and the service restarted)
        messages = await mailpit.wait_for(recipient, 3, settle=1.5)
    subjects = [m["Subject"] for m in messages]
    assert len(messages) == 3, subjects
    assert len({m["MessageID"] for m in messages}) == 3
    rows = await notifications.rows("SELECT status FROM notification_emails")
    assert [r["status"] for r in rows] == ["sent"] * 3
    # the confirmation was still handed to the relay before the shipping notice of the same
    # order (the relay's own receipt times may tie or be stored out of order under load)
    sent = await notifications.rows(
        "SELECT template FROM notification_emails WHERE ordering_key = $1 ORDER BY sent_at",
        f"order:{order_id}",
    )
    assert [r["template"] for r in sent] == ["order_confirmed", "order_shipped"]


class CrashAfterSending(SmtpSender):
    """The relay accepts the message, then the process dies before recording it.

    Dying stops the whole dispatcher at once (its loop, its lease renewals): nothing after
    the relay's 250 runs.
    """

    def __init__(self, settings: NotificationsSettings, dispatcher: Dispatcher) -> None:
        super().__init__(settings)
        self.dispatcher = dispatcher

    async def send(self, message: EmailMessage, recipient: str) -> str:
        await super().send(message, recipient)
        assert self.dispatcher._task is not None
        self.dispatcher._task.cancel()
        raise asyncio.CancelledError("simulated crash right after the relay's 250 OK")


async def test_a_crash_after_sending_resends_once_with_the_same_message_id(
    notifications: Notifications, mailpit: Mailpit, recipient: str
) -> None:
    from notifications.app import create_app

    shipped = wrap(for_customer(example(Shipped), recipient, order_id=uuid.uuid4()))
    settings = notifications.settings(send_lease=1.0)
    app = create_app(settings)
    app.state.dispatcher.sender = CrashAfterSending(settings, app.state.dispatcher)
    async with notifications.running(app):
        await notifications.publish(shipped)
        (first,) = await mailpit.wait_for(recipient, 1)
    (row,) = await notifications.rows("SELECT status, in_flight_since FROM notification_emails")
    assert row["status"] == "pending" and row["in_flight_since"] is not None  # outcome unknown

    async with notifications.running(send_lease=1.0):
        messages = await mailpit.wait_for(recipient, 2, timeout=30, settle=1.5)
    assert len(messages) == 2
    assert {m["MessageID"] for m in messages} == {first["MessageID"]}  # detectable duplicate
    (row,) = await notifications.rows(
        "SELECT status, unknown_outcome_resends, attempts FROM notification_emails"
    )
    assert row["status"] == "sent"
    assert row["unknown_outcome_resends"] == 1 and row["attempts"] == 2


class RefusingSmtpServer:
    """A real SMTP server that refuses every recipient with a 5xx (like an unknown mailbox)."""

    def __init__(self) -> None:
        self.recipients: list[str] = []
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 refuser.test ESMTP\r\n")
        await writer.drain()
        while line := await reader.readline():
            command = line.decode("ascii", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                writer.write(b"250-refuser.test\r\n250 8BITMIME\r\n")
            elif verb == "RCPT":
                self.recipients.append(command.split(":", 1)[1].strip(" <>"))
                writer.write(b"550 5.1.1 No such user here\r\n")
            elif verb == "QUIT":
                writer.write(b"221 Bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 OK\r\n")
            await writer.drain()
        writer.close()

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[RefusingSmtpServer]:
        server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        async with server:
            yield self


async def test_a_permanent_refusal_or_an_invalid_address_is_recorded_and_never_retried(
    notifications: Notifications, recipient: str
) -> None:
    refused = wrap(for_customer(example(Shipped), recipient, order_id=uuid.uuid4()))
    invalid = wrap(for_customer(example(Shipped), "camille@localhost", order_id=uuid.uuid4()))
    async with (
        RefusingSmtpServer().serving() as smtp,
        notifications.running(smtp_port=smtp.port),
    ):
        await notifications.publish(refused, invalid)
        rows = await notifications.wait_rows(
            "SELECT recipient, status, failure_kind, last_error, attempts"
            " FROM notification_emails ORDER BY recipient",
            until=lambda rows: len(rows) == 2 and all(r["status"] == "failed" for r in rows),
        )
        await asyncio.sleep(1.5)  # retries would happen within 0.2 to 1 s
        assert smtp.recipients == [recipient]  # one try; the invalid address was never sent
    by_recipient = {r["recipient"]: r for r in rows}
    assert by_recipient[recipient]["failure_kind"] == "permanent"
    assert "550" in by_recipient[recipient]["last_error"]
    assert by_recipient[recipient]["attempts"] == 1
    assert by_recipient["camille@localhost"]["failure_kind"] == "invalid_address"
    assert by_recipient["camille@localhost"]["attempts"] == 0


async def test_after_an_erasure_request_nothing_is_sent_but_the_acknowledgement_and_the_end(
    notifications: Notifications, mailpit: Mailpit, recipient: str
) -> None:
    """The customer proved they own the address: the address itself is suppressed."""
    customer_id = uuid.uuid4()
    order_id = uuid.uuid4()

    def customer_order(event: object) -> object:
        data = for_customer(event, recipient, order_id=order_id)  # type: ignore[arg-type]
        return type(data).model_validate(
            {
                **data.model_dump(),
                "customer": {**data.customer.model_dump(), "customer_id": customer_id},
            }
        )

    account = {"customer_id": customer_id}
    async with notifications.running():
        await notifications.publish(wrap(customer_order(example(Shipped))))  # type: ignore[arg-type]
        await mailpit.wait_for(recipient, 1)
        request = for_customer(
            example(CustomerErasureRequested), recipient, **account, email_verified=True
        )
        await notifications.publish(wrap(request))
        await mailpit.wait_for(recipient, 2)
        await notifications.publish(
            wrap(customer_order(example(Delivered))),  # type: ignore[arg-type]
            wrap(for_customer(example(PasswordResetRequested), recipient, **account)),
            wrap(for_customer(example(CustomerErased), recipient, **account)),
        )
        messages = await mailpit.wait_for(recipient, 3, settle=1.5)
        rows = await notifications.wait_rows(
            "SELECT template, status FROM notification_emails ORDER BY template",
            until=lambda rows: len(rows) == 5,
        )
    subjects = [m["Subject"] for m in messages]
    assert len(messages) == 3, subjects
    assert "expédiée" in subjects[0]
    assert "demande de suppression" in subjects[1]
    assert "a été supprimé" in subjects[2]
    assert {r["template"]: r["status"] for r in rows} == {
        "order_shipped": "sent",
        "erasure_requested": "sent",
        "order_delivered": "suppressed",
        "password_reset": "suppressed",
        "erasure_done": "sent",
    }
    # the address is forgotten: not in the log, only a keyed hash in the suppression list
    dump = await notifications.rows(
        "SELECT row_to_json(e)::text AS row FROM notification_emails e"
        " UNION ALL SELECT row_to_json(s)::text FROM notification_suppressions s"
    )
    assert dump and not any(recipient in r["row"] or "Camille" in r["row"] for r in dump)

    # a new account with the same address is a new relationship: its emails go out again
    async with notifications.running():
        await notifications.publish(
            wrap(for_customer(example(CustomerRegistered), recipient, customer_id=uuid.uuid4()))
        )
        messages = await mailpit.wait_for(recipient, 4)
    assert "Bienvenue" in messages[-1]["Subject"]


async def test_an_erasure_of_an_unproven_address_leaves_the_strangers_mail_alone(
    notifications: Notifications, mailpit: Mailpit, recipient: str
) -> None:
    """Anyone may sign up with a stranger's address and ask for the account's erasure: the
    account's emails are forgotten and it gets no more, but the address is not suppressed and
    the emails of the guest orders placed with it are neither forgotten nor stopped."""
    customer_id = uuid.uuid4()
    account_order, guest_order = uuid.uuid4(), uuid.uuid4()

    def about(event: object, order_id: uuid.UUID, customer: uuid.UUID | None) -> object:
        data = for_customer(event, recipient, order_id=order_id)  # type: ignore[arg-type]
        return type(data).model_validate(
            {
                **data.model_dump(),
                "customer": {**data.customer.model_dump(), "customer_id": customer},
            }
        )

    async with notifications.running():
        await notifications.publish(
            wrap(about(example(Shipped), account_order, customer_id)),  # type: ignore[arg-type]
            wrap(about(example(Shipped), guest_order, None)),  # type: ignore[arg-type]
        )
        await mailpit.wait_for(recipient, 2)
        await notifications.publish(
            wrap(
                for_customer(example(CustomerErasureRequested), recipient, customer_id=customer_id)
            )
        )
        await mailpit.wait_for(recipient, 3)  # the acknowledgement
        await notifications.publish(
            wrap(about(example(Delivered), account_order, customer_id)),  # type: ignore[arg-type]
            wrap(about(example(Delivered), guest_order, None)),  # type: ignore[arg-type]
            wrap(for_customer(example(CustomerErased), recipient, customer_id=customer_id)),
        )
        messages = await mailpit.wait_for(recipient, 5, settle=1.5)
        rows = await notifications.wait_rows(
            "SELECT order_id, template, status, recipient, subject FROM notification_emails",
            until=lambda rows: len(rows) == 6,
        )
    subjects = [m["Subject"] for m in messages]
    assert len(messages) == 5, subjects  # 2 shipped, the acknowledgement, 1 delivered, the end
    by_order = {(r["order_id"], r["template"]): r for r in rows}
    mine = by_order[(account_order, "order_shipped")]
    assert (mine["status"], mine["recipient"], mine["subject"]) == ("sent", None, None)
    assert by_order[(account_order, "order_delivered")]["status"] == "suppressed"
    for template in ("order_shipped", "order_delivered"):
        theirs = by_order[(guest_order, template)]
        assert (theirs["status"], theirs["recipient"]) == ("sent", recipient), theirs
    assert await notifications.rows("SELECT * FROM notification_suppressions") == []
