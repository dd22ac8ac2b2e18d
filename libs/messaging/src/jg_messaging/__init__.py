"""Messaging plumbing shared by every JapanGoodz service.

Transactional outbox and its relay, idempotent consumption (inbox), retries and dead letters,
correlation ids in logs, traces (OpenTelemetry), typed settings and the runtime that wires
them into a FastAPI app.
"""

from . import metrics, outbox, tracing
from .clock import utcnow
from .consumer import (
    ConsumerHealth,
    RetryPolicy,
    UnreadableEventError,
    consumer_group,
    create_broker,
    handles,
    subscribe,
)
from .correlation import CORRELATION_HEADER, CorrelationMiddleware, bind, new_correlation_id
from .db import create_pool, migrate
from .failures import Dependency, Failure, Kind, PermanentError, TransientError, classify
from .handlers import Handler, register_handlers
from .http_errors import install_data_error_handler, install_unavailable_handler
from .logs import configure_logging
from .metrics import PrometheusMiddleware
from .relay import OutboxRelay, OutboxStatus, idempotent_producer
from .runtime import ServiceRuntime, health_router, lifespan
from .serve import serve
from .settings import Environment, PlatformSettings, ServiceSettings, require_https
from .tracing import HTTP_TELEMETRY, TracedTransport, configure_tracing
from .unit_of_work import Messaging, UnitOfWork

__all__ = [
    "CORRELATION_HEADER",
    "HTTP_TELEMETRY",
    "ConsumerHealth",
    "CorrelationMiddleware",
    "Dependency",
    "Environment",
    "Failure",
    "Handler",
    "Kind",
    "Messaging",
    "OutboxRelay",
    "OutboxStatus",
    "PermanentError",
    "PlatformSettings",
    "PrometheusMiddleware",
    "RetryPolicy",
    "ServiceRuntime",
    "ServiceSettings",
    "TracedTransport",
    "TransientError",
    "UnitOfWork",
    "UnreadableEventError",
    "bind",
    "classify",
    "configure_logging",
    "configure_tracing",
    "consumer_group",
    "create_broker",
    "create_pool",
    "handles",
    "health_router",
    "idempotent_producer",
    "install_data_error_handler",
    "install_unavailable_handler",
    "lifespan",
    "metrics",
    "migrate",
    "new_correlation_id",
    "outbox",
    "register_handlers",
    "require_https",
    "serve",
    "subscribe",
    "tracing",
    "utcnow",
]
