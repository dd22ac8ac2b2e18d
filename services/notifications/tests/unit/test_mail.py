"""The MIME message and the SMTP failure classes (no services)."""

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.headerregistry import Address
from uuid import uuid4

import aiosmtplib
import pytest
from notifications.mail import (
    InvoiceUnavailableError,
    OutgoingEmail,
    build_message,
    classify,
)

pytestmark = pytest.mark.unit

SENDER = Address("JapanGoodz", "contact", "japangoodz.com")


def outgoing(**changes: object) -> OutgoingEmail:
    values: dict[str, object] = {
        "message_id": "<abc@japangoodz.com>",
        "event_id": uuid4(),
        "template": "order_shipped",
        "recipient": "camille.durand@example.fr",
        "recipient_name": "Camille Durand",
        "subject": "Votre commande n°\u00a0JG-1 a été expédiée",
        "text": "Bonjour Camille,\n",
        "html": "<p>Bonjour Camille,</p>",
        "date": datetime(2026, 3, 10, 6, 30, tzinfo=UTC),
    }
    values.update(changes)
    return OutgoingEmail(**values)  # type: ignore[arg-type]


def test_a_message_has_both_parts_the_stable_headers_and_the_shops_reply_address() -> None:
    message = build_message(outgoing(), sender=SENDER, reply_to=SENDER)
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == "<abc@japangoodz.com>"
    assert parsed["From"] == "JapanGoodz <contact@japangoodz.com>"
    assert parsed["Reply-To"] == "JapanGoodz <contact@japangoodz.com>"
    assert parsed["To"] == "Camille Durand <camille.durand@example.fr>"
    assert parsed["Subject"] == "Votre commande n°\u00a0JG-1 a été expédiée"
    assert parsed["Date"] == "Tue, 10 Mar 2026 06:30:00 +0000"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content() == "Bonjour Camille,\n"
    assert "<p>Bonjour Camille,</p>" in parsed.get_body(("html",)).get_content()
    again = build_message(outgoing(), sender=SENDER, reply_to=SENDER)
    assert again["Message-ID"] == message["Message-ID"] and again["Date"] == message["Date"]


def test_the_invoice_pdf_is_attached_beside_the_two_parts() -> None:
    pdf = b"%PDF-1.4 test"
    message = build_message(
        outgoing(attachment=pdf, attachment_filename="facture-F-1.pdf"),
        sender=SENDER,
        reply_to=SENDER,
    )
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    (attachment,) = list(parsed.iter_attachments())
    assert attachment.get_filename() == "facture-F-1.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == pdf
    assert parsed.get_body(("plain",)) is not None and parsed.get_body(("html",)) is not None


def test_a_name_with_line_breaks_cannot_inject_headers() -> None:
    message = build_message(
        outgoing(recipient_name="Eve\r\nBcc: victim@example.org"), sender=SENDER, reply_to=SENDER
    )
    raw = message.as_bytes()
    assert b"\nBcc:" not in raw


@pytest.mark.parametrize(
    ("exc", "permanent", "outage"),
    [
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(550, "5.1.1 no such user", "x@y.fr")]
            ),
            True,
            False,
        ),
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(450, "4.2.1 mailbox busy", "x@y.fr")]
            ),
            False,
            False,
        ),
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(421, "4.3.2 shutting down", "x@y.fr")]
            ),
            False,
            True,
        ),
        (aiosmtplib.SMTPRecipientRefused(553, "bad address", "x@y.fr"), True, False),
        (aiosmtplib.SMTPDataError(554, "5.7.1 message rejected"), True, False),
        (aiosmtplib.SMTPDataError(451, "4.3.0 try later"), False, False),
        (aiosmtplib.SMTPDataError(421, "4.4.2 timeout, closing"), False, True),
        (
            aiosmtplib.SMTPSenderRefused(550, "sender not allowed", "contact@japangoodz.com"),
            False,
            True,
        ),
        (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), False, True),
        (aiosmtplib.SMTPHeloError(421, "too busy"), False, True),
        (aiosmtplib.SMTPConnectError("Error connecting to 127.0.0.1 on port 1"), False, True),
        (aiosmtplib.SMTPServerDisconnected("lost"), False, True),
        (aiosmtplib.SMTPReadTimeoutError("timeout"), False, True),
        (ConnectionRefusedError(111, "Connection refused"), False, True),
        (TimeoutError(), False, True),
        (InvoiceUnavailableError("GET /invoices/F-1.pdf: HTTP 503"), False, True),
        (UnicodeEncodeError("ascii", "é", 0, 1, "unexpected"), False, False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_only_a_refusal_of_this_message_is_permanent_and_an_outage_is_never_final(
    exc: Exception, permanent: bool, outage: bool
) -> None:
    failure = classify(exc)
    assert failure.permanent is permanent
    assert failure.outage is outage  # an outage is retried without end: it only delays
    assert failure.reason


def test_the_kept_headers_write_the_very_bytes_the_standard_policy_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Headers parsed once and kept (mail._POLICY) change nothing a customer receives."""
    import random
    from email import policy as policies

    from aiosmtplib.email import flatten_message
    from notifications import mail

    emails = [
        outgoing(),
        outgoing(recipient_name="Élise Lefèvre-Dubois", subject="Remboursement n° 2 effectué"),
        outgoing(attachment=b"%PDF-1.4 test" * 300, attachment_filename="facture-F-1.pdf"),
        outgoing(template="invoice_issued", text="Ligne très longue " * 40, html="<p>é</p>" * 80),
        outgoing(),  # the same again: every kept header is reused
    ]
    other = Address("Boutique Kumo", "service", "kumo.example")

    def written() -> list[bytes]:
        random.seed(7)  # the same MIME boundaries for both policies
        return [
            flatten_message(build_message(e, sender=s, reply_to=SENDER), cte_type=cte)
            + build_message(e, sender=s, reply_to=SENDER).as_bytes()
            for e in emails
            for s in (SENDER, other)
            for cte in ("8bit", "7bit")  # a relay without 8BITMIME: a policy clone per message
        ]

    kept = written()
    monkeypatch.setattr(mail, "_POLICY", policies.default)
    assert written() == kept
