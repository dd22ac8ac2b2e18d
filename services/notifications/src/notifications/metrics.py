"""Notifications' Prometheus metrics: emails by outcome, SMTP latency, the pending backlog."""

from __future__ import annotations

import asyncpg
from jg_messaging.metrics import LATENCY_BUCKETS
from prometheus_client import Counter, Gauge, Histogram

from notifications import repository

EMAILS = Counter(
    "notifications_emails_total",
    "Email send outcomes: sent (the relay accepted it), failed (one failed attempt; the email "
    "is retried unless the failure is permanent), suppressed (not sent: no address, or the "
    "customer opted out or was erased).",
    ["outcome"],
)
SMTP_DURATION = Histogram(
    "notifications_smtp_send_duration_seconds",
    "Time to hand one email to the SMTP relay, successful or not: a new connection when one "
    "was needed, the retry on a fresh one when a kept connection failed before the message, "
    "and the goodbye of a connection not kept are included.",
    buckets=LATENCY_BUCKETS,
)
SMTP_CONNECTIONS = Counter(
    "notifications_smtp_connections_total",
    "SMTP connections opened to the relay (each is reused for the next emails while it lasts).",
)
PENDING = Gauge("notifications_emails_pending", "Emails waiting to be sent (or retried).")
OLDEST_PENDING = Gauge(
    "notifications_oldest_pending_email_age_seconds",
    "Age of the oldest email waiting to be sent (0 when none waits).",
)


def email_outcome(outcome: str) -> None:
    EMAILS.labels(outcome).inc()


async def refresh(pool: asyncpg.Pool) -> None:
    """Set the pending-email gauges (one indexed query)."""
    async with pool.acquire() as conn:
        count, oldest = await repository.pending_emails(conn)
    PENDING.set(count)
    OLDEST_PENDING.set(oldest or 0.0)
