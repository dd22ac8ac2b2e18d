"""Events in through the real Kafka, emails out through real SMTP, read back from Mailpit."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from html import unescape
from typing import Any

import httpx
import pytest
from jg_events import (
    Backordered,
    ClaimOpened,
    ClaimResolved,
    CustomerRegistered,
    Delivered,
    EmailChangeRequested,
    Envelope,
    InvoiceIssued,
    OrderCancelled,
    OrderConfirmed,
    OrderModified,
    OrderProcessing,
    PasswordResetRequested,
    PaymentCancellationReason,
    PaymentCancelled,
    PaymentRefused,
    RefundIssued,
    RefusalReason,
    ReturnAccepted,
    ReturnRejected,
    Shipped,
)
from jg_events.examples import example
from notifications.domain import Template, message_id

from .conftest import PDF, InvoiceServer, Mailpit, Notifications, for_customer, wrap

pytestmark = pytest.mark.integration

NBSP = "\u00a0"


def normalise(text: str) -> str:
    """Visible text of a part, with the HTML tags removed and entities decoded."""
    text = re.sub(r"<(style|title)>.*?</\1>", "", text, flags=re.S)
    text = re.sub(r"<br>|</(p|td|th|tr|li|div|h1|h2)>", "\n", text)
    return re.sub(r"[ \t]+", " ", unescape(re.sub(r"<[^>]+>", "", text)))


def mid(envelope: Envelope[Any], template: Template) -> str:
    return message_id(envelope.event_id, template, "japangoodz.com").strip("<>")


async def test_each_event_gives_exactly_one_email_with_its_facts_even_redelivered_or_restarted(
    notifications: Notifications,
    mailpit: Mailpit,
    recipient: str,
    invoice_server: InvoiceServer,
) -> None:
    order_id = uuid.uuid4()
    same_order = {"order_id": order_id}
    current_address = f"current.{recipient}"  # the account's address until the change is confirmed
    invoice_server.failures_left = 1  # payment answers 503 once: the invoice email waits
    journey: dict[Template, Envelope[Any]] = {
        Template.ORDER_CONFIRMED: wrap(
            for_customer(example(OrderConfirmed), recipient, **same_order)
        ),
        Template.ORDER_MODIFIED: wrap(
            for_customer(example(OrderModified), recipient, **same_order)
        ),
        Template.ORDER_PROCESSING: wrap(
            for_customer(example(OrderProcessing), recipient, **same_order)
        ),
        Template.ORDER_BACKORDERED: wrap(
            for_customer(example(Backordered), recipient, **same_order)
        ),
        Template.ORDER_SHIPPED: wrap(for_customer(example(Shipped), recipient, **same_order)),
        Template.INVOICE_ISSUED: wrap(
            for_customer(example(InvoiceIssued), recipient, **same_order)
        ),
        Template.ORDER_DELIVERED: wrap(for_customer(example(Delivered), recipient, **same_order)),
        Template.RETURN_ACCEPTED: wrap(
            for_customer(example(ReturnAccepted), recipient, **same_order)
        ),
        Template.RETURN_REJECTED: wrap(
            for_customer(example(ReturnRejected), recipient, **same_order)
        ),
        Template.REFUND_ISSUED: wrap(for_customer(example(RefundIssued), recipient, **same_order)),
        Template.CLAIM_OPENED: wrap(for_customer(example(ClaimOpened), recipient, **same_order)),
        Template.CLAIM_RESOLVED: wrap(
            for_customer(example(ClaimResolved), recipient, **same_order)
        ),
        Template.ORDER_CANCELLED: wrap(for_customer(example(OrderCancelled), recipient)),
        Template.PAYMENT_RELEASED: wrap(
            for_customer(
                example(PaymentCancelled),
                recipient,
                reason=PaymentCancellationReason.ORDER_CANCELLED,
            )
        ),
        Template.WELCOME: wrap(
            for_customer(example(CustomerRegistered), recipient, customer_id=uuid.uuid4())
        ),
        Template.PASSWORD_RESET: wrap(
            for_customer(example(PasswordResetRequested), recipient, customer_id=uuid.uuid4())
        ),
        Template.EMAIL_CHANGE_CONFIRMATION: wrap(
            for_customer(
                example(EmailChangeRequested),
                current_address,
                new_email=recipient,
                customer_id=uuid.uuid4(),
            )
        ),
    }
    superseded = wrap(
        for_customer(
            example(PaymentCancelled), recipient, reason=PaymentCancellationReason.SUPERSEDED
        )
    )
    async with notifications.running() as app:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://notifications"
        ) as http:
            assert (await http.get("/health")).json()["status"] == "ok"
            ready = await http.get("/ready")
            assert ready.status_code == 200, ready.text
        await notifications.publish(*journey.values(), superseded)
        messages = await mailpit.wait_for(recipient, len(journey), timeout=60, settle=1.0)

    by_id = {m["MessageID"]: m for m in messages}
    assert len(messages) == len(journey), sorted(m["Subject"] for m in messages)
    assert set(by_id) == {mid(env, t) for t, env in journey.items()}  # one each, none superseded

    # --- what the customer reads ---
    async def read(template: Template) -> tuple[dict[str, Any], str, str]:
        summary = by_id[mid(journey[template], template)]
        full = await mailpit.message(summary["ID"])
        return full, full["Text"], normalise(full["HTML"])

    full, text, html = await read(Template.ORDER_CONFIRMED)
    assert full["Subject"] == f"Confirmation de votre commande n°{NBSP}JG-2026-000123"
    assert full["From"]["Address"] == "contact@japangoodz.com"
    assert [r["Address"] for r in full["ReplyTo"]] == ["contact@japangoodz.com"]
    for part in (text, html):
        assert "Thé matcha de Kyoto, 100 g" in part and "Furoshiki motif sakura" in part
        assert f"19,99{NBSP}€" in part and f"14,90{NBSP}€" in part
        assert f"99,37{NBSP}€" in part and "Total TTC" in part and "dont TVA" in part
        assert f"8,44{NBSP}€" in part  # tea at 5.5 %, the furoshiki at 20 %
        assert f"TVA à 5,5{NBSP}% sur 70,93{NBSP}€ TTC (dont 10,96{NBSP}€ de frais" in part
        assert "12 rue des Lilas" in part and "Adresse de facturation" in part
        assert "Japan Post EMS" in part and "lundi 16 mars 2026" in part
        assert "Livraison au plus tard le lundi 23 mars 2026" in part
        assert "modifier ou annuler votre commande" in part
        assert "droit de rétractation" in part.lower() and "Rayez la mention inutile" in part
        assert "garantie légale de conformité" in part and "vices cachés" in part
        assert "Kumo Trading SARL" in part and "1 rue de l'Exemple, 75001 Paris" in part
        assert "CM2C" in part and "https://www.cm2c.net" in part
    assert "https://www.kumo.example/cgv" in text  # the terms, a link in the HTML part
    assert 'href="https://www.kumo.example/cgv"' in full["HTML"]

    full, text, html = await read(Template.ORDER_SHIPPED)
    for part in (text, html):
        assert "EN123456789JP" in part and "Japan Post (EMS)" in part
        assert f"«{NBSP}Suivre mon colis{NBSP}»" in part
    assert "trackings.post.japanpost.jp" in full["HTML"]

    full, text, html = await read(Template.INVOICE_ISSUED)
    assert "F-2026-000042" in full["Subject"]
    for part in (text, html):
        assert f"«{NBSP}Mes commandes et factures{NBSP}»" in part
    (attachment,) = full["Attachments"]
    assert attachment["FileName"] == "facture-F-2026-000042.pdf"
    assert attachment["ContentType"] == "application/pdf"
    assert await mailpit.part(full["ID"], attachment["PartID"]) == PDF
    assert ("/invoices/F-2026-000042.pdf", "Bearer test-internal-token") in invoice_server.requests
    assert len(invoice_server.requests) >= 2  # the 503 was retried

    full, text, html = await read(Template.PASSWORD_RESET)
    for part in (text, html):
        assert "nouveau-mot-de-passe?token=Zk3x9" in part
        assert "une seule fois" in part and "Spams" in part

    full, text, html = await read(Template.EMAIL_CHANGE_CONFIRMATION)
    assert [to["Address"] for to in full["To"]] == [recipient]  # the new address
    assert full["Subject"] == "Confirmez votre nouvelle adresse e-mail JapanGoodz"
    assert (
        'href="https://www.japangoodz.com/mon-compte/confirmation-email?token=Qa7w2"'
        in (full["HTML"])
    )
    for part in (text, html):
        assert "confirmation-email?token=Qa7w2" in part
        assert "une seule fois" in part and "heure de Paris" in part
        assert "ignorez simplement cet e-mail" in part
    assert await mailpit.search(current_address) == []  # warned only once the change is confirmed

    full, text, _ = await read(Template.ORDER_BACKORDERED)
    assert "réapprovisionnement" in full["Subject"] and "Furoshiki motif sakura" in text

    headers = await mailpit.headers(by_id[mid(journey[Template.WELCOME], Template.WELCOME)]["ID"])
    lowered = {name.lower(): values for name, values in headers.items()}
    assert lowered["x-japangoodz-template"] == ["welcome"]
    assert lowered["auto-submitted"] == ["auto-generated"]

    # --- redelivery and a restart send nothing more ---
    marker = wrap(
        for_customer(example(PasswordResetRequested), recipient, customer_id=uuid.uuid4())
    )
    async with notifications.running():
        await notifications.publish(*journey.values(), superseded, marker)
        after = await mailpit.wait_for(recipient, len(journey) + 1, timeout=60, settle=2.0)
    assert len(after) == len(journey) + 1
    assert {m["MessageID"] for m in after} - set(by_id) == {mid(marker, Template.PASSWORD_RESET)}
    rows = await notifications.rows(
        "SELECT status, count(*) AS n FROM notification_emails GROUP BY 1"
    )
    assert {r["status"]: r["n"] for r in rows} == {"sent": len(journey) + 1}


async def test_a_refused_payment_never_produces_a_confirmation(
    notifications: Notifications, mailpit: Mailpit, recipient: str
) -> None:
    order_id = uuid.uuid4()
    refused = wrap(
        for_customer(
            example(PaymentRefused),
            recipient,
            order_id=order_id,
            reason=RefusalReason.AUTHENTICATION_FAILED,
        )
    )
    async with notifications.running():
        await notifications.publish(refused)
        (refusal,) = await mailpit.wait_for(recipient, 1)
        # Even a confirmation arriving after the refusal (it must not exist) is withheld; the
        # cancellation after it on the same partition shows the consumer went past it.
        confirmed = wrap(for_customer(example(OrderConfirmed), recipient, order_id=order_id))
        marker = wrap(for_customer(example(OrderCancelled), recipient, order_id=order_id))
        await notifications.publish(confirmed, marker)
        messages = await mailpit.wait_for(recipient, 2, settle=1.0)
    subjects = [m["Subject"] for m in messages]
    assert len(messages) == 2, subjects
    assert not any("Confirmation" in s for s in subjects)
    full = await mailpit.message(refusal["ID"])
    assert "paiement" in full["Subject"]
    for part in (full["Text"], normalise(full["HTML"])):
        assert "l'authentification du paiement (3-D Secure) n'a pas abouti" in part
        assert "Si un débit apparaît malgré tout sur votre relevé" in part
        assert "réessayer" in part.lower()
    rows = await notifications.rows(
        "SELECT template FROM notification_emails WHERE order_id = $1 ORDER BY id", order_id
    )
    assert [r["template"] for r in rows] == ["payment_refused", "order_cancelled"]


async def test_amounts_in_a_real_email_use_babels_no_break_space(
    notifications: Notifications, mailpit: Mailpit, recipient: str
) -> None:
    refund = for_customer(example(RefundIssued), recipient, amount=Decimal("12.50"))
    async with notifications.running():
        await notifications.publish(wrap(refund))
        (message,) = await mailpit.wait_for(recipient, 1)
    full = await mailpit.message(message["ID"])
    assert f"12,50{NBSP}€" in full["Subject"]
    assert f"12,50{NBSP}€" in full["Text"] and f"12,50{NBSP}€" in normalise(full["HTML"])
