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
import email.policy
import time
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime
from typing import Any
from uuid import UUID

import aiosmtplib
import structlog
from jg_messaging import tracing

from notifications.metrics import SMTP_CONNECTIONS, SMTP_DURATION
from notifications.rendering import one_line
from notifications.settings import NotificationsSettings

__all__ = ["Failure", "OutgoingEmail", "SmtpSender", "build_message", "classify"]

log = structlog.get_logger(__name__)


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


class _Header(BaseHeader):
    """A header that folds once per policy: the same object gives the same lines (memoised)."""

    def fold(self, *, policy: Policy) -> str:
        folds: dict[int, tuple[Policy, str]] = self.__dict__.setdefault("_jg_folds", {})
        known = folds.get(id(policy))
        if known is not None and known[0] is policy:
            return known[1]
        folded: str = super().fold(policy=policy)
        if len(folds) >= 4:  # a policy cloned per message (a 7-bit relay): no growth
            folds.clear()
        folds[id(policy)] = (policy, folded)
        return folded


class _HeaderFactory(HeaderRegistry):
    """The standard header registry, its header classes made once instead of once per header.

    The headers that repeat from one email to the next (sender, Reply-To, the fixed ones, the
    parts' Content-Type and Content-Transfer-Encoding, the template) are parsed once and kept:
    a header object is immutable, and it folds as a new one would. What is written is exactly
    what the standard registry writes.
    """

    _KEPT = frozenset(
        {
            "from",
            "reply-to",
            "auto-submitted",
            "x-auto-response-suppress",
            "x-japangoodz-template",
            "content-type",
            "content-transfer-encoding",
            "mime-version",
        }
    )

    def __init__(self) -> None:
        super().__init__(base_class=_Header)
        self._classes: dict[str, type[BaseHeader]] = {}
        self._kept: dict[tuple[str, object], BaseHeader] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if name.lower() not in self._KEPT:
            return self[name](name, value)
        if isinstance(value, Address):
            key: object = (type(value), value.display_name, value.username, value.domain)
        elif isinstance(value, str):
            key = value
        else:  # pragma: no cover - our headers are strings and addresses
            return self[name](name, value)
        header = self._kept.get((name, key))
        if header is None:
            if len(self._kept) >= 512:  # a few dozen in practice (boundaries vary: bounded)
                self._kept.clear()
            header = self._kept[(name, key)] = self[name](name, value)
        return header


# email.policy.default, with the header factory above (same output, less parsing)
_POLICY = email.policy.default.clone(header_factory=_HeaderFactory())


def build_message(email: OutgoingEmail, *, sender: Address, reply_to: Address) -> EmailMessage:
    """A multipart/alternative (text, HTML) message, in multipart/mixed with the attachment."""
    message = EmailMessage(policy=_POLICY)
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


class _Connection(aiosmtplib.SMTP):
    """An SMTP client that notes when a message's DATA started: nothing is handed over before."""

    data_started = False
    delivered = 0  # messages the relay accepted on this connection

    async def data(self, *args: Any, **kwargs: Any) -> aiosmtplib.SMTPResponse:
        self.data_started = True
        return await super().data(*args, **kwargs)


@dataclass
class _Idle:
    client: _Connection
    expiry: asyncio.TimerHandle


