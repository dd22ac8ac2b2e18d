"""Kafka topic names, defined once.

Every event type lives on exactly one topic (``Event.topic``); the Kafka key is the event's
``partition_key()`` (the order id for order events, the customer id for account events, the sku
for stock reports), so the events of one order stay in order on one partition.

Tests and parallel environments isolate themselves with a *prefix*, prepended verbatim:
``topic_name(Topic.CHECKOUT_ORDERS, prefix="t-1a2b.")`` gives ``"t-1a2b.jg.checkout.orders"``.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = [
    "DEAD_LETTER_SERVICES",
    "TOPIC_DESCRIPTIONS",
    "TOPIC_PRODUCERS",
    "Topic",
    "all_topics",
    "dead_letter_topic",
    "topic_name",
]


class Topic(StrEnum):
    """Base names of the platform's event topics (without any prefix)."""

    CHECKOUT_ORDERS = "jg.checkout.orders"
    PAYMENT_PAYMENTS = "jg.payment.payments"
    FULFILLMENT_ORDERS = "jg.fulfillment.orders"
    LOGISTICS_REQUESTS = "jg.logistics.requests"
    LOGISTICS_REPORTS = "jg.logistics.reports"
    ACCOUNTS_CUSTOMERS = "jg.accounts.customers"


TOPIC_PRODUCERS: dict[Topic, str] = {
    Topic.CHECKOUT_ORDERS: "checkout",
    Topic.PAYMENT_PAYMENTS: "payment",
    Topic.FULFILLMENT_ORDERS: "fulfillment",
    Topic.LOGISTICS_REQUESTS: "fulfillment",
    Topic.LOGISTICS_REPORTS: "logistics team",
    Topic.ACCOUNTS_CUSTOMERS: "accounts",
}
"""Who writes to each topic (exactly one producer per topic)."""

TOPIC_DESCRIPTIONS: dict[Topic, str] = {
    Topic.CHECKOUT_ORDERS: "Order lifecycle up to the hand-off: placed, confirmed, modified, "
    "cancelled, released. Key: order id.",
    Topic.PAYMENT_PAYMENTS: "Payment outcomes, captures, cancellations, refunds, invoices and "
    "credit notes. Key: order id.",
    Topic.FULFILLMENT_ORDERS: "Backorders, shipments, deliveries, returns, refund requests and "
    "after-sales claims. Key: order id.",
    Topic.LOGISTICS_REQUESTS: "Fulfillment to the logistics team in Japan: orders to pick and "
    "pack. Key: order id.",
    Topic.LOGISTICS_REPORTS: "The logistics team to fulfillment: parcels picked up and delivered, "
    "returns received (key: order id), stock replenished (key: sku).",
    Topic.ACCOUNTS_CUSTOMERS: "Customer accounts: registration, profile changes, password "
    "resets, erasure (GDPR). Key: customer id.",
}

DEAD_LETTER_SERVICES: tuple[str, ...] = (
    "checkout",
    "payment",
    "fulfillment",
    "notifications",
    "accounts",
)
"""Services that consume events and therefore own a dead-letter topic."""

# Kafka's legal topic characters; names are limited to 249 characters.
_TOPIC_CHARS = re.compile(r"[A-Za-z0-9._-]*")
_SERVICE_NAME = re.compile(r"[a-z][a-z0-9-]*")
_MAX_TOPIC_LENGTH = 249


def _check_prefix(prefix: str) -> None:
    if not _TOPIC_CHARS.fullmatch(prefix):
        raise ValueError(f"topic prefix {prefix!r} may only use letters, digits, '.', '_', '-'")


def _checked(name: str) -> str:
    if len(name) > _MAX_TOPIC_LENGTH:
        raise ValueError(f"topic name longer than {_MAX_TOPIC_LENGTH} characters: {name!r}")
    return name


def topic_name(topic: Topic | str, prefix: str = "") -> str:
    """Full Kafka topic name: ``prefix`` followed by the base name."""
    _check_prefix(prefix)
    return _checked(f"{prefix}{Topic(topic).value}")


def dead_letter_topic(service: str, prefix: str = "") -> str:
    """The dead-letter topic of a consuming service: ``<prefix>jg.<service>.dead-letter``.

    Any lowercase service name is accepted (tests may invent one); the platform's own are in
    :data:`DEAD_LETTER_SERVICES`.
    """
    _check_prefix(prefix)
    if not _SERVICE_NAME.fullmatch(service):
        raise ValueError(f"service name {service!r} must be lowercase letters, digits and '-'")
    return _checked(f"{prefix}jg.{service}.dead-letter")


def all_topics(prefix: str = "") -> list[str]:
    """Every topic a deployment must have: event topics then one dead-letter topic per service."""
    return [topic_name(topic, prefix) for topic in Topic] + [
        dead_letter_topic(service, prefix) for service in DEAD_LETTER_SERVICES
    ]
