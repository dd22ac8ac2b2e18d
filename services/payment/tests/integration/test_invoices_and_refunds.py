"""Invoices at shipment, refunds with credit notes, the PDF and who may read it, erasure."""

import asyncio
import io
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from jg_devstack.drivers import eventually
from jg_devstack.kafka_records import headers_of, read_topic
from jg_devstack.tokens import authorization
from jg_events import CustomerErasureRequested, Envelope, InvoiceKind, OrderPlaced, Topic
from jg_events.examples import example
from jg_events.topics import dead_letter_topic
from jg_shop import french_date
from payment import repository
from payment.invoicing import gaps, sequence_of
from payment.pdf import euros, percent
from payment.usecases import invoices
from pypdf import PdfReader

from .conftest import (
    INTERNAL_TOKEN,
    VISA,
    Payment,
    cents,
    placed,
    refund_requested,
    released,
    shipped,
)

pytestmark = pytest.mark.integration


async def captured_order(payment: Payment, customer_id: uuid.UUID | None = None) -> OrderPlaced:
    order = placed(await payment.card(VISA), customer_id=customer_id)
    await payment.feed(order)
    await payment.events.wait_for(order.order_id, "PaymentAuthorized")
    await payment.feed(released(order))
    await payment.events.wait_for(order.order_id, "PaymentCaptured")
    return order


async def invoiced_order(
    payment: Payment, customer_id: uuid.UUID | None = None
) -> tuple[OrderPlaced, Envelope[Any], Envelope[Any]]:
    order = await captured_order(payment, customer_id)
    (shipment,) = await payment.feed(shipped(order))
    (issued,) = await payment.events.wait_for(order.order_id, "InvoiceIssued")
    return order, issued, shipment


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_shipping_issues_an_invoice_whose_pdf_carries_every_legal_mention(
    payment: Payment,
) -> None:
    customer_id = uuid.uuid4()
    order, issued, shipment = await invoiced_order(payment, customer_id)
    invoice = issued.payload
    assert invoice.kind is InvoiceKind.INVOICE
    assert invoice.total_incl_vat == order.totals.total
    assert invoice.total_vat == order.totals.vat
    assert invoice.total_excl_vat == order.totals.total - order.totals.vat
    assert invoice.download_path == f"/invoices/{invoice.invoice_number}.pdf"
    assert issued.causation_id == str(shipment.event_id)

    response = await payment.http.get(invoice.download_path, headers=authorization(customer_id))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content)
    assert payment.settings.seller.legal_name == "Kumo Trading SARL"
    for mention in (
        f"Facture n° {invoice.invoice_number}",
        "Kumo Trading SARL",  # the seller configured (JG_SELLER_*), not the sample
        "8 rue Exemple",
        "69002 Lyon",
        "SIREN : 987654321",
        "N° TVA intracommunautaire : FR45987654321",
        "SARL au capital de 25 000 €",
        "RCS Lyon 987 654 321",
        "Camille Durand",  # the customer, from the billing address
        order.billing_address.line1,
        f"{order.billing_address.postal_code} {order.billing_address.city}",
        f"Date d'émission : {french_date(invoice.issue_date)}",
        f"Commande n° {order.order_number}",
        "Désignation",
        "Qté",
        "P.U. HT",
        "TVA",
        *(line.name for line in order.lines),
        "Livraison : ",
        "18,95 €",  # matcha 19.99 TTC at 5.5 %: 18.95 HT
        "20,42 €",  # furoshiki 24.50 TTC at 20 %: 20.42 HT
        "Total HT",
        "90,93 €",
        "Total TVA",
        "8,44 €",
        "Total TTC",
        "99,37 €",
        "Facture acquittée",
    ):
        assert mention in text, mention
    # Tea at 5.5 %, the furoshiki at 20 %: the shipping is split between the two rates.
    for share in order.totals.vat_breakdown:
        assert share.shipping > 0
        assert f"part au taux de {percent(share.rate)}" in " ".join(text.split())
        assert (
            f"{percent(share.rate)}\n {euros(share.total_excl_vat)}\n {euros(share.vat)}\n "
            f"{euros(share.total_incl_vat)}"
        ) in text  # the VAT table's row of the rate: base, VAT, TTC

    # Internal callers (notifications) may read it; nobody else learns it exists.
    internal = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
    assert (await payment.http.get(invoice.download_path, headers=internal)).content == (
        response.content
    )
    stranger = await payment.http.get(invoice.download_path, headers=authorization(uuid.uuid4()))
    assert stranger.status_code == 404
    assert stranger.json()["code"] == "invoice_not_found"
    assert (await payment.http.get(invoice.download_path)).status_code == 401
    forged = {"Authorization": "Bearer not-a-token"}
    assert (await payment.http.get(invoice.download_path, headers=forged)).status_code == 401
    unknown = await payment.http.get("/invoices/F-2026-999999.pdf", headers=internal)
    assert unknown.status_code == 404

    # Replaying the shipment issues nothing more.
    await payment.replay(shipment)
    await payment.events.quiet(order.order_id, 2.0)
    assert len(payment.events.of(order.order_id, "InvoiceIssued")) == 1


