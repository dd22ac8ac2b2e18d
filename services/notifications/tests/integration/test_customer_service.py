"""Customer service: the emails of an order, and a resend that really arrives again."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from jg_devstack.tokens import authorization, staff_authorization, verifier_for_tests
from jg_events import CustomerErasureRequested, OrderConfirmed
from jg_events.examples import example
from notifications.app import create_app
from pydantic import SecretStr

from .conftest import Mailpit, Notifications, for_customer, wrap

pytestmark = pytest.mark.integration

AGENT = staff_authorization("agent", email="hugo@japangoodz.test")
OPERATOR = "test-notifications-operator-token"


async def test_an_agent_lists_an_orders_emails_and_resends_one_to_the_same_address(
    notifications: Notifications, mailpit: Mailpit, recipient: str
) -> None:
    order_id, customer_id = uuid.uuid4(), uuid.uuid4()
    confirmed = for_customer(example(OrderConfirmed), recipient, order_id=order_id)
    confirmed = confirmed.model_copy(
        update={"customer": confirmed.customer.model_copy(update={"customer_id": customer_id})}
    )
    app = create_app(
        notifications.settings(operator_token=SecretStr(OPERATOR)), verifier=verifier_for_tests()
    )
    async with (
        notifications.running(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://n.test") as http,
    ):
        await notifications.publish(wrap(confirmed))
        first = await mailpit.wait_for(recipient, 1)
        path = f"/operator/orders/{order_id}/emails"
        emails = (await http.get(path, headers=AGENT)).json()
        while emails and emails[0]["status"] == "pending":
            await asyncio.sleep(0.1)
            emails = (await http.get(path, headers=AGENT)).json()
        assert [(e["template"], e["status"]) for e in emails] == [("order_confirmed", "sent")]
        assert emails[0]["subject"] == first[0]["Subject"]
        assert emails[0]["sent_at"] is not None

        resent = await http.post(f"/operator/emails/{emails[0]['id']}/resend", headers=AGENT)
        assert resent.status_code == 202, resent.text
        again = await mailpit.wait_for(recipient, 2)
        assert [m["Subject"] for m in again] == [first[0]["Subject"]] * 2
        texts = [
            (await mailpit.message(m["ID"]))["Text"] for m in again
        ]  # the same content, a new message
        assert texts[0] == texts[1]
        assert again[0]["MessageID"] != again[1]["MessageID"]

        # who may call: staff and the static operator token; not a customer
        static = await http.get(path, headers={"Authorization": f"Bearer {OPERATOR}"})
        assert static.status_code == 200
        assert len(static.json()) == 2
        assert (await http.get(path, headers=authorization(customer_id))).status_code == 401
        unknown = await http.post("/operator/emails/999999/resend", headers=AGENT)
        assert unknown.status_code == 404
        too_big = await http.post(f"/operator/emails/{2**63}/resend", headers=AGENT)
        assert too_big.status_code == 422
        assert "email_id" in too_big.text

        # an erased customer gets nothing more
        await notifications.publish(
            wrap(
                for_customer(example(CustomerErasureRequested), recipient, customer_id=customer_id)
            )
        )
        await mailpit.wait_for(recipient, 3)  # the acknowledgement of the request
        refused = await http.post(f"/operator/emails/{emails[0]['id']}/resend", headers=AGENT)
    assert refused.status_code == 409
    assert refused.json()["code"] == "customer_erased"
    assert "effacement" in refused.json()["message"]
