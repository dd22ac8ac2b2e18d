"""Payment's events: Stripe outcomes, captures, refunds, invoices (``jg.payment.payments``).

All keyed by order id. Amounts are euros TTC. Stripe ids are kept as Stripe wrote them.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field, StringConstraints, model_validator

from jg_events.common import HttpUrl, OrderEvent, PaymentMethodType, RefundCause
from jg_events.money import Money
from jg_events.topics import Topic

__all__ = [
    "InvoiceIssued",
    "InvoiceKind",
    "PaymentActionRequired",
    "PaymentAuthenticationExpired",
    "PaymentAuthorized",
    "PaymentCancellationReason",
    "PaymentCancelled",
    "PaymentCaptured",
    "PaymentRefused",
    "RefundIssued",
    "RefusalReason",
]

_StripeId = Annotated[str, StringConstraints(min_length=1, max_length=255)]
_StripeCode = Annotated[str, StringConstraints(min_length=1, max_length=100)]
_ClientSecret = Annotated[
    str, StringConstraints(pattern=r"^pi_[A-Za-z0-9]+_secret_[A-Za-z0-9]+$", max_length=255)
]
InvoiceNumber = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class PaymentEvent(OrderEvent):
    """Base of payment events about an order's PaymentIntent."""

    topic: ClassVar[Topic] = Topic.PAYMENT_PAYMENTS

    payment_intent_id: _StripeId = Field(description="Stripe PaymentIntent id ('pi_...').")
    amount: Money = Field(description="Amount of the PaymentIntent concerned, TTC.")


class PaymentAuthorized(PaymentEvent):
    """Stripe authorised the amount (a hold, capture_method=manual).

    Producer: payment, after confirming the PaymentIntent on OrderPlaced (or re-authorising on
    OrderModified), directly or from a Stripe webhook (3-D Secure completed).
    Consumers: checkout (confirms the order: OrderConfirmed, for the first authorisation of the
    current revision), accounts.
    """

    event_type: ClassVar[str] = "PaymentAuthorized"
    schema_version: ClassVar[int] = 1

    order_revision: int = Field(
        ge=0, strict=True, description="Order revision whose total was authorised."
    )
    payment_method_type: PaymentMethodType = Field(description="'card' or 'revolut_pay'.")
    card_brand: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        default=None, description="Card brand as Stripe names it ('visa', 'mastercard', ...)."
    )
    card_last4: Annotated[str, StringConstraints(pattern=r"^\d{4}$")] | None = Field(
        default=None, description="Last four digits of the card, for the customer's reference."
    )


class PaymentActionRequired(PaymentEvent):
    """Stripe needs the customer to act (3-D Secure): not a failure, a state.

    Producer: payment, when the PaymentIntent's status is ``requires_action``.
    Consumers: checkout (exposes the next step to the storefront on ``GET /orders/{id}``: the
    URL, and the intent's id and client secret Stripe.js needs, to the order's owner only and
    only while the authentication is pending).

    ``client_secret`` lets a browser finish this one intent with the publishable key (Stripe.js
    ``handleNextAction``); it is never logged (left out of the event's repr) and never put in
    a URL.
    """

    event_type: ClassVar[str] = "PaymentActionRequired"
    schema_version: ClassVar[int] = 1

    order_revision: int = Field(ge=0, strict=True, description="Order revision being authorised.")
    next_action_type: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="Stripe's next_action.type, e.g. 'redirect_to_url' or 'use_stripe_sdk'."
    )
    next_action_url: HttpUrl = Field(
        description="Where the customer completes the authentication (3-D Secure page)."
    )
    client_secret: _ClientSecret | None = Field(
        default=None,
        repr=False,
        description="The PaymentIntent's client secret, for Stripe.js "
        "(stripe.handleNextAction({clientSecret})); null from older producers. Show it only "
        "to the order's owner; never log it.",
    )


class PaymentAuthenticationExpired(PaymentEvent):
    """A re-authorisation stayed unauthenticated (3-D Secure) past payment's timeout.

    Producer: payment, when the intent of a modified order's new total still waits for the
    customer's authentication ``PAYMENT_REAUTHORISATION_TIMEOUT`` after it was asked, while the
    hold of an earlier revision still stands. The waiting intent is cancelled (its
    PaymentCancelled follows, reason ``superseded``); the earlier hold is kept.
    Consumers: checkout (puts the order back on the lines and shipping method the standing hold
    covers, so it is released on time, and tells the customer through OrderModified).
    ``payment_intent_id`` and ``amount`` are the abandoned intent's.
    """

    event_type: ClassVar[str] = "PaymentAuthenticationExpired"
    schema_version: ClassVar[int] = 1

    order_revision: int = Field(
        ge=0, strict=True, description="Order revision whose authorisation was abandoned."
    )
    held_revision: int = Field(
        ge=0, strict=True, description="Order revision whose hold still stands."
    )
    held_amount: Money = Field(description="Amount of the hold that still stands, TTC.")


class RefusalReason(StrEnum):
    """Why a payment was refused, in the FAQ's words (mapped from Stripe's codes)."""

    INCORRECT_CARD_DETAILS = "incorrect_card_details"
    LIMIT_REACHED = "limit_reached"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    AUTHENTICATION_FAILED = "authentication_failed"
    UNSUPPORTED_METHOD = "unsupported_method"
    OTHER = "other"