async def test_an_issued_invoice_can_be_neither_changed_nor_deleted(payment: Payment) -> None:
    _, issued, _ = await invoiced_order(payment)
    number = issued.payload.invoice_number
    async with payment.pool.acquire() as conn:
        with pytest.raises(asyncpg.IntegrityConstraintViolationError):
            await conn.execute("UPDATE invoices SET pdf = 'x' WHERE number = $1", number)
        with pytest.raises(asyncpg.IntegrityConstraintViolationError):
            await conn.execute("DELETE FROM invoices WHERE number = $1", number)
        assert await conn.fetchval("SELECT count(*) FROM invoices WHERE number = $1", number) == 1


async def test_a_partial_then_the_remaining_refund_each_produce_a_credit_note(
    payment: Payment,
) -> None:
    order, issued, _ = await invoiced_order(payment)
    invoice_number = issued.payload.invoice_number
    intent_id = payment.events.of(order.order_id, "PaymentCaptured")[0].payload.payment_intent_id

    partial = refund_requested(order, full=False)  # the matcha: 59.97
    (partial_envelope,) = await payment.feed(partial)
    (refund,) = await payment.events.wait_for(order.order_id, "RefundIssued")
    assert refund.payload.amount == partial.amount == Decimal("59.97")
    assert refund.payload.refund_request_id == partial.refund_request_id
    assert refund.payload.payment_intent_id == intent_id
    at_stripe = await payment.stripe.v1.refunds.retrieve_async(refund.payload.refund_id)
    assert (at_stripe.amount, at_stripe.status) == (cents(partial.amount), "succeeded")

    note = (await payment.events.wait_for(order.order_id, "InvoiceIssued", count=2))[1]
    credit = note.payload
    assert credit.kind is InvoiceKind.CREDIT_NOTE
    assert credit.corrects_invoice_number == invoice_number
    assert credit.total_incl_vat == partial.amount
    assert sequence_of(credit.invoice_number) > sequence_of(invoice_number)  # same series
    pdf = await payment.http.get(
        credit.download_path, headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}
    )
    text = pdf_text(pdf.content)
    assert f"Avoir n° {credit.invoice_number}" in text
    assert f"Avoir sur la facture n° {invoice_number}" in text
    assert "59,97 €" in text

    # The same request again (a redelivery) refunds nothing more.
    await payment.replay(partial_envelope)
    await payment.events.quiet(order.order_id, 2.0)
    assert len(payment.events.of(order.order_id, "RefundIssued")) == 1

    # A request for more than what is left is refused; what is left can be refunded.
    too_much = refund_requested(order, full=True)  # 99.37 > 39.40 left
    await payment.feed(too_much)
    rejected = await _refund_row(payment, too_much.refund_request_id)
    assert rejected["status"] == "rejected"
    rest = refund_requested(order, full=True).model_copy(
        update={"lines": too_much.lines[1:], "amount": Decimal("39.40")}
    )
    await payment.feed(rest)
    refunds = await payment.events.wait_for(order.order_id, "RefundIssued", count=2)
    assert refunds[1].payload.amount == Decimal("39.40")
    notes = await payment.events.wait_for(order.order_id, "InvoiceIssued", count=3)
    assert notes[2].payload.total_incl_vat == Decimal("39.40")
    # The furoshiki (20 %) and the shipping, split like the invoice's: 10.96 at 5.5 %, 3.94 at 20 %.
    last = await payment.http.get(
        notes[2].payload.download_path, headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}
    )
    last_text = pdf_text(last.content)
    assert "5,5 %\n 10,39 €\n 0,57 €\n 10,96 €" in last_text
    assert "20 %\n 23,70 €\n 4,74 €\n 28,44 €" in last_text
    assert notes[2].payload.total_vat == Decimal("5.31")
    intent = await payment.intent(intent_id)
    assert intent["latest_charge"]["amount_refunded"] == cents(order.totals.total)


async def _refund_row(payment: Payment, refund_request_id: uuid.UUID) -> dict[str, Any]:
    for _ in range(200):
        row = await payment.pool.fetchrow(
            "SELECT * FROM payment_refunds WHERE refund_request_id = $1", refund_request_id
        )
        if row is not None:
            return dict(row)
        await asyncio.sleep(0.1)
    raise AssertionError("the refund request was never recorded")


