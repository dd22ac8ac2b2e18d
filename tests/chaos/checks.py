"""After the storm: what each customer got, counted, and the platform's books."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import asyncpg
import httpx

from .harness import Resilient, patiently
from .journeys import Outcome

WAITING = {"placed", "pending_payment", "payment_action_required", "confirmed", "released"}


@dataclass
class Findings:
    """Every problem found, by check; an empty list is a passed check."""

    problems: dict[str, list[str]] = field(default_factory=dict)
    figures: dict[str, str] = field(default_factory=dict)

    def check(self, name: str, figure: str, problems: list[str]) -> None:
        self.figures[name] = figure
        self.problems[name] = problems

    def table(self) -> str:
        width = max(len(name) for name in self.figures)
        lines = [f"{'check':<{width}}  {'result':<6}  figures", "-" * (width + 60)]
        for name, figure in self.figures.items():
            verdict = "ok" if not self.problems[name] else "FAILED"
            lines.append(f"{name:<{width}}  {verdict:<6}  {figure}")
        return "\n".join(lines)

    def failures(self) -> str:
        out = []
        for name, problems in self.problems.items():
            if problems:
                out.append(f"{name}: {len(problems)} problem(s)")
                out.extend(f"  - {p}" for p in problems[:15])
        return "\n".join(out)


async def final_states(storefront: Resilient, outcomes: list[Outcome], findings: Findings) -> None:
    problems: list[str] = []
    counts: Counter[str] = Counter()
    for outcome in outcomes:
        if outcome.error:
            problems.append(f"{outcome.kind} {outcome.number or outcome.email}: {outcome.error}")
            continue
        assert outcome.order_id is not None
        order = await storefront.json("GET", f"/orders/{outcome.order_id}")
        counts[order["status"]] += 1
        if order["status"] != outcome.status:
            problems.append(
                f"{outcome.kind} {outcome.number}: {order['status']}, expected {outcome.status}"
            )
    stuck = sum(n for status, n in counts.items() if status in WAITING)
    acknowledged = sum(o.acknowledged for o in outcomes)
    findings.check(
        "orders acknowledged (201, or 200 replay) and in their journey's end state",
        f"{acknowledged}/{len(outcomes)} acknowledged; "
        + ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
        + f"; left waiting {stuck}",
        problems,
    )


class Mailpit:
    def __init__(self, api_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=api_url, timeout=20.0)

    async def close(self) -> None:
        await self.http.aclose()

    async def received(self, recipient: str) -> list[tuple[str, str]]:
        """(template, Message-ID) of every message to ``recipient``."""
        response = await self.http.get(
            "/api/v1/search", params={"query": f'to:"{recipient}"', "limit": 200}
        )
        response.raise_for_status()
        found = []
        for message in response.json()["messages"]:
            headers = await self.http.get(f"/api/v1/message/{message['ID']}/headers")
            headers.raise_for_status()
            values = headers.json()
            template = (
                values.get("X-Japangoodz-Template") or values.get("X-JapanGoodz-Template") or ["?"]
            )[0]
            found.append((template, message.get("MessageID", "")))
        return found


async def emails(mailpit: Mailpit, outcomes: list[Outcome], findings: Findings) -> None:
    """Every expected email arrived, once (a resend after an unknown SMTP outcome carries the
    same Message-ID: it is counted apart, not as a second email)."""
    semaphore = asyncio.Semaphore(16)
    deadline = time.monotonic() + 180  # for the whole check: late emails are a finding
    problems: list[str] = []
    totals: Counter[str] = Counter()
    resent = 0

    async def one(outcome: Outcome) -> None:
        nonlocal resent
        if outcome.error:
            return
        async with semaphore:
            try:
                got = await patiently(
                    lambda: mailpit.received(outcome.email),
                    lambda found: outcome.templates <= {t for t, _ in found},
                    f"the emails of {outcome.number}",
                    timeout=deadline - time.monotonic(),
                    interval=2.0,
                )
            except AssertionError:
                got = await mailpit.received(outcome.email)  # what did come: reported below
        distinct = {(t, mid) for t, mid in got}
        resent += len(got) - len(distinct)
        per_template = Counter(t for t, _ in distinct)
        totals.update(per_template)
        unexpected = set(per_template) - outcome.templates
        twice = {t: n for t, n in per_template.items() if n > 1}
        missing = outcome.templates - set(per_template)
        if unexpected or twice or missing:
            problems.append(
                f"{outcome.kind} {outcome.number}: missing {sorted(missing)}, "
                f"unexpected {sorted(unexpected)}, twice {twice}"
            )

    await asyncio.gather(*(one(o) for o in outcomes))
    confirmed = sum("order_confirmed" in o.templates for o in outcomes if not o.error)
    findings.check(
        "emails: each expected one exactly once, nothing else",
        f"{sum(totals.values())} emails; confirmations {totals['order_confirmed']} for "
        f"{confirmed} confirmed orders; refusals {totals['payment_refused']}; "
        f"same Message-ID resent {resent}",
        problems,
    )


async def money(
    payment_db: asyncpg.Connection,
    stripe: httpx.AsyncClient,
    outcomes: list[Outcome],
    findings: Findings,
) -> None:
    """At the Stripe stand-in: at most one capture per order, equal to its total; refunds."""
    problems: list[str] = []
    captures = refunds = 0
    for outcome in outcomes:
        if outcome.error or outcome.order_id is None:
            continue
        intents = await payment_db.fetch(
            "SELECT payment_intent_id FROM payment_attempts WHERE order_id = $1::uuid"
            " AND payment_intent_id IS NOT NULL",
            outcome.order_id,
        )
        captured: list[Decimal] = []
        refunded = Decimal("0")
        for row in intents:
            response = await stripe.get(f"/v1/payment_intents/{row['payment_intent_id']}")
            response.raise_for_status()
            intent: dict[str, Any] = response.json()
            for charge in (intent.get("charges") or {}).get("data", []):
                if charge.get("captured") and charge.get("paid"):
                    captured.append(Decimal(charge["amount"]) / 100)
                    refunded += Decimal(charge.get("amount_refunded", 0)) / 100
        captures += len(captured)
        refunds += refunded > 0
        expected = [outcome.capture] if outcome.capture is not None else []
        if captured != expected:
            problems.append(
                f"{outcome.kind} {outcome.number}: captured {captured}, expected {expected}"
            )
        if refunded != (outcome.refund or Decimal("0")):
            problems.append(
                f"{outcome.kind} {outcome.number}: refunded {refunded}, expected {outcome.refund}"
            )
    findings.check(
        "Stripe: one capture per order, equal to its total; refunds",
        f"{captures} captures, {refunds} refunds",
        problems,
    )


async def invoices(
    payment_db: asyncpg.Connection, outcomes: list[Outcome], findings: Findings
) -> None:
    rows = await payment_db.fetch("SELECT sequence, kind FROM invoices ORDER BY sequence")
    sequences = [r["sequence"] for r in rows]
    problems = []
    if sequences != list(range(1, len(sequences) + 1)):
        missing = sorted(set(range(1, max(sequences, default=0) + 1)) - set(sequences))
        problems.append(f"gaps in the series: {missing[:20]}")
    shipped = sum(o.status in ("shipped", "delivered") for o in outcomes if not o.error)
    kinds = Counter(r["kind"] for r in rows)
    if kinds["invoice"] != shipped:
        problems.append(f"{kinds['invoice']} invoices for {shipped} shipped orders")
    findings.check(
        "invoice numbers gapless",
        f"{kinds['invoice']} invoices + {kinds['credit_note']} credit notes, "
        f"numbers 1 to {len(rows)}",
        problems,
    )


async def outboxes(databases: dict[str, str], findings: Findings) -> None:
    problems = []
    parts = []
    for service, dsn in databases.items():
        conn = await asyncpg.connect(dsn)
        try:
            pending = await conn.fetchval(
                "SELECT count(*) FROM messaging_outbox WHERE sent_at IS NULL"
            )
            has_status = await conn.fetchval(
                "SELECT count(*) FROM information_schema.columns"
                " WHERE table_name = 'messaging_outbox' AND column_name = 'status'"
            )
            parked = (
                await conn.fetchval("SELECT count(*) FROM messaging_outbox WHERE status = 'parked'")
                if has_status
                else 0
            )
        finally:
            await conn.close()
        parts.append(f"{service} {pending}/{parked}")
        if pending or parked:
            problems.append(f"{service}: {pending} unsent, {parked} parked")
    findings.check(
        "outboxes drained, nothing parked", "unsent/parked: " + ", ".join(parts), problems
    )