class PaymentRefused(OrderEvent):
    """The payment was refused; the order ends and no confirmation is ever sent.

    Producer: payment, on a decline, a failed 3-D Secure, an unsupported card brand, or a
    ``payment_intent.payment_failed`` webhook.
    Consumers: checkout (ends the order with the reason), notifications (the refusal email,
    explaining the reason in French and advising to check with the bank), accounts.
    """

    event_type: ClassVar[str] = "PaymentRefused"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[Topic] = Topic.PAYMENT_PAYMENTS

    payment_intent_id: _StripeId | None = Field(
        default=None,
        description="Stripe PaymentIntent id, null when refused before one was created "
        "(e.g. unsupported method).",
    )
    amount: Money = Field(description="Amount that was to be authorised, TTC.")
    order_revision: int = Field(
        ge=0, strict=True, description="Order revision whose payment was refused."
    )
    payment_method_type: PaymentMethodType = Field(description="'card' or 'revolut_pay'.")
    reason: RefusalReason = Field(description="The refusal reason shown to the customer.")
    stripe_error_code: _StripeCode | None = Field(
        default=None, description="Stripe's error code, raw (e.g. 'card_declined')."
    )
    stripe_decline_code: _StripeCode | None = Field(
        default=None, description="Stripe's decline code, raw (e.g. 'insufficient_funds')."
    )
    stripe_message: Annotated[str, StringConstraints(max_length=1000)] | None = Field(
        default=None, description="Stripe's message (English, for support; not for customers)."
    )


class PaymentCaptured(PaymentEvent):
    """The held amount was captured: the money is taken.

    Producer: payment, on OrderReleased (capture does not wait for stock: a hold lasts ~7 days).
    Consumers: checkout and accounts (status). No email.
    """

    event_type: ClassVar[str] = "PaymentCaptured"
    schema_version: ClassVar[int] = 1


class PaymentCancellationReason(StrEnum):
    """Why a PaymentIntent was cancelled."""

    ORDER_CANCELLED = "order_cancelled"
    SUPERSEDED = "superseded"  # replaced by a new authorisation after OrderModified
    AUTHORIZATION_EXPIRED = "authorization_expired"
    OTHER = "other"


class PaymentCancelled(PaymentEvent):
    """A PaymentIntent was cancelled: its hold is released, nothing was captured.

    Producer: payment, on OrderCancelled before release, or when a re-authorisation supersedes
    the previous hold.
    Consumers: checkout and accounts (status); notifications may mention the released hold for
    ``order_cancelled`` (never for ``superseded``).
    """

    event_type: ClassVar[str] = "PaymentCancelled"
    schema_version: ClassVar[int] = 1

    reason: PaymentCancellationReason = Field(description="Why the intent was cancelled.")
    order_revision: int | None = Field(
        default=None,
        ge=0,
        strict=True,
        description="Order revision whose hold this intent was; null from older producers. "
        "A hold of an amount the order has since changed does not end the order.",
    )


class RefundIssued(PaymentEvent):
    """Stripe refunded an amount to the customer.

    Producer: payment, on RefundRequested (an accepted return received, or a claim resolved by
    refund), confirmed by Stripe (``charge.refund.*``). A credit note follows (InvoiceIssued,
    kind ``credit_note``).
    Consumers: notifications (refund email), accounts, fulfillment (closes the return or claim).
    ``amount`` is the amount refunded; ``payment_intent_id`` the intent it was taken from.
    """

    event_type: ClassVar[str] = "RefundIssued"
    schema_version: ClassVar[int] = 1

    refund_request_id: UUID = Field(
        description="Id of the RefundRequested this answers (idempotency key at Stripe)."
    )
    refund_id: _StripeId = Field(description="Stripe Refund id ('re_...').")
    cause: RefundCause = Field(description="'return' or 'claim'.")
    reference_id: UUID = Field(description="The return id or claim id refunded.")


class InvoiceKind(StrEnum):
    """Invoice or credit note (both in the same numbering series)."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceIssued(OrderEvent):
    """An invoice (at shipment) or a credit note (after a refund) was issued.

    Producer: payment, after allocating the next number of the continuous series and storing
    the PDF, on Shipped (invoice) or a refund (credit note).
    Consumers: notifications (invoice email with the PDF, fetched from ``download_path`` on
    payment's HTTP API), accounts ("Mes commandes et factures").
    """

    event_type: ClassVar[str] = "InvoiceIssued"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[Topic] = Topic.PAYMENT_PAYMENTS

    invoice_number: InvoiceNumber = Field(
        description="Number in the continuous chronological series, e.g. 'F-2026-000042'."
    )
    kind: InvoiceKind = Field(description="'invoice' or 'credit_note'.")
    corrects_invoice_number: InvoiceNumber | None = Field(
        default=None, description="For a credit note: the invoice it corrects."
    )
    issue_date: date = Field(description="Date of issue printed on the document.")
    total_excl_vat: Money = Field(description="Total excluding VAT (HT).")
    total_vat: Money = Field(description="Total VAT.")
    total_incl_vat: Money = Field(description="Total including VAT (TTC).")
    download_path: Annotated[str, StringConstraints(pattern=r"^/[^\s]*$", max_length=512)] = Field(
        description="Path of the PDF on payment's HTTP API, e.g. "
        "'/invoices/F-2026-000042.pdf' (for the customer or an internal caller)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> InvoiceIssued:
        if self.total_incl_vat != self.total_excl_vat + self.total_vat:
            raise ValueError("total_incl_vat must equal total_excl_vat + total_vat")
        if (self.kind is InvoiceKind.CREDIT_NOTE) != (self.corrects_invoice_number is not None):
            raise ValueError("a credit note, and only a credit note, names the invoice it corrects")
        return self


PAYMENT_EVENTS = (
    PaymentAuthorized,
    PaymentActionRequired,
    PaymentAuthenticationExpired,
    PaymentRefused,
    PaymentCaptured,
    PaymentCancelled,
    RefundIssued,
    InvoiceIssued,
)