async def test_two_concurrent_shipments_get_consecutive_invoice_numbers(payment: Payment) -> None:
    first = await captured_order(payment)
    second = await captured_order(payment)
    await payment.feed(shipped(first), shipped(second))  # published together
    (a,) = await payment.events.wait_for(first.order_id, "InvoiceIssued")
    (b,) = await payment.events.wait_for(second.order_id, "InvoiceIssued")
    numbers = sorted([sequence_of(a.payload.invoice_number), sequence_of(b.payload.invoice_number)])
    assert numbers[1] == numbers[0] + 1


async def test_concurrent_issuers_and_a_crash_leave_no_gap_in_the_series(
    payment: Payment,
) -> None:
    ctx = payment.app.state.context
    orders = [await _recorded_order(payment) for _ in range(8)]

    async def issue(order_id: uuid.UUID, crash: bool) -> None:
        async with payment.pool.acquire() as conn:
            try:
                async with conn.transaction():
                    row = await repository.get_order(conn, order_id)
                    assert row is not None
                    uow = ctx.unit_of_work(conn, "test-concurrency", None)
                    await invoices.issue_invoice(ctx, conn, uow, row, datetime.now(UTC))
                    if crash:
                        raise RuntimeError("the process died before committing")
            except RuntimeError:
                pass

    # Eight issuers at once, two of which die after taking a number.
    await asyncio.gather(*(issue(o, crash=i in (2, 5)) for i, o in enumerate(orders)))
    sequences = [r["sequence"] for r in await payment.pool.fetch("SELECT sequence FROM invoices")]
    assert gaps(sequences) == []
    assert len(sequences) == len(set(sequences))
    issued = await payment.pool.fetch("SELECT number, issued_at FROM invoices ORDER BY sequence")
    assert [r["issued_at"] for r in issued] == sorted(r["issued_at"] for r in issued)
    assert (
        await payment.pool.fetchval(
            "SELECT count(*) FROM invoices WHERE order_id = ANY($1::uuid[])", orders
        )
        == 6
    )


async def _recorded_order(payment: Payment) -> uuid.UUID:
    order = placed(await payment.card(VISA))
    await payment.feed(order)
    await payment.events.wait_for(order.order_id, "PaymentAuthorized")
    return order.order_id


PERSONAL = ("camille.durand@example.fr", "Camille", "Durand", "12 rue des Lilas")


def erasure(customer_id: uuid.UUID, *, email_verified: bool) -> CustomerErasureRequested:
    return example(CustomerErasureRequested).model_copy(
        update={
            "customer_id": customer_id,
            "email": "Camille.Durand@Example.fr",  # the guest order's address, another case
            "email_verified": email_verified,
        }
    )


async def guest_order(payment: Payment) -> OrderPlaced:
    """A guest order (no account) placed with the address the erasures name."""
    order = placed(await payment.card(VISA))
    guest = order.model_copy(
        update={"customer": order.customer.model_copy(update={"customer_id": None})}
    )
    await payment.feed(guest)
    await payment.events.wait_for(guest.order_id, "PaymentAuthorized")
    return guest


async def order_row(payment: Payment, order_id: uuid.UUID) -> asyncpg.Record:
    row = await payment.pool.fetchrow("SELECT * FROM payment_orders WHERE order_id = $1", order_id)
    assert row is not None
    return row


async def erased_row(payment: Payment, order_id: uuid.UUID) -> asyncpg.Record:
    for _ in range(200):
        row = await order_row(payment, order_id)
        if row["erased_at"] is not None:
            return row
        await asyncio.sleep(0.1)
    raise AssertionError("the order was never pseudonymised")


def assert_pseudonymised(row: asyncpg.Record) -> None:
    for personal in PERSONAL:
        assert personal not in row["customer"]
        assert personal not in row["snapshot"]


async def test_an_erasure_of_an_unproven_address_keeps_the_guest_orders_and_the_invoice(
    payment: Payment,
) -> None:
    """Anyone may sign up with a stranger's address: only the account's own orders go."""
    customer_id = uuid.uuid4()
    order, issued, _ = await invoiced_order(payment, customer_id)
    stranger = await guest_order(payment)
    (request,) = await payment.feed(erasure(customer_id, email_verified=False))
    assert request.payload.topic is Topic.ACCOUNTS_CUSTOMERS

    assert_pseudonymised(await erased_row(payment, order.order_id))
    await payment.events.quiet(stranger.order_id, 1.0)  # the erasure is applied by now
    kept = await order_row(payment, stranger.order_id)
    assert kept["erased_at"] is None
    assert "camille.durand@example.fr" in kept["customer"]
    assert "12 rue des Lilas" in kept["snapshot"]
    # The invoice is a legal document: kept as issued, still readable by its customer.
    response = await payment.http.get(
        issued.payload.download_path, headers=authorization(customer_id)
    )
    assert "Camille Durand" in pdf_text(response.content)

    # A refund after the erasure: the credit note names the customer as the invoice did,
    # the events carry only the pseudonym.
    await payment.feed(refund_requested(order, full=False))
    (refund,) = await payment.events.wait_for(order.order_id, "RefundIssued")
    assert refund.payload.customer.email.endswith(".invalid")
    notes = await payment.events.wait_for(order.order_id, "InvoiceIssued", count=2)
    note = await payment.http.get(
        notes[1].payload.download_path, headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}
    )
    assert "Camille Durand" in pdf_text(note.content)


