"""The rules around an email: confirmation after a refusal, suppression, Message-ID, address,
the status of a new intent and the outcome of a failed attempt. Pure: no I/O.

- The Message-ID of an email is derived from (event id, template): every attempt to send the
  same email carries the same Message-ID, so a resend after a crash is recognisable.
- Erasure: the suppression list holds keyed hashes of addresses, never the addresses.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from jg_events import (
    CustomerRegistered,
    EmailChangeRequested,
    EmailChangeRequestedV1,
    Event,
    OrderConfirmed,
)

__all__ = [
    "EmailStatus",
    "FailureKind",
    "FailureOutcome",
    "confirmation_allowed",
    "failure_outcome",
    "gives_up",
    "intent_status",
    "is_deliverable_address",
    "message_id",
    "normalise_address",
    "recipient_hash",
    "retry_delay",
    "suppression_lifted",
]


class EmailStatus(StrEnum):
    """Where an email stands (``notification_emails.status``)."""

    PENDING = "pending"  # to send (the dispatcher claims it when due)
    SENT = "sent"
    FAILED = "failed"  # never sent: see FailureKind
    SUPPRESSED = "suppressed"  # not sent: the address or the account asked for erasure


class FailureKind(StrEnum):
    """Why an email ended ``failed`` (``notification_emails.failure_kind``)."""

    INVALID_ADDRESS = "invalid_address"  # not deliverable: never handed to the relay
    PERMANENT = "permanent"  # the relay refused it (5xx)
    EXPIRED = "expired"  # the relay kept deferring it (4xx) for ``give_up_after``


class FailureOutcome(StrEnum):
    """What a failed attempt to send leads to."""

    FAILED = "failed"  # permanently
    EXPIRED = "expired"  # given up after deferrals
    RETRY = "retry"  # tried again later


def intent_status(
    *, address_suppressed: bool, account_erased: bool, exempt: bool, deliverable: bool
) -> EmailStatus:
    """The status a new send intent is recorded with.

    Suppressed when its address or its account asked for erasure (unless the email is exempt:
    the erasure acknowledgement and confirmation); failed when the address cannot be delivered
    to; pending (to send) otherwise.
    """
    if (address_suppressed or account_erased) and not exempt:
        return EmailStatus.SUPPRESSED
    if not deliverable:
        return EmailStatus.FAILED
    return EmailStatus.PENDING


def failure_outcome(
    *, permanent: bool, outage: bool, deferred_for: float, give_up_after: float
) -> FailureOutcome:
    """A permanent failure ends the email; a deferral that lasted ``give_up_after`` too
    (:func:`gives_up`); anything else is tried again."""
    if permanent:
        return FailureOutcome.FAILED
    if gives_up(outage=outage, deferred_for=deferred_for, give_up_after=give_up_after):
        return FailureOutcome.EXPIRED
    return FailureOutcome.RETRY


def confirmation_allowed(confirmed_revision: int, refused_revision: int | None) -> bool:
    """A confirmation never follows a refused payment of the same (or a later) revision."""
    return refused_revision is None or refused_revision < confirmed_revision


def suppression_lifted(requested_at: datetime, event: Event, occurred_at: datetime) -> bool:
    """True when the customer gave us the address again after asking for erasure.

    A new account with the same address, a customer asking to move their account to it, or a
    new order placed with it, is a new relationship: its emails (the confirmation link the
    address must follow, the order confirmation that is a legal duty) must go out again.
    """
    if isinstance(event, CustomerRegistered | EmailChangeRequested | EmailChangeRequestedV1):
        return occurred_at > requested_at
    if isinstance(event, OrderConfirmed):
        return event.placed_at > requested_at
    return False


def message_id(event_id: UUID, template: str, domain: str) -> str:
    """The stable Message-ID of the email ``template`` about event ``event_id``."""
    return f"<{uuid5(_MESSAGE_ID_NAMESPACE, f'{event_id}/{template}')}@{domain}>"


_MESSAGE_ID_NAMESPACE = UUID("8d1c43a4-5a61-4c33-9d8e-7c0b0f6a0a61")


def normalise_address(address: str) -> str:
    return address.strip().lower()


def recipient_hash(address: str, key: bytes) -> str:
    """Keyed hash of an address: lets us recognise it without keeping it."""
    return hmac.new(key, normalise_address(address).encode(), hashlib.sha256).hexdigest()


_LOCAL = r"[^\s@\"(),:;<>\[\]\\.]+(?:\.[^\s@\"(),:;<>\[\]\\.]+)*"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_ADDRESS = re.compile(rf"^{_LOCAL}@(?:{_LABEL}\.)+[^\W\d_]{{2,63}}$")


_NEVER_DELIVERED_TLDS = frozenset({"invalid"})
"""RFC 6761: ``.invalid`` never resolves; it is the pseudonym domain of erased customers."""


def is_deliverable_address(address: str) -> bool:
    """A syntactically deliverable address (the relay decides the rest with a 5xx).

    Not an address at ``.invalid``: checkout, payment and fulfillment put such a pseudonym
    in place of an erased customer's email, and events about their orders still carry it.
    """
    return (
        len(address) <= 254
        and address.isprintable()
        and _ADDRESS.match(address) is not None
        and address.rsplit(".", 1)[-1].lower() not in _NEVER_DELIVERED_TLDS
    )


def retry_delay(attempt: int, *, first: float, maximum: float, jitter: float = 0.0) -> float:
    """Seconds to wait after the ``attempt``-th transient failure (exponential, capped).

    ``jitter`` in [-1, 1] spreads retries by up to 20 % so a recovered relay is not hit by
    every queued email at the same instant.
    """
    factor: int = 2 ** max(0, attempt - 1)
    base = min(maximum, first * factor)
    return max(0.0, base * (1 + 0.2 * max(-1.0, min(1.0, jitter))))


def gives_up(*, outage: bool, deferred_for: float, give_up_after: float) -> bool:
    """Does this transient failure end the email (``failed``, ``expired``)?

    Only when the relay answered about this very message and has kept deferring it (a 4xx to
    RCPT or DATA) for ``give_up_after`` seconds (``deferred_for``: since its first deferral).
    An outage (the relay or payment unreachable, or refusing everything) never does: however
    long it lasts, the email only waits.
    """
    return not outage and deferred_for >= give_up_after
