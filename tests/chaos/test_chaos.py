"""An outage delays orders; it never strands or loses one.

While customers place and follow at least 300 orders of every kind, every service instance is
killed (kill -9) and restarted, then Kafka and PostgreSQL are killed (kill -9) and kept down
20 s each, Mailpit (the SMTP relay) is stopped for 30 s and the Stripe stand-in for 20 s. Then
every order, email, capture, invoice number, outbox row and dead letter is counted.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter

import asyncpg
import httpx
import pytest
from jg_devstack import Endpoints
from jg_devstack.drivers import LogisticsTeam, StripeJs
from jg_devstack.kafka_records import read_dead_letters

from . import checks
from .conftest import LOG_DIR
from .harness import FaultLog, Fleet, Resilient, injure_and_heal
from .journeys import BACKORDER_SKU, MIX, STOCKED_SKUS, Customers, play

ARRIVALS_OVER = 260.0  # seconds over which the orders arrive: while every fault goes on

# For working on the suite itself: JG_CHAOS_SCALE=0.1 plays a tenth of the orders;
# JG_CHAOS_FAULTS=none, services or stack injects no fault, only the services' or only the
# stack's. `make chaos` uses neither.
SCALE = float(os.environ.get("JG_CHAOS_SCALE", "1"))
FAULTS = os.environ.get("JG_CHAOS_FAULTS", "all")


def _progress(began: float, what: str) -> None:
    """A line in .stack/logs/chaos/progress.log: where the run is, when (a slow run shows why)."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with (LOG_DIR / "progress.log").open("a", encoding="utf-8") as out:
        out.write(f"{time.monotonic() - began:7.1f} s  {what}\n")


async def _set_stock(operator: Resilient, sku: str, on_hand: int) -> None:
    current = await operator.json("GET", f"/operator/stock/{sku}")
    await operator.json(
        "PUT",
        f"/operator/stock/{sku}",
        json={
            "name_fr": current["name_fr"],
            "name_ja": current.get("name_ja"),
            "name_romaji": current.get("name_romaji"),
            "on_hand": on_hand,
            "note": "inventaire avant le test de pannes",
        },
    )


async def test_faults_delay_orders_and_lose_none(
    fleet: Fleet, stack: Endpoints, capsys: pytest.CaptureFixture[str]
) -> None:
    platform = fleet.processes["a"].platform
    secrets = platform.secrets
    storefront = Resilient(fleet.urls("checkout"), secrets.checkout_storefront)
    returns = Resilient(fleet.urls("fulfillment"), secrets.fulfillment_storefront)
    operator = Resilient(fleet.urls("fulfillment"), secrets.fulfillment_operator)
    stripe = StripeJs(stack.localstripe_url, stack.stripe_api_key)
    logistics = LogisticsTeam(stack.kafka_bootstrap, platform.topic_prefix)
    await logistics.start()
    mailpit = checks.Mailpit(stack.mailpit_api_url)
    try:
        for sku in STOCKED_SKUS:
            await _set_stock(operator, sku, 5000)
        await _set_stock(operator, BACKORDER_SKU, 0)

        kinds = [kind for kind, count in MIX.items() for _ in range(max(1, round(count * SCALE)))]
        random.Random(12).shuffle(kinds)
        customers = Customers(storefront, returns, stripe, logistics)
        faults = FaultLog()
        began = time.monotonic()
        (LOG_DIR / "progress.log").unlink(missing_ok=True)
        _progress(began, f"{len(kinds)} journeys start")
        faults.progress = lambda what: _progress(began, what)
        injuries = asyncio.create_task(
            injure_and_heal(
                fleet,
                faults,
                services=FAULTS in ("all", "services"),
                stack=FAULTS in ("all", "stack"),
            )
        )
        spacing = ARRIVALS_OVER * SCALE / len(kinds)
        outcomes = await asyncio.gather(
            *(play(customers, kind, i * spacing) for i, kind in enumerate(kinds))
        )
        await injuries
        journeys_took = time.monotonic() - began
        _progress(began, f"journeys done ({sum(bool(o.error) for o in outcomes)} with an error)")

        findings = checks.Findings()
        await checks.final_states(storefront, outcomes, findings)
        _progress(began, "final states checked")
        await checks.emails(mailpit, outcomes, findings)
        _progress(began, "emails checked")
        payment_db = await asyncpg.connect(platform.database("payment"))
        try:
            async with httpx.AsyncClient(
                base_url=stack.localstripe_url,
                headers={"Authorization": f"Bearer {stack.stripe_api_key}"},
                timeout=20,
            ) as stripe_api:
                await checks.money(payment_db, stripe_api, outcomes, findings)
            await checks.invoices(payment_db, outcomes, findings)
            _progress(began, "money and invoices checked")
        finally:
            await payment_db.close()

        async def drained() -> checks.Findings:
            probe = checks.Findings()
            await checks.outboxes(dict(platform.databases), probe)
            return probe

        deadline = time.monotonic() + 60
        outbox = await drained()
        while any(outbox.problems.values()) and time.monotonic() < deadline:
            await asyncio.sleep(1)
            outbox = await drained()
        findings.figures.update(outbox.figures)
        findings.problems.update(outbox.problems)
        dead = await read_dead_letters(stack.kafka_bootstrap, platform.topic_prefix)
        findings.check("dead letters", f"{len(dead)}", dead)
    finally:
        await logistics.stop()
        await stripe.close()
        await mailpit.close()
        for client in (storefront, returns, operator):
            await client.close()

    faults_table = "\n".join(
        f"  {at:6.1f} s  {took:5.1f} s  {what}" for at, took, what in faults.rows
    )
    played = Counter(o.kind for o in outcomes)
    adapted = Counter(o.kind for o in outcomes if o.notes)
    by_kind = "\n".join(
        f"  {kind:<26} {played[kind]:>4}"
        + (
            f"  ({adapted[kind]} adapted: window closed or answer replayed)"
            if adapted[kind]
            else ""
        )
        for kind in MIX
    )
    report = (
        f"Chaos run: {len(outcomes)} orders in {journeys_took:.0f} s "
        f"(storefront retries: {storefront.retries})\n{by_kind}\n\n"
        f"Faults (start, duration, what):\n{faults_table}\n\n{findings.table()}\n"
    )
    (LOG_DIR / "report.txt").write_text(report + "\n" + findings.failures() + "\n")
    with capsys.disabled():
        print("\n" + report)
    assert not any(findings.problems.values()), findings.failures()
