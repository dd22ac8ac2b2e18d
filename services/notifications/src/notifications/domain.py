"""Which email an event gives, to whom, and the rules around it. Pure: no I/O.

- :func:`plan_emails` maps a customer-facing event to zero or more :class:`EmailPlan` (one per
  template); the handler renders and records each one as a send intent. An account link
  (reset, email change, verification) comes sealed for notifications: the plan carries it
  opened with the link sealing key (:class:`jg_events.LinkSealer`, pure computation).
- The Message-ID of an email is derived from (event id, template): every attempt to send the
  same email carries the same Message-ID, so a resend after a crash is recognisable.
- Erasure: the suppression list holds keyed hashes of addresses, never the addresses.
- French labels of the enums the emails explain (refusal reasons, carriers, ...).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from jg_events import (
    Backordered,
    CancellationReason,
    Carrier,
    ClaimKind,
    ClaimOpened,
    ClaimResolution,
    ClaimResolved,
    CustomerErased,
    CustomerErasureRequested,
    CustomerField,
    CustomerRegistered,
    CustomerUpdated,
    Delivered,
    EmailChangeRequested,
    EmailChangeRequestedV1,
    EmailVerificationRequested,
    Event,
    InvoiceIssued,
    InvoiceKind,
    LinkSealer,
    OrderCancelled,
    OrderConfirmed,
    OrderEvent,
    OrderModified,
    OrderProcessing,
    PasswordResetRequested,
    PasswordResetRequestedV1,
    PaymentCancellationReason,
    PaymentCancelled,
    PaymentRefused,
    RefundCause,
    RefundIssued,
    RefusalReason,
    ReturnAccepted,
    ReturnRejected,
    Shipped,
    sealed_link_of,
)

__all__ = [
    "Attachment",
    "EmailPlan",
    "LinkUnavailableError",
    "Template",
    "account_link",
    "confirmation_allowed",
    "gives_up",
    "is_deliverable_address",
    "message_id",
    "plan_emails",
    "recipient_hash",
    "retry_delay",
    "suppression_lifted",
]


class Template(StrEnum):
    """Every email the service sends; the value is the template's file name."""

    ORDER_CONFIRMED = "order_confirmed"
    PAYMENT_REFUSED = "payment_refused"
    ORDER_MODIFIED = "order_modified"
    MODIFICATION_NOT_APPLIED = "modification_not_applied"
    ORDER_CANCELLED = "order_cancelled"
    PAYMENT_RELEASED = "payment_released"
    ORDER_PROCESSING = "order_processing"
    ORDER_BACKORDERED = "order_backordered"
    ORDER_SHIPPED = "order_shipped"
    INVOICE_ISSUED = "invoice_issued"
    CREDIT_NOTE_ISSUED = "credit_note_issued"
    ORDER_DELIVERED = "order_delivered"
    RETURN_ACCEPTED = "return_accepted"
    RETURN_REJECTED = "return_rejected"
    REFUND_ISSUED = "refund_issued"
    CLAIM_OPENED = "claim_opened"
    CLAIM_RESOLVED = "claim_resolved"
    WELCOME = "welcome"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a template name
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a template name
    EMAIL_CHANGE_CONFIRMATION = "email_change_confirmation"
    EMAIL_VERIFICATION = "email_verification"
    EMAIL_CHANGED = "email_changed"
    ERASURE_REQUESTED = "erasure_requested"
    ERASURE_DONE = "erasure_done"


@dataclass(frozen=True)
class Attachment:
    """A document fetched at send time (the invoice PDF on payment's HTTP API)."""

    path: str
    filename: str
    content_type: str = "application/pdf"


@dataclass(frozen=True)
class EmailPlan:
    """One email to write about one event."""

    template: Template
    event: Event
    to_email: str
    to_name: str
    first_name: str
    ordering_key: str
    order_id: UUID | None = None
    customer_id: UUID | None = None
    attachment: Attachment | None = None
    exempt_from_suppression: bool = False
    forget_after_send: bool = False
    link: str | None = None  # the single-use account link, opened (never stored in an event)


# --- From events to emails --------------------------------------------------------------------

_ORDER_TEMPLATES: dict[type[Event], Template] = {
    OrderConfirmed: Template.ORDER_CONFIRMED,
    PaymentRefused: Template.PAYMENT_REFUSED,
    OrderModified: Template.ORDER_MODIFIED,
    OrderCancelled: Template.ORDER_CANCELLED,
    OrderProcessing: Template.ORDER_PROCESSING,
    Backordered: Template.ORDER_BACKORDERED,
    Shipped: Template.ORDER_SHIPPED,
    Delivered: Template.ORDER_DELIVERED,
    ReturnAccepted: Template.RETURN_ACCEPTED,
    ReturnRejected: Template.RETURN_REJECTED,
    RefundIssued: Template.REFUND_ISSUED,
    ClaimOpened: Template.CLAIM_OPENED,
    ClaimResolved: Template.CLAIM_RESOLVED,
}


