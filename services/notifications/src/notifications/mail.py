"""Building the MIME message and sending it over SMTP (aiosmtplib); what a failure means.

Failure classes, decided by :func:`classify`:

- **permanent** (recorded, never retried): the relay refused *this* message for good, i.e. a
  5xx answer to RCPT (unknown or invalid recipient) or to DATA (message rejected);
- **outage** (retried with backoff, without end: an outage only delays): nothing could be
  handed over: connection refused or lost, timeouts, any answer to the greeting, HELO, AUTH,
  MAIL FROM or STARTTLS (4xx, and 5xx too, as they are about the relay or our configuration
  rather than this message, so retrying after the fix must deliver the email instead of
  losing it), the invoice PDF not reachable on payment's API;
- **deferred** (retried with backoff, given up after ``give_up_after``, days): the relay
  answered about this message with a 4xx to RCPT or DATA (but 421, the relay closing: an
  outage), and anything unexpected.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from uuid import UUID

import aiosmtplib
from jg_messaging import tracing

from notifications.metrics import SMTP_DURATION
from notifications.rendering import one_line
from notifications.settings import NotificationsSettings

__all__ = ["Failure", "OutgoingEmail", "SmtpSender", "build_message", "classify"]


@dataclass(frozen=True)
class OutgoingEmail:
    """Everything a message is built from; the same data gives the same headers and parts."""

    message_id: str
    event_id: UUID
    template: str
    recipient: str
    recipient_name: str | None
    subject: str
    text: str
    html: str
    date: datetime
    attachment: bytes | None = None
    attachment_filename: str | None = None
    attachment_type: str = "application/pdf"


def _address(addr: str, name: str | None = None) -> Address:
    local, _, domain = addr.strip().rpartition("@")
    return Address(display_name=one_line(name or ""), username=local, domain=domain)


def build_message(email: OutgoingEmail, *, sender: Address, reply_to: Address) -> EmailMessage:
    """A multipart/alternative (text, HTML) message, in multipart/mixed with the attachment."""
    message = EmailMessage()
    message["Subject"] = one_line(email.subject)
    message["From"] = sender
    message["To"] = _address(email.recipient, email.recipient_name)
    message["Reply-To"] = reply_to
    message["Date"] = format_datetime(email.date)
    message["Message-ID"] = email.message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message["X-Auto-Response-Suppress"] = "All"
    message["X-JapanGoodz-Template"] = email.template
    message["X-JapanGoodz-Event-ID"] = str(email.event_id)
    message.set_content(email.text, subtype="plain", charset="utf-8")
    message.add_alternative(email.html, subtype="html", charset="utf-8")
    if email.attachment is not None:
        maintype, _, subtype = email.attachment_type.partition("/")
        message.add_attachment(
            email.attachment,
            maintype=maintype,
            subtype=subtype,
            filename=email.attachment_filename or "document.pdf",
        )
    return message


@dataclass(frozen=True)
class Failure:
    permanent: bool
    reason: str
    outage: bool = False  # nothing could be handed over: the email waits, never given up


class InvoiceUnavailableError(Exception):
    """The invoice PDF could not be fetched from payment (retried like an SMTP outage)."""


_CLOSING = 421  # "service not available, closing transmission channel": the relay, not us


def classify(exc: BaseException) -> Failure:
    """Is ``exc`` worth retrying? (See the module docstring.)"""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        closing = bool(codes) and all(code == _CLOSING for code in codes)
        return Failure(permanent, f"recipient refused: {detail}", outage=closing)
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        kind = "recipient refused" if isinstance(exc, aiosmtplib.SMTPRecipientRefused) else "data"
        return Failure(
            500 <= exc.code < 600, f"{kind}: {exc.code} {exc.message}", outage=exc.code == _CLOSING
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return Failure(False, f"{type(exc).__name__}: {exc.code} {exc.message}", outage=True)
    if isinstance(exc, InvoiceUnavailableError):
        return Failure(False, f"invoice unavailable: {exc}", outage=True)
    if isinstance(exc, TimeoutError | ConnectionError | OSError | aiosmtplib.SMTPException):
        return Failure(False, f"{type(exc).__name__}: {exc}", outage=True)
    return Failure(False, f"unexpected {type(exc).__name__}: {exc}")


class SmtpSender:
    """Sends one message per connection to the configured relay."""

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage, recipient: str) -> str:
        """The relay's answer to the message; raises what :func:`classify` sorts out.

        Cancelled (the dispatcher lost the lease, or stops), the connection is dropped at once
        instead of waiting for the relay's answer and saying QUIT: a relay that has not
        answered the message yet discards it, so the replica that holds the row now is the
        only one to deliver it.
        """
        with tracing.span(
            "smtp send",
            kind=tracing.CLIENT,
            attributes={"server.address": self.settings.smtp_host},
        ):
            return await self._send(message, recipient)

    async def _send(self, message: EmailMessage, recipient: str) -> str:
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            use_tls=s.smtp_use_tls,
            start_tls=s.smtp_start_tls,
            timeout=s.smtp_timeout,
        )
        started = time.perf_counter()
        try:
            await client.connect()
            errors, response = await client.send_message(
                message, sender=s.sender_address.addr_spec, recipients=[recipient]
            )
        except asyncio.CancelledError:
            client.close()
            raise
        except BaseException:
            SMTP_DURATION.observe(time.perf_counter() - started)
            await _quit(client)
            raise
        SMTP_DURATION.observe(time.perf_counter() - started)
        await _quit(client)
        if errors:  # pragma: no cover - one recipient: a refusal raises instead
            raise aiosmtplib.SMTPRecipientsRefused(
                [
                    aiosmtplib.SMTPRecipientRefused(r.code, r.message, addr)
                    for addr, r in errors.items()
                ]
            )
        return response


async def _quit(client: aiosmtplib.SMTP) -> None:
    """Say goodbye if the connection is still up; close it in any case."""
    try:
        if client.is_connected:
            await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        pass
    finally:
        client.close()
