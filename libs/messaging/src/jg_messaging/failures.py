"""Two kinds of failure, two policies.

- **transient**: a dependency is unreachable or slow (PostgreSQL, Kafka, the SMTP relay, Stripe
  or another service's HTTP API), a serialization failure or a deadlock, a 5xx or a rate limit.
  Nothing is wrong with the message: it waits for the dependency, however long the outage lasts.
- **permanent**: the message or request can never succeed (a payload that breaks its contract,
  an event a domain invariant refuses). Bounded retries, then the dead-letter topic.

A handler can say which one it raised (:class:`TransientError`, :class:`PermanentError`); the
errors of the libraries the services use are recognised here (:func:`classify`), including
when they are the cause of another exception. Anything else is *unknown*: the consumer retries it
a bounded number of times, then dead-letters it only if the service's own dependencies answer
(otherwise the failure is taken for an outage, and waits).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

import asyncpg


class Kind(StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"


class Dependency(StrEnum):
    """What a transient failure waits for (a label for logs, `/ready` and metrics)."""

    DATABASE = "database"
    KAFKA = "kafka"
    SMTP = "smtp"
    STRIPE = "stripe"
    HTTP = "http"
    NETWORK = "network"


class TransientError(Exception):
    """A dependency is unavailable: retry, however long it takes; never a dead letter."""

    def __init__(self, dependency: Dependency | str, message: str = "") -> None:
        self.dependency = Dependency(dependency)
        super().__init__(message or f"{self.dependency} unavailable")


class PermanentError(Exception):
    """This message can never succeed: bounded retries, then the dead-letter topic."""


@dataclass(frozen=True)
class Failure:
    kind: Kind
    dependency: Dependency | None = None

    @property
    def transient(self) -> bool:
        return self.kind is Kind.TRANSIENT


UNKNOWN = Failure(Kind.UNKNOWN)
PERMANENT = Failure(Kind.PERMANENT)

# PostgreSQL: the server is away, starting, shutting down, out of connections, read-only after a
# failover; or the transaction lost a race it can win on a retry.
_DATABASE_TRANSIENT: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08: connection failures
    asyncpg.exceptions.OperatorInterventionError,  # class 57: shutdown, starting up, cancelled
    asyncpg.exceptions.InsufficientResourcesError,  # class 53: too many connections, disk full
    asyncpg.exceptions.TransactionRollbackError,  # class 40: serialization failure, deadlock
    asyncpg.exceptions.LockNotAvailableError,  # 55P03: lock timeout
    asyncpg.exceptions.ReadOnlySQLTransactionError,  # 25006: a replica that was a primary
)
_CLOSED_CONNECTION = ("connection is closed", "connection was closed", "pool is closed")


def _own(exc: BaseException) -> Failure | None:
    """The classification of ``exc`` itself (not its causes), or None when unknown."""
    if isinstance(exc, TransientError):
        return Failure(Kind.TRANSIENT, exc.dependency)
    if isinstance(exc, PermanentError):
        return PERMANENT
    if isinstance(exc, _DATABASE_TRANSIENT):
        return Failure(Kind.TRANSIENT, Dependency.DATABASE)
    if isinstance(exc, asyncpg.InterfaceError) and any(
        marker in str(exc) for marker in _CLOSED_CONNECTION
    ):
        return Failure(Kind.TRANSIENT, Dependency.DATABASE)
    for probe in (_kafka, _http, _smtp):
        found = probe(exc)
        if found is not None:
            return found
    if isinstance(exc, ConnectionError | TimeoutError | asyncio.TimeoutError):
        return Failure(Kind.TRANSIENT, Dependency.NETWORK)
    if type(exc) is OSError and exc.errno is None:
        # asyncio's "Multiple exceptions: [Errno 111] Connect call failed ..." when every
        # address of a host refused the connection.
        return Failure(Kind.TRANSIENT, Dependency.NETWORK)
    return None


def _kafka(exc: BaseException) -> Failure | None:
    try:
        from aiokafka import errors
    except ImportError:  # pragma: no cover - every service has aiokafka
        return None
    if not isinstance(exc, errors.KafkaError):
        return None
    retriable = getattr(exc, "retriable", False) or isinstance(
        exc, errors.KafkaConnectionError | errors.KafkaTimeoutError | errors.NodeNotReadyError
    )
    return Failure(Kind.TRANSIENT, Dependency.KAFKA) if retriable else None


def _http(exc: BaseException) -> Failure | None:
    try:
        import httpx
    except ImportError:  # pragma: no cover
        return None
    if isinstance(exc, httpx.TransportError):
        return Failure(Kind.TRANSIENT, Dependency.HTTP)
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status >= 500 or status in (408, 425, 429):
            return Failure(Kind.TRANSIENT, Dependency.HTTP)
    return None


def _smtp(exc: BaseException) -> Failure | None:
    try:
        import aiosmtplib
    except ImportError:  # pragma: no cover - only notifications sends mail
        return None
    if isinstance(
        exc,
        aiosmtplib.SMTPConnectError
        | aiosmtplib.SMTPServerDisconnected
        | aiosmtplib.SMTPTimeoutError,
    ):
        return Failure(Kind.TRANSIENT, Dependency.SMTP)
    if isinstance(exc, aiosmtplib.SMTPResponseException) and 400 <= exc.code < 500:
        return Failure(Kind.TRANSIENT, Dependency.SMTP)
    return None


def classify(exc: BaseException) -> Failure:
    """Transient, permanent or unknown: the exception's own kind, else that of its causes.

    A failure explicitly marked permanent stays permanent even when caused by a network error
    (the handler knows better); otherwise the first recognised cause decides.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _own(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return UNKNOWN
