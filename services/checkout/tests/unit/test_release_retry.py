"""A failed release: when it is tried again, and which errors are the order's own."""

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from asyncpg.exceptions._base import DataError as EncodingError
from checkout import domain
from checkout.scheduler import database_unavailable

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_retry_delay_doubles_from_the_first_delay_and_stops_at_the_cap() -> None:
    delays = [domain.release_retry_delay(n, first=5, maximum=300) for n in range(1, 10)]
    assert delays == [5, 10, 20, 40, 80, 160, 300, 300, 300]
    assert domain.release_retry_delay(10_000, first=5, maximum=300) == 300  # no overflow
    with pytest.raises(ValueError, match="at least one failure"):
        domain.release_retry_delay(0, first=5, maximum=300)


def test_each_failure_in_a_row_is_counted_and_pushes_the_next_attempt_further() -> None:
    first = domain.release_failed(0, now=NOW, first_delay=5, max_delay=300)
    assert (first.attempts, first.failed_at, first.retry_at) == (
        1,
        NOW,
        NOW + timedelta(seconds=5),
    )
    later = NOW + timedelta(minutes=30)
    eighth = domain.release_failed(7, now=later, first_delay=5, max_delay=300)
    assert (eighth.attempts, eighth.retry_at) == (8, later + timedelta(minutes=5))


@pytest.mark.parametrize(
    ("exc", "outage"),
    [
        (ConnectionRefusedError(111, "Connection refused"), True),
        (TimeoutError(), True),
        (asyncpg.ConnectionDoesNotExistError("connection was closed"), True),
        (asyncpg.InterfaceError("connection is closed"), True),
        (asyncpg.AdminShutdownError("terminating connection"), True),
        (asyncpg.CannotConnectNowError("the database system is starting up"), True),
        (asyncpg.TooManyConnectionsError("too many clients"), True),
        (asyncpg.ReadOnlySQLTransactionError("read-only transaction"), True),
        (asyncpg.CheckViolationError("violates check constraint"), False),
        (asyncpg.RaiseError("order frozen"), False),
        (asyncpg.UniqueViolationError("duplicate key"), False),
        (EncodingError("invalid input for query argument $1"), False),
        (ValueError("a row that no longer reads"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_only_an_unreachable_database_is_an_outage_rather_than_the_orders_failure(
    exc: Exception, outage: bool
) -> None:
    assert database_unavailable(exc) is outage
