"""Checkout's rules: pricing, order numbers, the delivery estimate and the order's life.

Pure and synchronous: no I/O. A use case loads an :class:`Order`, calls one function here, then
persists the new order, its timeline entries and the events it returns (:class:`Outcome`).

Life of an order (statuses)::

    pending_payment ──PaymentActionRequired──> payment_action_required
        │  └──────────────PaymentAuthorized──────────┐        │
        │                                            v        v
        ├──PaymentRefused──> payment_refused    confirmed <───┘ (PaymentAuthorized)
        ├──cancel──> cancelled <──cancel───────────  │  (PATCH: modified, still confirmed)
        │                                            │ release_at reached, amount authorised
        │                                            v
        │                                        released ──> backordered ──> processing
        │                                                         shipped ──> delivered

An order can be modified only while ``confirmed`` and cancelled while it is not yet released
(``pending_payment``, ``payment_action_required``, ``confirmed``). ``released`` and every later
status are past the hand-off: both are refused with the reason.

Modules: ``errors`` (422 problems, 409 conflicts), ``pricing`` (catalogue, VAT, totals,
shipping, addresses), ``delivery`` (the estimate, jg_web's business days), ``order`` (the order,
its statuses, :class:`Outcome`, placement), ``commands`` (a request checked before anything is
written, who may act), ``payments`` (payment outcomes), ``window`` (cancel, modify),
``release`` (the end of the window, its retry backoff), ``progress`` (after the hand-off),
``erasure`` (GDPR).
"""

from jg_events import CancellationReason, CancelledBy
from jg_web.business_days import add_business_days, is_business_day

from checkout.domain.commands import (
    ForeignAccountError,
    ModifyOrder,
    PlaceOrder,
    PricedPlacement,
    address_problems,
    idempotency_scope,
    may_read,
    modification,
    ordering_customer,
    price_placement,
    undelivered,
)
from checkout.domain.delivery import PARIS, delivery_estimate
from checkout.domain.erasure import (
    ERASED_LAST_NAME,
    ERASED_NAME,
    pseudonymise,
    pseudonymous_email,
)
from checkout.domain.errors import ConflictError, OrderRejectedError, Problem
from checkout.domain.order import (
    BEFORE_PAYMENT,
    CANCELLABLE,
    ENDED,
    HANDED_OFF_RANK,
    NOTHING,
    STATUS_LABELS,
    AuthorizedContent,
    Cancellation,
    NextAction,
    Order,
    Outcome,
    Refusal,
    Status,
    TimelineEntry,
    Tracking,
    order_number,
    place,
)
from checkout.domain.payments import (
    REFUSAL_LABELS,
    authentication_expired,
    payment_action_required,
    payment_authorized,
    payment_cancelled,
    payment_captured,
    payment_refused,
)
from checkout.domain.pricing import (
    REDUCED_RATE,
    STANDARD_RATE,
    VAT_RATE_BY_CATEGORY,
    CatalogueError,
    Limits,
    Product,
    ProductCategory,
    RequestedLine,
    ShippingOption,
    check_address,
    compute_totals,
    price_lines,
    select_shipping,
    stored_totals,
    vat_breakdown,
    vat_rate_of,
)
from checkout.domain.progress import progress
from checkout.domain.release import (
    ReleaseFailure,
    release,
    release_due,
    release_failed,
    release_retry_delay,
)
from checkout.domain.window import Modification, cancel, modify, refuse_if_past_window

__all__ = [
    "BEFORE_PAYMENT",
    "CANCELLABLE",
    "ENDED",
    "ERASED_LAST_NAME",
    "ERASED_NAME",
    "HANDED_OFF_RANK",
    "NOTHING",
    "PARIS",
    "REDUCED_RATE",
    "REFUSAL_LABELS",
    "STANDARD_RATE",
    "STATUS_LABELS",
    "VAT_RATE_BY_CATEGORY",
    "AuthorizedContent",
    "Cancellation",
    "CancellationReason",
    "CancelledBy",
    "CatalogueError",
    "ConflictError",
    "ForeignAccountError",
    "Limits",
    "Modification",
    "ModifyOrder",
    "NextAction",
    "Order",
    "OrderRejectedError",
    "Outcome",
    "PlaceOrder",
    "PricedPlacement",
    "Problem",
    "Product",
    "ProductCategory",
    "Refusal",
    "ReleaseFailure",
    "RequestedLine",
    "ShippingOption",
    "Status",
    "TimelineEntry",
    "Tracking",
    "add_business_days",
    "address_problems",
    "authentication_expired",
    "cancel",
    "check_address",
    "compute_totals",
    "delivery_estimate",
    "idempotency_scope",
    "is_business_day",
    "may_read",
    "modification",
    "modify",
    "order_number",
    "ordering_customer",
    "payment_action_required",
    "payment_authorized",
    "payment_cancelled",
    "payment_captured",
    "payment_refused",
    "place",
    "price_lines",
    "price_placement",
    "progress",
    "pseudonymise",
    "pseudonymous_email",
    "refuse_if_past_window",
    "release",
    "release_due",
    "release_failed",
    "release_retry_delay",
    "select_shipping",
    "stored_totals",
    "undelivered",
    "vat_breakdown",
    "vat_rate_of",
]
