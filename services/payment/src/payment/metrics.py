"""Payment's Prometheus metrics: each Stripe request by operation and outcome, with its latency.

Measured at the HTTP client Stripe's SDK uses (`MeasuredStripeHTTPClient`), so every call the
gateway makes is counted, network retries included (each try is one request).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import stripe
from jg_messaging.metrics import LATENCY_BUCKETS
from prometheus_client import Counter, Histogram

STRIPE_REQUESTS = Counter(
    "payment_stripe_requests_total",
    "Requests to Stripe by operation (method and path template) and outcome: ok (2xx), declined "
    "(402), rejected (other 4xx), error (5xx), unreachable (no answer).",
    ["operation", "outcome"],
)
STRIPE_DURATION = Histogram(
    "payment_stripe_request_duration_seconds",
    "Time for one request to Stripe to be answered (or to fail), by operation.",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)


def stripe_operation(method: str, url: str) -> str:
    """``POST /v1/payment_intents/{id}/capture``: the request without its ids (bounded labels).

    Stripe's paths alternate a collection and an object id: /v1/<collection>/<id>/<action>/<id>.
    """
    parts = [p for p in urlsplit(url).path.split("/") if p]
    # after the version: index 1 a collection, 2 an id, 3 an action, 4 an id (at most 5 parts)
    template = [part if i % 2 == 1 else "{id}" for i, part in enumerate(parts[1:6], start=1)]
    version = parts[0] if parts else ""
    return f"{method.upper()} /{'/'.join([version, *template]) if version else ''}"


def stripe_outcome(status: int | None) -> str:
    """The outcome label of an answer's status code (None: no answer)."""
    if status is None:
        return "unreachable"
    if 200 <= status < 300:
        return "ok"
    if status == 402:
        return "declined"
    if 400 <= status < 500:
        return "rejected"
    return "error"


class MeasuredStripeHTTPClient(stripe.AIOHTTPClient):
    """Stripe's aiohttp client, counting and timing each request.

    aiohttp rather than the SDK's httpx client: httpx's connection pool walks every pooled
    connection (a readability syscall each) for every request; a Stripe call cost about
    1.5 ms of CPU through it, 0.45 ms through aiohttp. A failure while the answer's body is
    read is a network error like one before it (Stripe's client wraps only the latter). Its
    session honours ``HTTPS_PROXY`` / ``NO_PROXY`` as httpx did (an egress proxy to Stripe)."""

    @property
    def _session(self) -> aiohttp.ClientSession:
        session: aiohttp.ClientSession | None = self._cached_session
        if session is None:
            context = ssl.create_default_context(cafile=stripe.ca_bundle_path)
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=context), trust_env=True
            )
            self._cached_session = session  # type: ignore[assignment]  # stripe types it None
        return session

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        operation = stripe_operation(method, url)
        started = time.perf_counter()
        status: int | None = None
        try:
            stream, answered, response_headers = await self.request_stream_async(
                method, url, headers, post_data
            )
            try:
                content = await stream.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                self._handle_request_error(exc)
            status = answered
        finally:
            STRIPE_DURATION.labels(operation).observe(time.perf_counter() - started)
            STRIPE_REQUESTS.labels(operation, stripe_outcome(status)).inc()
        return content, answered, response_headers
