"""Customer service (the console): an order's payment events and its documents."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from payment import repository
from payment.context import Context
from payment.domain.history import AttemptFacts, PaymentEvent, RefundFacts, payment_events
from payment.repository import history
from payment.repository.rows import AttemptRow, InvoiceRow


@dataclass(frozen=True)
class OrderPayments:
    events: list[PaymentEvent]
    documents: list[InvoiceRow]


def _facts(a: AttemptRow) -> AttemptFacts:
    return AttemptFacts(
        revision=a.revision,
        amount_cents=a.amount_cents,
        status=a.status,
        created_at=a.created_at,
        updated_at=a.updated_at,
        action_required_at=a.action_required_at,
        refusal_reason=a.refusal_reason,
        captured_cents=a.captured_cents,
        cancel_reason=a.cancel_reason,
        card=f"{a.card_brand} •••• {a.card_last4}" if a.card_brand and a.card_last4 else None,
    )


async def order_payments(ctx: Context, order_id: UUID) -> OrderPayments:
    async with ctx.pool.acquire() as conn:
        attempts = await repository.attempts_of_order(conn, order_id)
        refunds = await history.refunds_of_order(conn, order_id)
        documents = await history.documents_of_order(conn, order_id)
    facts = [
        RefundFacts(r.amount_cents, r.status, r.cause, r.created_at, r.updated_at, r.problem)
        for r in refunds
    ]
    return OrderPayments(payment_events([_facts(a) for a in attempts], facts), documents)
