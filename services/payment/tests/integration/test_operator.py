"""Customer service: an order's payment events and documents, and their PDFs, by staff token."""

import uuid

import pytest
from jg_devstack.tokens import authorization, staff_authorization

from .conftest import Payment, refund_requested
from .test_invoices_and_refunds import invoiced_order

pytestmark = pytest.mark.integration

AGENT = staff_authorization("agent", email="hugo@japangoodz.test")


async def test_an_agent_reads_the_payments_and_documents_of_an_order(payment: Payment) -> None:
    order, issued, _ = await invoiced_order(payment)
    partial = refund_requested(order, full=False)
    await payment.feed(partial)
    await payment.events.wait_for(order.order_id, "InvoiceIssued", count=2)

    answer = await payment.http.get(f"/operator/orders/{order.order_id}/payments", headers=AGENT)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    kinds = [e["kind"] for e in body["events"]]
    assert kinds == ["authorised", "captured", "refunded"]
    total = str(order.totals.total)
    assert [e["amount"] for e in body["events"]] == [total, total, "59.97"]
    assert "visa" in body["events"][0]["detail"]
    documents = body["documents"]
    assert [(d["kind"], d["amount"]) for d in documents] == [
        ("invoice", total),
        ("credit_note", "59.97"),
    ]
    assert documents[0]["number"] == issued.payload.invoice_number
    pdf = await payment.http.get(documents[1]["pdf_path"], headers=AGENT)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


async def test_customers_are_refused_on_the_operator_route(payment: Payment) -> None:
    path = f"/operator/orders/{uuid.uuid4()}/payments"
    assert (await payment.http.get(path, headers=authorization(uuid.uuid4()))).status_code == 401
    assert (await payment.http.get(path)).status_code == 401
    unknown = await payment.http.get(path, headers=AGENT)
    assert unknown.json() == {"events": [], "documents": []}
