"""JapanGoodz event contracts: one envelope, every event, topic names and Kafka keys.

Publishing::

    from jg_events import Envelope, OrderPlaced, kafka_headers, topic_name

    envelope = Envelope.wrap(OrderPlaced(...), correlation_id=request_id)
    topic = topic_name(envelope.payload.topic, prefix)  # "jg.checkout.orders"
    key = envelope.key                                   # the order id
    value = envelope.to_json_bytes()
    headers = kafka_headers(envelope)

Consuming::

    from jg_events import parse, EventParseError

    envelope = parse(message.value)     # Envelope[OrderPlaced], Envelope[Shipped], ...
    match envelope.payload:
        case OrderPlaced() as placed: ...

The JSON Schemas are exported with ``python -m jg_events.schemas export`` (see
:mod:`jg_events.schemas`) and compared with :func:`jg_events.compat.breaking_changes`.
"""

from jg_events.accounts import (
    CustomerErased,
    CustomerErasureRequested,
    CustomerField,
    CustomerRegistered,
    CustomerUpdated,
    EmailChangeRequested,
    ErasureRequestedBy,
    PasswordResetRequested,
)
from jg_events.common import (
    Address,
    Carrier,
    CustomerContact,
    CustomerEvent,
    DeliveryEstimate,
    ItemQuantity,
    OrderEvent,
    OrderLine,
    PaymentMethodType,
    RefundCause,
    ShippingMethod,
    Totals,
)
from jg_events.compat import BreakingChange, ChangeKind, breaking_changes
from jg_events.envelope import (
    CONTENT_TYPE_JSON,
    HEADER_CAUSATION_ID,
    HEADER_CONTENT_TYPE,
    HEADER_CORRELATION_ID,
    HEADER_EVENT_ID,
    HEADER_EVENT_TYPE,
    HEADER_EVENT_VERSION,
    Envelope,
    Event,
    UtcDatetime,
    kafka_headers,
)
from jg_events.fulfillment import (
    Backordered,
    BackorderedLine,
    ClaimKind,
    ClaimOpened,
    ClaimResolution,
    ClaimResolved,
    Delivered,
    OrderProcessing,
    PickLine,
    RefundLine,
    RefundRequested,
    ReturnAccepted,
    ReturnItem,
    ReturnRejected,
    ReturnRejectionReason,
    Shipped,
)
from jg_events.logistics import (
    ItemCondition,
    ParcelDelivered,
    ParcelItem,
    ParcelPickedUp,
    ReceivedItem,
    ReturnReceived,
    StockReplenished,
)
from jg_events.money import (
    Money,
    Quantity,
    SignedMoney,
    VatRate,
    format_money,
    to_money,
    vat_included,
)
from jg_events.orders import (
    CancellationReason,
    CancelledBy,
    OrderCancelled,
    OrderConfirmed,
    OrderModified,
    OrderPlaced,
    OrderReleased,
)
from jg_events.payments import (
    InvoiceIssued,
    InvoiceKind,
    PaymentActionRequired,
    PaymentAuthorized,
    PaymentCancellationReason,
    PaymentCancelled,
    PaymentCaptured,
    PaymentRefused,
    RefundIssued,
    RefusalReason,
)
from jg_events.registry import (
    ALL_EVENTS,
    EventParseError,
    InvalidEventError,
    UnknownEventError,
    event_class,
    events_on,
    is_known_type,
    parse,
    topic_message_type,
)
from jg_events.topics import (
    DEAD_LETTER_SERVICES,
    Topic,
    all_topics,
    dead_letter_topic,
    topic_name,
)

__all__ = [
    "ALL_EVENTS",
    "CONTENT_TYPE_JSON",
    "DEAD_LETTER_SERVICES",
    "HEADER_CAUSATION_ID",
    "HEADER_CONTENT_TYPE",
    "HEADER_CORRELATION_ID",
    "HEADER_EVENT_ID",
    "HEADER_EVENT_TYPE",
    "HEADER_EVENT_VERSION",
    "Address",
    "Backordered",
    "BackorderedLine",
    "BreakingChange",
    "CancellationReason",
    "CancelledBy",
    "Carrier",
    "ChangeKind",
    "ClaimKind",
    "ClaimOpened",
    "ClaimResolution",
    "ClaimResolved",
    "CustomerContact",
    "CustomerErased",
    "CustomerErasureRequested",
    "CustomerEvent",
    "CustomerField",
    "CustomerRegistered",
    "CustomerUpdated",
    "Delivered",
    "DeliveryEstimate",
    "EmailChangeRequested",
    "Envelope",
    "ErasureRequestedBy",
    "Event",
    "EventParseError",
    "InvalidEventError",
    "InvoiceIssued",
    "InvoiceKind",
    "ItemCondition",
    "ItemQuantity",
    "Money",
    "OrderCancelled",
    "OrderConfirmed",
    "OrderEvent",
    "OrderLine",
    "OrderModified",
    "OrderPlaced",
    "OrderProcessing",
    "OrderReleased",
    "ParcelDelivered",
    "ParcelItem",
    "ParcelPickedUp",
    "PasswordResetRequested",
    "PaymentActionRequired",
    "PaymentAuthorized",
    "PaymentCancellationReason",
    "PaymentCancelled",
    "PaymentCaptured",
    "PaymentMethodType",
    "PaymentRefused",
    "PickLine",
    "Quantity",
    "ReceivedItem",
    "RefundCause",
    "RefundIssued",
    "RefundLine",
    "RefundRequested",
    "RefusalReason",
    "ReturnAccepted",
    "ReturnItem",
    "ReturnReceived",
    "ReturnRejected",
    "ReturnRejectionReason",
    "Shipped",
    "ShippingMethod",
    "SignedMoney",
    "StockReplenished",
    "Topic",
    "Totals",
    "UnknownEventError",
    "UtcDatetime",
    "VatRate",
    "all_topics",
    "breaking_changes",
    "dead_letter_topic",
    "event_class",
    "events_on",
    "format_money",
    "is_known_type",
    "kafka_headers",
    "parse",
    "to_money",
    "topic_message_type",
    "topic_name",
    "vat_included",
]