async def test_an_erasure_of_a_proven_address_also_erases_the_guest_orders_placed_with_it(
    payment: Payment,
) -> None:
    customer_id = uuid.uuid4()
    order, issued, _ = await invoiced_order(payment, customer_id)
    guest = await guest_order(payment)
    someone_else = placed(await payment.card(VISA))  # another account, the same address
    await payment.feed(someone_else)
    await payment.events.wait_for(someone_else.order_id, "PaymentAuthorized")

    await payment.feed(erasure(customer_id, email_verified=True))

    assert_pseudonymised(await erased_row(payment, order.order_id))
    assert_pseudonymised(await erased_row(payment, guest.order_id))
    assert (await order_row(payment, someone_else.order_id))["erased_at"] is None

    # the outbox copies of the erased orders' events (PaymentAuthorized, PaymentCaptured,
    # InvoiceIssued... with the contact) are gone; the other account's stay
    async def keys_in_the_outbox() -> set[str]:
        rows = await payment.pool.fetch(
            "SELECT message_key FROM messaging_outbox WHERE message_key = ANY($1::text[])",
            [str(order.order_id), str(guest.order_id), str(someone_else.order_id)],
        )
        return {r["message_key"] for r in rows}

    await eventually(
        keys_in_the_outbox, lambda keys: keys == {str(someone_else.order_id)}, "copies forgotten"
    )
    invoice = await payment.http.get(
        issued.payload.download_path, headers=authorization(customer_id)
    )
    assert "Camille Durand" in pdf_text(invoice.content)  # the law keeps the invoice


async def test_an_order_whose_event_arrives_after_the_erasure_is_stored_erased(
    payment: Payment,
) -> None:
    """OrderPlaced and the erasure travel on two topics: the erasure may be applied first."""
    customer_id = uuid.uuid4()
    await payment.feed(erasure(customer_id, email_verified=False))
    for _ in range(200):
        if await payment.pool.fetchval(
            "SELECT true FROM payment_erased_customers WHERE customer_id = $1", customer_id
        ):
            break
        await asyncio.sleep(0.1)
    late = placed(await payment.card(VISA), customer_id=customer_id)
    await payment.feed(late)
    (authorized,) = await payment.events.wait_for(late.order_id, "PaymentAuthorized")
    assert_pseudonymised(await order_row(payment, late.order_id))
    assert "Camille" not in authorized.payload.customer.model_dump_json()


async def test_a_shipment_of_an_order_payment_never_saw_goes_to_the_dead_letter_topic(
    payment: Payment,
) -> None:
    stranger = placed("pm_never_seen")
    (envelope,) = await payment.feed(shipped(stranger))
    records = await read_topic(
        payment.stack.kafka_bootstrap, dead_letter_topic("payment", payment.prefix), count=1
    )
    dead = [r for r in records if headers_of(r)["event-id"] == str(envelope.event_id)]
    assert len(dead) == 1
    assert headers_of(dead[0])["dlq-reason"] == "handler_failed"
    assert "unknown to payment" in headers_of(dead[0])["dlq-error"]
    assert (
        await payment.pool.fetchval(
            "SELECT count(*) FROM invoices WHERE order_id = $1", stranger.order_id
        )
        == 0
    )


async def test_a_refund_requested_before_the_capture_waits_for_it(payment: Payment) -> None:
    """The withdrawal can overtake the capture (Stripe or payment away while fulfillment went
    on): the request is kept, and made from the capture as soon as it is recorded."""
    order = placed(await payment.card(VISA))
    await payment.feed(order)
    await payment.events.wait_for(order.order_id, "PaymentAuthorized")

    early = refund_requested(order, full=True)
    await payment.feed(early)
    row = await _refund_row(payment, early.refund_request_id)
    assert row["status"] == "awaiting_capture"
    assert row["problem"] is None
    assert "RefundIssued" not in await payment.events.quiet(order.order_id, seconds=1.5)

    await payment.feed(released(order))
    await payment.events.wait_for(order.order_id, "PaymentCaptured")
    (refund,) = await payment.events.wait_for(order.order_id, "RefundIssued", timeout=30)
    assert refund.payload.amount == order.totals.total
    assert refund.payload.refund_request_id == early.refund_request_id