class SmtpSender:
    """Sends messages to the configured relay over connections kept open between emails.

    A connection that delivered a message waits, idle, for the next one (at most
    ``dispatch_concurrency`` of them wait, the most recently used is taken first) and is closed
    (QUIT) once idle for ``smtp_idle_seconds`` (0: one connection per email), once it carried
    ``smtp_messages_per_connection`` messages (relays cap them; many at 100), or at
    :meth:`aclose`. Any error discards its connection. A failure on a reused connection before
    the DATA of the message started (the relay closed it while it was idle, a 421, a timeout)
    means nothing was handed over: the email is sent again at once on a fresh connection, and
    that attempt's outcome is what :func:`classify` judges, as if every email had a connection
    of its own. An error once the DATA started is never retried here: the relay may hold the
    message, the dispatcher decides as it always did.
    """

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings
        self._idle: list[_Idle] = []
        self._closing: set[asyncio.Task[None]] = set()
        self.connections_opened = 0  # since this sender was made (also a metric)

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

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

    async def aclose(self) -> None:
        """Close the idle connections (QUIT) and wait for the closings under way."""
        idle, self._idle = self._idle, []
        for waiting in idle:
            waiting.expiry.cancel()
            self._close_later(waiting.client)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def _send(self, message: EmailMessage, recipient: str) -> str:
        started = time.perf_counter()
        cancelled = False
        try:
            client = self._take_idle()
            if client is not None:
                try:
                    return await self._transact(client, message, recipient)
                except Exception as exc:
                    if client.data_started:
                        raise  # the relay may hold the message: never sent twice from here
                    # the failure's kind and code, never its text (a refusal names the recipient)
                    log.info(
                        "smtp_reused_connection_failed",
                        error_type=type(exc).__name__,
                        code=getattr(exc, "code", None),
                    )
            return await self._transact(self._connection(), message, recipient)
        except asyncio.CancelledError:
            cancelled = True
            raise
        finally:
            if not cancelled:
                SMTP_DURATION.observe(time.perf_counter() - started)

    def _connection(self) -> _Connection:
        s = self.settings
        return _Connection(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            use_tls=s.smtp_use_tls,
            start_tls=s.smtp_start_tls,
            timeout=s.smtp_timeout,
        )

    async def _transact(self, client: _Connection, message: EmailMessage, recipient: str) -> str:
        """One mail transaction on ``client`` (connected first if new); kept for the next."""
        try:
            if not client.is_connected:
                self.connections_opened += 1
                SMTP_CONNECTIONS.inc()
                await client.connect()
            errors, response = await client.send_message(
                message, sender=self.settings.sender_address.addr_spec, recipients=[recipient]
            )
            if errors:  # pragma: no cover - one recipient: a refusal raises instead
                raise aiosmtplib.SMTPRecipientsRefused(
                    [
                        aiosmtplib.SMTPRecipientRefused(r.code, r.message, addr)
                        for addr, r in errors.items()
                    ]
                )
        except asyncio.CancelledError:
            client.close()  # at once: no QUIT, no waiting for the relay's answer
            raise
        except BaseException:
            await _quit(client)
            raise
        client.delivered += 1
        self._release(client)
        return response

    def _take_idle(self) -> _Connection | None:
        while self._idle:
            waiting = self._idle.pop()
            waiting.expiry.cancel()
            if waiting.client.is_connected:
                waiting.client.data_started = False
                return waiting.client
            waiting.client.close()  # the relay hung up while it was idle
        return None

    def _release(self, client: _Connection) -> None:
        s = self.settings
        if (
            s.smtp_idle_seconds <= 0
            or client.delivered >= s.smtp_messages_per_connection
            or len(self._idle) >= s.dispatch_concurrency
            or not client.is_connected
        ):
            # in the background: the relay already accepted the message, so a slow QUIT must
            # neither hold the send nor turn a delivered email into a cancelled send
            self._close_later(client)
            return
        expiry = asyncio.get_running_loop().call_later(s.smtp_idle_seconds, self._expire, client)
        self._idle.append(_Idle(client, expiry))

    def _expire(self, client: _Connection) -> None:
        self._idle = [waiting for waiting in self._idle if waiting.client is not client]
        self._close_later(client)

    def _close_later(self, client: _Connection) -> None:
        task = asyncio.get_running_loop().create_task(_quit(client))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)


async def _quit(client: aiosmtplib.SMTP) -> None:
    """Say goodbye if the connection is still up; close it in any case."""
    try:
        if client.is_connected:
            await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        pass
    finally:
        client.close()
