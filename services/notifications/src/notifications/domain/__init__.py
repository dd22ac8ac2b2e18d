"""Which email an event gives, to whom, and the rules around it. Pure: no I/O.

- :mod:`.emails`: :func:`plan_emails` maps a customer-facing event to zero or more
  :class:`EmailPlan` (one per template); the use case renders and records each one as a send
  intent.
- :mod:`.rules`: confirmation after a refusal, suppression (erasure), the stable Message-ID,
  deliverable addresses, the status of a new intent (:class:`EmailStatus`) and what a failed
  attempt leads to (retry delay, giving up).
- :mod:`.wording`: French labels of the enums the emails explain (refusal reasons, carriers...).
"""

from __future__ import annotations

from .emails import (
    Attachment,
    EmailPlan,
    LinkUnavailableError,
    Template,
    account_link,
    invoice_filename,
    plan_emails,
)
from .rules import (
    EmailStatus,
    FailureKind,
    FailureOutcome,
    confirmation_allowed,
    failure_outcome,
    gives_up,
    intent_status,
    is_deliverable_address,
    message_id,
    normalise_address,
    recipient_hash,
    retry_delay,
    suppression_lifted,
)
from .wording import (
    CANCELLATION_REASONS,
    CARRIERS,
    CLAIM_KINDS,
    CLAIM_RESOLUTIONS,
    PAYMENT_METHODS,
    REFUND_CAUSES,
    REFUSAL_ADVICE,
    REFUSAL_REASONS,
)

__all__ = [
    "CANCELLATION_REASONS",
    "CARRIERS",
    "CLAIM_KINDS",
    "CLAIM_RESOLUTIONS",
    "PAYMENT_METHODS",
    "REFUND_CAUSES",
    "REFUSAL_ADVICE",
    "REFUSAL_REASONS",
    "Attachment",
    "EmailPlan",
    "EmailStatus",
    "FailureKind",
    "FailureOutcome",
    "LinkUnavailableError",
    "Template",
    "account_link",
    "confirmation_allowed",
    "failure_outcome",
    "gives_up",
    "intent_status",
    "invoice_filename",
    "is_deliverable_address",
    "message_id",
    "normalise_address",
    "plan_emails",
    "recipient_hash",
    "retry_delay",
    "suppression_lifted",
]
