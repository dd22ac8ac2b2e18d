"""PostgreSQL access (asyncpg, plain SQL). Every function takes a connection and returns
typed rows (:mod:`payment.repository.rows`), never asyncpg records.

Queries are assembled only from constant fragments (a lock clause, a column list), never from
input: every value travels as a bind parameter. Split by aggregate: ``orders``, ``attempts``,
``refunds``, ``webhooks`` (Stripe events received), ``invoices``.
"""

from payment.repository.attempts import (
    attempt_of_intent,
    attempt_of_revision,
    attempts_of_order,
    attempts_to_resume,
    claim_attempt,
    get_attempt,
    insert_attempt,
    reauthorisations_waiting_since,
    update_attempt,
)
from payment.repository.invoices import (
    DocumentBuilder,
    NewDocument,
    credit_note_of_refund,
    invoice_by_number,
    invoice_of_order,
    invoice_pdf,
    issue_document,
)
from payment.repository.orders import (
    PLACEHOLDER_ADDRESS,
    erase_if_customer_erased,
    get_order,
    insert_order,
    pseudonymise_customer,
    set_order_state,
    set_stripe_customer,
    update_order_snapshot,
)
from payment.repository.reconciliation import (
    IntentRecord,
    Unfinished,
    intent_record,
    latest_attempts_of_open_orders,
    released_not_captured,
    stuck_steps,
    unfinished_refunds,
)
from payment.repository.refunds import (
    claim_refund,
    get_refund,
    insert_refund,
    refund_of_stripe_id,
    refunded_cents,
    refunds_awaiting_capture,
    refunds_of_intent,
    refunds_to_resume,
    update_refund,
)
from payment.repository.rows import (
    AttemptRow,
    InvoiceRow,
    OrderRow,
    RefundRow,
)
from payment.repository.webhooks import (
    record_webhook_event,
    set_webhook_outcome,
)

__all__ = [
    "PLACEHOLDER_ADDRESS",
    "AttemptRow",
    "DocumentBuilder",
    "IntentRecord",
    "InvoiceRow",
    "NewDocument",
    "OrderRow",
    "RefundRow",
    "Unfinished",
    "attempt_of_intent",
    "attempt_of_revision",
    "attempts_of_order",
    "attempts_to_resume",
    "claim_attempt",
    "claim_refund",
    "credit_note_of_refund",
    "erase_if_customer_erased",
    "get_attempt",
    "get_order",
    "get_refund",
    "insert_attempt",
    "insert_order",
    "insert_refund",
    "intent_record",
    "invoice_by_number",
    "invoice_of_order",
    "invoice_pdf",
    "issue_document",
    "latest_attempts_of_open_orders",
    "pseudonymise_customer",
    "reauthorisations_waiting_since",
    "record_webhook_event",
    "refund_of_stripe_id",
    "refunded_cents",
    "refunds_awaiting_capture",
    "refunds_of_intent",
    "refunds_to_resume",
    "released_not_captured",
    "set_order_state",
    "set_stripe_customer",
    "set_webhook_outcome",
    "stuck_steps",
    "unfinished_refunds",
    "update_attempt",
    "update_order_snapshot",
    "update_refund",
]
