"""Payment's Prometheus metrics: each Stripe request by operation and outcome, with its latency.

Measured at the HTTP client Stripe's SDK uses (`measured_httpx_client()`), so every call the gateway
makes is counted, network retries included (each try is one request).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from jg_messaging.metrics import LATENCY_BUCKETS
from prometheus_client import Counter, Histogram

if TYPE_CHECKING:
    import stripe

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


@functools.cache
def measured_httpx_client() -> type[stripe.HTTPXClient]:
    """Stripe's httpx client, counting and timing each request (built with the gateway's
    first call: it imports Stripe's SDK)."""
    import stripe

    class MeasuredHTTPXClient(stripe.HTTPXClient):
        async def request_async(
            self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
        ) -> tuple[bytes, int, Mapping[str, str]]:
            operation = stripe_operation(method, url)
            started = time.perf_counter()
            status: int | None = None
            try:
                content, status, response_headers = await super().request_async(
                    method, url, headers, post_data
                )
            finally:
                STRIPE_DURATION.labels(operation).observe(time.perf_counter() - started)
                STRIPE_REQUESTS.labels(operation, stripe_outcome(status)).inc()
            return content, status, response_headers

    return MeasuredHTTPXClient
