"""`python -m payment.reconcile`: what Stripe holds or took that no order explains, and the
orders still waiting for a payment outcome.

The FAQ tells a customer whose bank shows a payment but whose account shows no order to contact
customer service: this report finds those cases first, so they are never silent.

Findings (one line each, or ``--json``):

* ``stripe_payment_without_order``: an intent authorised (``requires_capture``) or captured
  (``succeeded``) at Stripe that payment does not know, or whose order it does not know;
* ``stripe_hold_not_released``: an intent still holding money at Stripe for an order that was
  cancelled, refused or superseded (payment believes it released it);
* ``stripe_capture_not_recorded``: captured at Stripe, not recorded as captured by payment;
* ``order_without_payment_outcome``: an order whose authorisation has had no outcome (no
  authorisation, refusal or 3-D Secure step done) for longer than ``PAYMENT_STUCK_AFTER``;
* ``released_order_not_captured``: released to fulfillment but not captured in that time;
* ``payment_step_stuck``: a capture or cancellation Stripe refused or never settled;
* ``refund_not_completed``: a refund not done in that time, failed at Stripe, or rejected.

Exit status: 0 when there is nothing to report, 1 when there is, 2 when it could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from payment import repository
from payment.domain import AttemptStatus, Desired
from payment.settings import PaymentSettings
from payment.stripe_gateway import StripeCallError, StripeGateway

_HOLDING = ("requires_capture",)
_TAKEN = ("succeeded",)
# Attempts whose hold payment released or is releasing.
_RELEASED = frozenset({AttemptStatus.CANCELLED, AttemptStatus.REFUSED, AttemptStatus.CANCELLING})


@dataclass(frozen=True)
class Finding:
    kind: str
    detail: str
    order_id: str | None = None
    order_number: str | None = None
    payment_intent_id: str | None = None
    stripe_status: str | None = None
    amount_cents: int | None = None

    def line(self) -> str:
        parts = [self.kind]
        if self.order_number or self.order_id:
            parts.append(f"order={self.order_number or self.order_id}")
        if self.payment_intent_id:
            parts.append(f"intent={self.payment_intent_id}")
        if self.stripe_status:
            parts.append(f"stripe={self.stripe_status}")
        if self.amount_cents is not None:
            parts.append(f"amount={self.amount_cents / 100:.2f} EUR")
        return "  ".join(parts) + f"  -- {self.detail}"


async def stripe_findings(
    conn: asyncpg.Connection, gateway: StripeGateway, since: datetime
) -> list[Finding]:
    """Intents at Stripe (created since ``since``) that payment's records do not explain."""
    findings: list[Finding] = []
    threshold = since.timestamp()
    async for intent in gateway.intents(created_since=int(threshold)):
        created = intent.get("created") or 0
        status = str(intent.get("status") or "")
        if created < threshold or status not in _HOLDING + _TAKEN:
            continue
        finding = _intent_finding(
            intent, status, await repository.intent_record(conn, str(intent["id"]))
        )
        if finding is not None:
            findings.append(finding)
    return findings


def _intent_finding(
    intent: dict[str, Any], status: str, record: repository.IntentRecord | None
) -> Finding | None:
    """What an intent holding or having taken money says when payment does not explain it."""
    intent_id = str(intent["id"])
    amount = int(intent.get("amount_received") or intent.get("amount") or 0)
    metadata = intent.get("metadata") or {}
    base: dict[str, Any] = {
        "payment_intent_id": intent_id,
        "stripe_status": status,
        "amount_cents": amount,
    }
    if record is None:
        return Finding(
            "stripe_payment_without_order",
            "money held or taken at Stripe for no order payment knows"
            + (f" (metadata order_id {metadata['order_id']})" if "order_id" in metadata else ""),
            order_id=metadata.get("order_id"),
            **base,
        )
    ours: dict[str, Any] = {
        "order_id": str(record.order_id),
        "order_number": record.order_number,
        **base,
    }
    explained = f"payment records the attempt as {record.status} (order {record.order_state})"
    if status in _HOLDING and (record.status in _RELEASED or record.desired is Desired.CANCELLED):
        return Finding("stripe_hold_not_released", explained, **ours)
    if status in _TAKEN and record.status is not AttemptStatus.CAPTURED:
        return Finding("stripe_capture_not_recorded", explained, **ours)
    return None