def _order_plan(event: OrderEvent, template: Template, **extra: object) -> EmailPlan:
    customer = event.customer
    return EmailPlan(
        template=template,
        event=event,
        to_email=customer.email,
        to_name=f"{customer.first_name} {customer.last_name}",
        first_name=customer.first_name,
        ordering_key=f"order:{event.order_id}",
        order_id=event.order_id,
        customer_id=customer.customer_id,
        **extra,  # type: ignore[arg-type]
    )


AccountEvent = (
    CustomerRegistered
    | CustomerUpdated
    | PasswordResetRequested
    | PasswordResetRequestedV1
    | EmailChangeRequested
    | EmailChangeRequestedV1
    | EmailVerificationRequested
    | CustomerErasureRequested
    | CustomerErased
)


class LinkUnavailableError(ValueError):
    """An event's sealed link cannot be opened here (no key given, or another key)."""


def account_link(event: Event, links: LinkSealer | None) -> str | None:
    """The single-use link an account event gives, in clear (``links`` opens sealed ones).

    Version 1 of PasswordResetRequested and EmailChangeRequested carried it in clear; the
    current versions carry it sealed for notifications, bound to the customer and recipient.
    """
    match event:
        case PasswordResetRequestedV1():
            return event.reset_url
        case EmailChangeRequestedV1():
            return event.confirmation_url
    ref = sealed_link_of(event)
    if ref is None:
        return None
    if links is None:
        raise LinkUnavailableError(f"{event.event_type} carries a sealed link and no key opens it")
    try:
        return links.open(
            ref.sealed, purpose=ref.purpose, customer_id=ref.customer_id, recipient=ref.recipient
        )
    except ValueError as error:
        raise LinkUnavailableError(str(error)) from error


def _account_plan(
    event: AccountEvent,
    template: Template,
    *,
    to_email: str | None = None,
    last_name: str | None = None,
    **extra: object,
) -> EmailPlan:
    name = f"{event.first_name} {last_name}" if last_name else event.first_name
    return EmailPlan(
        template=template,
        event=event,
        to_email=to_email or event.email,
        to_name=name,
        first_name=event.first_name,
        ordering_key=f"customer:{event.customer_id}",
        customer_id=event.customer_id,
        **extra,  # type: ignore[arg-type]
    )


def invoice_filename(event: InvoiceIssued) -> str:
    kind = "facture" if event.kind is InvoiceKind.INVOICE else "avoir"
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", event.invoice_number)
    return f"{kind}-{safe}.pdf"


def plan_emails(event: Event, links: LinkSealer | None = None) -> list[EmailPlan]:
    """The emails ``event`` gives (none for events the customer is not told about).

    ``links`` opens the sealed link of account events (:class:`LinkUnavailableError` if it
    cannot: no key, or another key than accounts').
    """
    match event:
        case PaymentCancelled(reason=reason):
            # A superseded hold (a modification re-authorised) or an expiry is no news for
            # the customer; only a cancellation of the order releases the hold they saw.
            if reason is PaymentCancellationReason.ORDER_CANCELLED:
                return [_order_plan(event, Template.PAYMENT_RELEASED)]
            return []
        case OrderModified(restores_authorized_revision=int()):
            # A raised total never authenticated (3-D Secure): the modification was undone.
            return [_order_plan(event, Template.MODIFICATION_NOT_APPLIED)]
        case InvoiceIssued():
            template = (
                Template.INVOICE_ISSUED
                if event.kind is InvoiceKind.INVOICE
                else Template.CREDIT_NOTE_ISSUED
            )
            attachment = Attachment(path=event.download_path, filename=invoice_filename(event))
            return [_order_plan(event, template, attachment=attachment)]
        case OrderEvent() if type(event) in _ORDER_TEMPLATES:
            return [_order_plan(event, _ORDER_TEMPLATES[type(event)])]
        case CustomerRegistered():
            # With the link that verifies the address when accounts gave one.
            return [
                _account_plan(
                    event,
                    Template.WELCOME,
                    last_name=event.last_name,
                    link=account_link(event, links),
                )
            ]
        case PasswordResetRequested() | PasswordResetRequestedV1():
            return [_account_plan(event, Template.PASSWORD_RESET, link=account_link(event, links))]
        case EmailChangeRequested() | EmailChangeRequestedV1():
            # Only the new address, which must confirm; the current one is warned once the
            # change is confirmed (CustomerUpdated -> EMAIL_CHANGED), not at the request.
            return [
                _account_plan(
                    event,
                    Template.EMAIL_CHANGE_CONFIRMATION,
                    to_email=event.new_email,
                    link=account_link(event, links),
                )
            ]
        case EmailVerificationRequested():
            return [
                _account_plan(event, Template.EMAIL_VERIFICATION, link=account_link(event, links))
            ]
        case CustomerUpdated():
            plans = []
            if CustomerField.EMAIL in event.changed_fields and event.previous_email:
                # The security notice goes to the address that is no longer in use.
                plans.append(
                    _account_plan(
                        event,
                        Template.EMAIL_CHANGED,
                        to_email=event.previous_email,
                        last_name=event.last_name,
                    )
                )
            if CustomerField.PASSWORD in event.changed_fields:
                plans.append(
                    _account_plan(event, Template.PASSWORD_CHANGED, last_name=event.last_name)
                )
            return plans
        case CustomerErasureRequested():
            return [
                _account_plan(
                    event,
                    Template.ERASURE_REQUESTED,
                    exempt_from_suppression=True,
                    forget_after_send=True,
                )
            ]
        case CustomerErased():
            return [
                _account_plan(
                    event,
                    Template.ERASURE_DONE,
                    exempt_from_suppression=True,
                    forget_after_send=True,
                )
            ]
        case _:
            return []


