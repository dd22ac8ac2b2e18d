"""Which failures wait for a dependency (transient) and which may reach the dead-letter topic."""

import asyncio
import socket

import aiosmtplib
import asyncpg
import httpx
import pytest
from aiokafka import errors as kafka_errors
from jg_messaging import Dependency, Kind, PermanentError, TransientError, classify
from jg_messaging.consumer import ConsumerHealth, RetryPolicy

pytestmark = pytest.mark.unit


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status_error(status: int) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "http://payment/invoices/1")
    response = httpx.Response(status, request=request)
    return httpx.HTTPStatusError(f"{status}", request=request, response=response)


@pytest.mark.parametrize(
    ("exc", "dependency"),
    [
        (asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"), "database"),
        (
            asyncpg.exceptions.CannotConnectNowError("starting up"),
            "database",
        ),
        (asyncpg.exceptions.AdminShutdownError("terminating connection"), "database"),
        (asyncpg.exceptions.SerializationError("could not serialize access"), "database"),
        (asyncpg.exceptions.DeadlockDetectedError("deadlock detected"), "database"),
        (asyncpg.exceptions.TooManyConnectionsError("too many clients"), "database"),
        (asyncpg.exceptions.ReadOnlySQLTransactionError("read-only transaction"), "database"),
        (
            asyncpg.InterfaceError("connection is closed"),
            "database",
        ),
        (kafka_errors.KafkaConnectionError("no broker"), "kafka"),
        (kafka_errors.KafkaTimeoutError(), "kafka"),
        (kafka_errors.NotLeaderForPartitionError(), "kafka"),
        (httpx.ConnectError("refused"), "http"),
        (httpx.ReadTimeout("slow"), "http"),
        (_status_error(502), "http"),
        (_status_error(429), "http"),
        (aiosmtplib.SMTPConnectError("refused"), "smtp"),
        (aiosmtplib.SMTPServerDisconnected("gone"), "smtp"),
        (aiosmtplib.SMTPResponseException(451, "try again later"), "smtp"),
        (ConnectionRefusedError(111, "Connect call failed"), "network"),
        (TimeoutError(), "network"),
        (OSError("Multiple exceptions: [Errno 111] Connect call failed"), "network"),
        (TransientError(Dependency.STRIPE, "stripe answered 503"), "stripe"),
    ],
)
def test_an_unavailable_dependency_is_transient(exc: BaseException, dependency: str) -> None:
    failure = classify(exc)
    assert failure.kind is Kind.TRANSIENT
    assert failure.dependency == Dependency(dependency)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("quantity must be positive"),
        KeyError("sku"),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence"),
        kafka_errors.MessageSizeTooLargeError(),
        _status_error(404),
        aiosmtplib.SMTPResponseException(550, "no such user"),
        FileNotFoundError(2, "missing template"),
    ],
)
def test_a_bug_or_a_refusal_is_unknown(exc: BaseException) -> None:
    assert classify(exc).kind is Kind.UNKNOWN


def test_a_handler_can_say_which_kind_it_raised() -> None:
    assert classify(PermanentError("the order does not exist")).kind is Kind.PERMANENT
    assert classify(TransientError("smtp")).dependency is Dependency.SMTP


def test_the_cause_decides_when_the_exception_itself_is_unknown() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "Connect call failed")
        except ConnectionRefusedError as exc:
            raise RuntimeError("could not record the intent") from exc
    except RuntimeError as wrapped:
        failure = classify(wrapped)
    assert failure.kind is Kind.TRANSIENT
    assert failure.dependency is Dependency.NETWORK


def test_a_permanent_error_stays_permanent_even_when_caused_by_the_network() -> None:
    try:
        try:
            raise ConnectionResetError()
        except ConnectionResetError as exc:
            raise PermanentError("refused by the domain") from exc
    except PermanentError as wrapped:
        assert classify(wrapped).kind is Kind.PERMANENT


async def test_a_real_refused_connection_is_transient() -> None:
    with pytest.raises(OSError) as caught:
        await asyncpg.connect(f"postgresql://x:x@127.0.0.1:{_free_port()}/x", timeout=2)
    assert classify(caught.value).kind is Kind.TRANSIENT


def test_waits_back_off_to_a_cap_and_never_end() -> None:
    policy = RetryPolicy(wait_first_delay=0.5, wait_max_delay=30.0)
    delays = [policy.wait_delay(n) for n in range(1, 12)]
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert delays == sorted(delays)
    assert delays[-1] == 30.0
    assert policy.wait_delay(10_000) == 30.0  # a long outage: still waiting, still capped


async def test_ready_says_what_the_consumers_wait_for_and_forgets_it_when_done() -> None:
    health = ConsumerHealth()
    assert health.describe() is None
    first, second = health.token(), health.token()
    health.waiting(first, Dependency.DATABASE, "ConnectionRefusedError(...)")
    await asyncio.sleep(0.01)
    health.waiting(first, Dependency.DATABASE, "ConnectionRefusedError(...)")
    health.waiting(second, Dependency.SMTP, "SMTPConnectError(...)")
    described = health.describe()
    assert described is not None
    assert described.startswith("waiting for database (")
    assert "smtp (" in described
    health.done(first)
    health.done(second)
    assert health.describe() is None


async def test_no_connection_to_the_database_is_waited_for_as_the_database() -> None:
    from jg_messaging.db import connection

    pool = await asyncpg.create_pool(
        f"postgresql://x:x@127.0.0.1:{_free_port()}/x", min_size=0, max_size=1, timeout=2
    )
    try:
        with pytest.raises(TransientError) as caught:
            async with connection(pool):
                pass
    finally:
        await pool.close()
    assert caught.value.dependency is Dependency.DATABASE
    assert classify(caught.value).dependency is Dependency.DATABASE