def _last_error(problem: str | None) -> str:
    return f"; last error: {problem}" if problem else ""


async def database_findings(conn: asyncpg.Connection, stuck_after: timedelta) -> list[Finding]:
    """Orders, steps and refunds that should have finished by now."""
    cutoff = datetime.now(UTC) - stuck_after
    findings = [
        Finding(
            "order_without_payment_outcome",
            f"authorisation {r.status or 'never started'}" + _last_error(r.problem),
            order_id=str(r.order_id),
            order_number=r.order_number,
            payment_intent_id=r.payment_intent_id,
            amount_cents=r.amount_cents,
        )
        for r in await repository.latest_attempts_of_open_orders(conn)
        if (r.status is None or AttemptStatus(r.status).pending_outcome)
        and (r.updated_at is None or r.updated_at < cutoff)
    ]
    findings += [
        Finding(
            "released_order_not_captured",
            f"released at {r.released_at:%Y-%m-%d %H:%M} UTC, no capture recorded",
            order_id=str(r.order_id),
            order_number=r.order_number,
        )
        for r in await repository.released_not_captured(conn, cutoff)
    ]
    findings += [
        Finding(
            "payment_step_stuck",
            f"{r.status}, wants {r.desired}" + _last_error(r.problem),
            order_id=str(r.order_id),
            order_number=r.order_number,
            payment_intent_id=r.payment_intent_id,
            amount_cents=r.amount_cents,
        )
        for r in await repository.stuck_steps(conn, cutoff)
    ]
    findings += [
        Finding(
            "refund_not_completed",
            f"refund {r.status}" + (f": {r.problem}" if r.problem else ""),
            order_id=str(r.order_id),
            order_number=r.order_number,
            payment_intent_id=r.payment_intent_id,
            amount_cents=r.amount_cents,
        )
        for r in await repository.unfinished_refunds(conn, cutoff)
    ]
    return findings


async def reconcile(
    settings: PaymentSettings, *, since: datetime, stuck_after: timedelta | None = None
) -> list[Finding]:
    """Every finding, Stripe's side first."""
    conn = await asyncpg.connect(settings.database_url.get_secret_value())
    gateway = StripeGateway(settings)
    try:
        findings = await stripe_findings(conn, gateway, since)
        if stuck_after is None:
            stuck_after = timedelta(seconds=settings.stuck_after)
        findings += await database_findings(conn, stuck_after)
    finally:
        await gateway.close()
        await conn.close()
    return findings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m payment.reconcile",
        description="List payments at Stripe that no order explains, and orders stuck "
        "without a payment outcome.",
    )
    parser.add_argument(
        "--since-hours",
        type=float,
        default=24 * 8,
        help="look at Stripe intents created in the last N hours (default 192: a hold lasts 7 "
        "days)",
    )
    parser.add_argument(
        "--stuck-after-minutes",
        type=float,
        default=None,
        help="report what has been waiting longer than this (default: PAYMENT_STUCK_AFTER)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args(argv)
    settings = PaymentSettings()
    since = datetime.now(UTC) - timedelta(hours=args.since_hours)
    stuck_after = (
        timedelta(minutes=args.stuck_after_minutes)
        if args.stuck_after_minutes is not None
        else None
    )
    try:
        findings = asyncio.run(reconcile(settings, since=since, stuck_after=stuck_after))
    except (OSError, asyncpg.PostgresError, StripeCallError) as exc:
        print(f"reconciliation could not run: {exc}", file=sys.stderr)
        return 2
    if args.json:
        document: dict[str, Any] = {
            "checked_at": datetime.now(UTC).isoformat(),
            "since": since.isoformat(),
            "findings": [asdict(f) for f in findings],
        }
        print(json.dumps(document, indent=2))
    else:
        for finding in findings:
            print(finding.line())
        print(f"{len(findings)} finding(s)", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
