"""Payment rules: pure and synchronous (no I/O), unit tested.

A *payment attempt* is one Stripe PaymentIntent for one revision of an order. Its ``status`` is
what Stripe last told us about the intent; its ``desired`` state is what the order needs
(authorised, captured, cancelled). Every answer from Stripe (the reply to a call, a webhook, a
read-back) is an :class:`IntentView` fed to :func:`transition`, which moves the attempt only
forward and says which domain event, if any, the move publishes. So a webhook that repeats what
a call already told us, or arrives late, changes nothing.

Split by subject: ``money`` (cents, idempotency keys), ``refusals``, ``intents`` (what Stripe
says), ``attempts`` (states and moves), ``refunds``, ``orders`` (the order events' decisions).
"""

from payment.domain.attempts import (
    Action,
    AttemptStatus,
    Desired,
    Outcome,
    Source,
    Transition,
    call_to_make,
    cancellation_reason,
    capture_amount,
    next_action,
    publishes_outcome,
    reauthorisation_expired,
    refused,
    standing_hold,
    transition,
)
from payment.domain.documents import may_read_document
from payment.domain.intents import (
    IntentView,
    NextAction,
    WebhookOutcome,
    next_action_url,
    usable_client_secret,
)
from payment.domain.money import (
    CURRENCY,
    Step,
    from_cents,
    idempotency_key,
    refund_idempotency_key,
    to_cents,
)
from payment.domain.orders import (
    Attempt,
    CancelStep,
    OrderState,
    covered_by_hold,
    hold_to_capture,
    on_order_cancelled,
    paying_attempt,
    superseded,
    superseding_reason,
)
from payment.domain.refunds import (
    RefundCall,
    RefundMove,
    RefundStatus,
    refund_call,
    refund_decision,
    refund_move,
    refund_problem,
    refund_status_of,
)
from payment.domain.refusals import (
    Refusal,
    check_payment_method,
    refusal_reason,
)

__all__ = [
    "CURRENCY",
    "Action",
    "Attempt",
    "AttemptStatus",
    "CancelStep",
    "Desired",
    "IntentView",
    "NextAction",
    "OrderState",
    "Outcome",
    "RefundCall",
    "RefundMove",
    "RefundStatus",
    "Refusal",
    "Source",
    "Step",
    "Transition",
    "WebhookOutcome",
    "call_to_make",
    "cancellation_reason",
    "capture_amount",
    "check_payment_method",
    "covered_by_hold",
    "from_cents",
    "hold_to_capture",
    "idempotency_key",
    "may_read_document",
    "next_action",
    "next_action_url",
    "on_order_cancelled",
    "paying_attempt",
    "publishes_outcome",
    "reauthorisation_expired",
    "refund_call",
    "refund_decision",
    "refund_idempotency_key",
    "refund_move",
    "refund_problem",
    "refund_status_of",
    "refusal_reason",
    "refused",
    "standing_hold",
    "superseded",
    "superseding_reason",
    "to_cents",
    "transition",
    "usable_client_secret",
]
