"""A Stripe outage or a crash never loses a payment; reconciliation finds what no order explains."""

import asyncio
import json
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from jg_devstack import Endpoints
from jg_devstack.databases import create_database_async, drop_database_async
from payment.reconcile import reconcile

from .conftest import THREE_D_SECURE, VISA, make_settings, placed, running, unique_prefix

pytestmark = pytest.mark.integration


async def test_an_authorisation_interrupted_by_an_outage_is_resumed_with_its_key(
    stack: Endpoints,
) -> None:
    dsn = await create_database_async()
    prefix = unique_prefix()
    try:
        # Stripe cannot be reached: the order is recorded, the call is attempted and fails.
        down = make_settings(
            stack, dsn, prefix, stripe_api_base="http://127.0.0.1:9", stripe_sync_interval=0
        )
        async with running(down, stack, stripe_base=stack.localstripe_url) as payment:
            order = placed(await payment.card(VISA))
            await payment.feed(order)
            attempt = await payment.wait_attempt(
                order.order_id, lambda a: a["last_error"] is not None
            )
            assert attempt["status"] == "authorizing"
            assert attempt["authorize_sent_at"] is not None
            assert await payment.events.quiet(order.order_id, 1.0) == []

        # The service restarts with Stripe back: the synchronisation pass resumes the call.
        up = make_settings(stack, dsn, prefix, stripe_sync_interval=0.3)
        async with running(up, stack) as payment:
            (authorized,) = await payment.events.wait_for(order.order_id, "PaymentAuthorized")
            held = await payment.intent(authorized.payload.payment_intent_id)
            assert held["status"] == "requires_capture"
            assert held["metadata"]["order_id"] == str(order.order_id)
            assert await payment.events.quiet(order.order_id, 1.5) == ["PaymentAuthorized"]
    finally:
        await drop_database_async(dsn)


async def test_reconciliation_lists_money_without_order_and_orders_without_outcome(
    stack: Endpoints,
) -> None:
    dsn = await create_database_async()
    try:
        settings = make_settings(stack, dsn, unique_prefix(), stripe_sync_interval=0)
        async with running(settings, stack) as payment:
            started = datetime.now(UTC) - timedelta(minutes=1)
            # A normal order, authorised.
            fine = placed(await payment.card(VISA))
            await payment.feed(fine)
            (authorized,) = await payment.events.wait_for(fine.order_id, "PaymentAuthorized")
            # An order whose customer never completed 3-D Secure.
            waiting = placed(await payment.card(THREE_D_SECURE))
            await payment.feed(waiting)
            await payment.events.wait_for(waiting.order_id, "PaymentActionRequired")
            # Money held at Stripe for an order payment never heard of.
            orphan = await payment.stripe.v1.payment_intents.create_async(
                {
                    "amount": 4200,
                    "currency": "eur",
                    "payment_method": await payment.card(VISA),
                    "capture_method": "manual",
                    "confirm": True,
                    "metadata": {"order_id": str(uuid.uuid4())},
                }
            )
            assert orphan.status == "requires_capture"
            # A hold payment believes released (as after a lost cancellation).
            leaked = placed(await payment.card(VISA))
            await payment.feed(leaked)
            (leaked_auth,) = await payment.events.wait_for(leaked.order_id, "PaymentAuthorized")
            await payment.pool.execute(
                "UPDATE payment_attempts SET status = 'cancelled' WHERE order_id = $1",
                leaked.order_id,
            )

            findings = await reconcile(settings, since=started, stuck_after=timedelta(0))
            by_intent = {f.payment_intent_id: f for f in findings if f.payment_intent_id}
            assert by_intent[orphan.id].kind == "stripe_payment_without_order"
            assert by_intent[orphan.id].amount_cents == 4200
            assert by_intent[leaked_auth.payload.payment_intent_id].kind == (
                "stripe_hold_not_released"
            )
            stuck = [f for f in findings if f.kind == "order_without_payment_outcome"]
            assert [f.order_id for f in stuck] == [str(waiting.order_id)]
            assert authorized.payload.payment_intent_id not in by_intent
            assert str(fine.order_id) not in {f.order_id for f in findings}

            # The command: a JSON report and exit status 1 when there is something to see.
            env = {
                **os.environ,
                "PAYMENT_DATABASE_URL": dsn,
                "PAYMENT_STRIPE_API_BASE": stack.localstripe_url,
                "PAYMENT_STRIPE_API_KEY": stack.stripe_api_key,
                "JG_ENVIRONMENT": "test",
            }
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "payment.reconcile",
                "--json",
                "--since-hours",
                "1",
                "--stuck-after-minutes",
                "0",
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(process.communicate(), 60)
            assert process.returncode == 1, err.decode()
            report = json.loads(out)
            kinds = {(f["kind"], f["payment_intent_id"]) for f in report["findings"]}
            assert ("stripe_payment_without_order", orphan.id) in kinds
    finally:
        await drop_database_async(dsn)