# --- Rules ------------------------------------------------------------------------------------


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
    base = min(maximum, first * 2 ** max(0, attempt - 1))
    return max(0.0, base * (1 + 0.2 * max(-1.0, min(1.0, jitter))))


def gives_up(*, outage: bool, deferred_for: float, give_up_after: float) -> bool:
    """Does this transient failure end the email (``failed``, ``expired``)?

    Only when the relay answered about this very message and has kept deferring it (a 4xx to
    RCPT or DATA) for ``give_up_after`` seconds (``deferred_for``: since its first deferral).
    An outage (the relay or payment unreachable, or refusing everything) never does: however
    long it lasts, the email only waits.
    """
    return not outage and deferred_for >= give_up_after


# --- French wording of what events say in codes -------------------------------------------------

REFUSAL_REASONS: dict[RefusalReason, str] = {
    RefusalReason.INCORRECT_CARD_DETAILS: "les coordonnées bancaires saisies sont incorrectes "
    "(numéro de carte, date d'expiration ou cryptogramme visuel)",
    RefusalReason.LIMIT_REACHED: "le plafond de paiement de votre carte est atteint",
    RefusalReason.INSUFFICIENT_FUNDS: "les fonds disponibles sur votre compte sont insuffisants",
    RefusalReason.AUTHENTICATION_FAILED: "l'authentification du paiement (3-D Secure) n'a pas "
    "abouti",
    RefusalReason.UNSUPPORTED_METHOD: "ce moyen de paiement ne fait pas partie de ceux que "
    "propose notre boutique (cartes Visa, Mastercard et Maestro, ainsi que Revolut Pay)",
    RefusalReason.OTHER: "votre banque a refusé le paiement sans nous en préciser la raison",
}

REFUSAL_ADVICE: dict[RefusalReason, str] = {
    RefusalReason.INCORRECT_CARD_DETAILS: "Vérifiez le numéro, la date d'expiration et le "
    "cryptogramme de votre carte avant de réessayer.",
    RefusalReason.LIMIT_REACHED: "Votre banque peut relever temporairement ce plafond, ou "
    "vous pouvez utiliser un autre moyen de paiement.",
    RefusalReason.INSUFFICIENT_FUNDS: "Vous pouvez utiliser une autre carte ou Revolut Pay, "
    "ou réessayer une fois votre compte approvisionné.",
    RefusalReason.AUTHENTICATION_FAILED: "Lors de votre prochaine tentative, gardez votre "
    "téléphone à portée de main pour valider le paiement dans l'application ou par le code "
    "reçu de votre banque.",
    RefusalReason.UNSUPPORTED_METHOD: "Choisissez une carte Visa, Mastercard ou Maestro, ou "
    "Revolut Pay.",
    RefusalReason.OTHER: "Votre banque pourra vous indiquer la raison de ce refus.",
}

CANCELLATION_REASONS: dict[CancellationReason, str] = {
    CancellationReason.CUSTOMER_REQUEST: "à votre demande",
    CancellationReason.CUSTOMER_SERVICE: "par notre service client",
    CancellationReason.PAYMENT_NOT_COMPLETED: "car le paiement n'a pas été finalisé "
    "(l'authentification demandée par votre banque n'a pas été effectuée)",
    CancellationReason.OTHER: "",
}

CARRIERS: dict[Carrier, str] = {
    Carrier.JAPAN_POST_EMS: "Japan Post (EMS)",
    Carrier.DHL: "DHL Express",
    Carrier.FEDEX: "FedEx",
    Carrier.UPS: "UPS",
    Carrier.COLISSIMO: "Colissimo",
    Carrier.CHRONOPOST: "Chronopost",
}

CLAIM_KINDS: dict[ClaimKind, str] = {
    ClaimKind.MISSING_ITEM: "article manquant",
    ClaimKind.DAMAGED_ITEM: "article endommagé",
}

CLAIM_RESOLUTIONS: dict[ClaimResolution, str] = {
    ClaimResolution.RESHIP: "nous vous renvoyons les articles concernés",
    ClaimResolution.REFUND: "nous vous remboursons les articles concernés",
    ClaimResolution.REJECTED: "nous ne sommes malheureusement pas en mesure d'y donner une "
    "suite favorable",
}

REFUND_CAUSES: dict[RefundCause, str] = {
    RefundCause.RETURN: "votre retour",
    RefundCause.CLAIM: "votre réclamation",
}

PAYMENT_METHODS: dict[str, str] = {"card": "carte bancaire", "revolut_pay": "Revolut Pay"}
