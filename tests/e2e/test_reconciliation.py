"""FAQ: « Si vous avez la confirmation que le paiement a bien été effectué, mais qu'aucune
commande n'apparaît dans votre compte client, veuillez contacter notre Service Client. »

Customer service runs payment's reconciliation against the same Stripe account and payment
database: money held at Stripe for no order is listed, paid orders are not."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid

from jg_devstack.drivers import Shop, StripeJs, unique_email
from jg_devstack.launcher import Platform


async def test_a_payment_taken_for_no_order_is_found_by_reconciliation(
    platform: Platform, shop: Shop, stripe_js: StripeJs
) -> None:
    order = await shop.paid_order(unique_email("olivier"), [("MATCHA-KYOTO-100", 1)])
    # The storefront crashed after the bank authorised 42,50 €, before the order existed.
    lost_order_id = str(uuid.uuid4())
    intent_id = await stripe_js.authorise_without_order(4250, {"order_id": lost_order_id})
    assert (await stripe_js.intent(intent_id))["status"] == "requires_capture"

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "payment.reconcile",
        "--json",
        "--since-hours",
        "1",
        env={**os.environ, **platform.config.service_env("payment")},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 1, stderr.decode()  # 1: there are findings
    findings = json.loads(stdout)["findings"]

    (lost,) = [f for f in findings if f["payment_intent_id"] == intent_id]
    assert lost["kind"] == "stripe_payment_without_order"
    assert lost["amount_cents"] == 4250
    assert lost["order_id"] == lost_order_id
    assert lost_order_id in lost["detail"]
    # The paid order is explained by its order: never listed.
    assert not [f for f in findings if f["order_id"] == order["id"]]
