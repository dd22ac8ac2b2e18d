"""Which email an event gives, to whom: :func:`plan_emails`. Pure: no I/O.

An account link (reset, email change, verification) comes sealed for notifications: the plan
carries it opened with the link sealing key (:class:`jg_events.LinkSealer`, pure computation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from jg_events import (
    Backordered,
    ClaimOpened,
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
    RefundIssued,
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
    "invoice_filename",
    "plan_emails",
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


def _order_plan(
    event: OrderEvent, template: Template, *, attachment: Attachment | None = None
) -> EmailPlan:
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
        attachment=attachment,
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
    link: str | None = None,
    erasure: bool = False,
) -> EmailPlan:
    """``erasure``: the acknowledgement or confirmation of an erasure, exempt from the
    suppression, forgetting its own address once sent."""
    name = f"{event.first_name} {last_name}" if last_name else event.first_name
    return EmailPlan(
        template=template,
        event=event,
        to_email=to_email or event.email,
        to_name=name,
        first_name=event.first_name,
        ordering_key=f"customer:{event.customer_id}",
        customer_id=event.customer_id,
        link=link,
        exempt_from_suppression=erasure,
        forget_after_send=erasure,
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
    if isinstance(event, OrderEvent):
        return _order_emails(event)
    return _account_emails(event, links)


def _order_emails(event: OrderEvent) -> list[EmailPlan]:
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
        case _ if type(event) in _ORDER_TEMPLATES:
            return [_order_plan(event, _ORDER_TEMPLATES[type(event)])]
        case _:
            return []


def _account_emails(event: Event, links: LinkSealer | None) -> list[EmailPlan]:
    match event:
        case CustomerRegistered():
            # With the link that verifies the address when accounts gave one.
            link = account_link(event, links)
            return [_account_plan(event, Template.WELCOME, last_name=event.last_name, link=link)]
        case PasswordResetRequested() | PasswordResetRequestedV1():
            return [_account_plan(event, Template.PASSWORD_RESET, link=account_link(event, links))]
        case EmailChangeRequested() | EmailChangeRequestedV1():
            # Only the new address, which must confirm; the current one is warned once the
            # change is confirmed (CustomerUpdated -> EMAIL_CHANGED), not at the request.
            template, to_email = Template.EMAIL_CHANGE_CONFIRMATION, event.new_email
            link = account_link(event, links)
            return [_account_plan(event, template, to_email=to_email, link=link)]
        case EmailVerificationRequested():
            link = account_link(event, links)
            return [_account_plan(event, Template.EMAIL_VERIFICATION, link=link)]
        case CustomerUpdated():
            return _profile_change_emails(event)
        case CustomerErasureRequested():
            return [_account_plan(event, Template.ERASURE_REQUESTED, erasure=True)]
        case CustomerErased():
            return [_account_plan(event, Template.ERASURE_DONE, erasure=True)]
        case _:
            return []


def _profile_change_emails(event: CustomerUpdated) -> list[EmailPlan]:
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
        plans.append(_account_plan(event, Template.PASSWORD_CHANGED, last_name=event.last_name))
    return plans
