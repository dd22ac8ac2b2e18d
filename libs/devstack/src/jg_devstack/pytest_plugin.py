"""pytest plugin (entry point ``pytest11``): fixtures over the real local stack.

- ``stack`` (session): makes sure the stack answers, starting it when absent; returns
  :class:`jg_devstack.Endpoints`. If the stack cannot start, every test using it errors with
  the reason (nothing is skipped).
- ``topic_prefix`` (function): a prefix unique to this run and this test, e.g. ``t1a2b3c4d5e6.``.
- ``fresh_database`` (function): a factory; each call creates a database with a unique name and
  returns its DSN; the databases are dropped after the test.

The stack is brought up once, right after collection, when a collected test uses ``stack``, so
its start-up (possibly a first download) does not count against a test's timeout.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from jg_devstack.components import StackError
from jg_devstack.databases import create_database, drop_database
from jg_devstack.stack import Endpoints, ensure_up, run_sync

_RUN_ID = uuid.uuid4().hex[:6]


class _StackState:
    endpoints: Endpoints | None = None
    topics_before: set[str] | None = None
    error: str | None = None
    tried: bool = False


_state = _StackState()


def _bring_up() -> Endpoints:
    if not _state.tried:
        _state.tried = True
        try:
            _state.endpoints = ensure_up()
        except (StackError, OSError, RuntimeError) as exc:
            _state.error = f"{type(exc).__name__}: {exc}"
    if _state.endpoints is None:
        pytest.fail(f"the local stack could not start:\n{_state.error}", pytrace=False)
    return _state.endpoints


def pytest_configure(config: pytest.Config) -> None:
    # Settings default to production (a forgotten JG_ENVIRONMENT must not skip production's
    # checks); a test that builds settings without saying otherwise is a test.
    os.environ.setdefault("JG_ENVIRONMENT", "test")
    config.addinivalue_line("markers", "bench: benchmarks (run by `make bench`, not `make test`)")


def pytest_collection_finish(session: pytest.Session) -> None:
    needs_stack = any("stack" in getattr(item, "fixturenames", ()) for item in session.items)
    if needs_stack and not session.config.option.collectonly:
        # A failure here is reported by each test that uses the fixture.
        with contextlib.suppress(pytest.fail.Exception):
            _bring_up()
        if _state.endpoints is not None:
            _state.topics_before = _topics(_state.endpoints.kafka_bootstrap)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Delete the topics this run's tests created under their own prefixes.

    Every test gets fresh topics; left behind they pile up (thousands of partitions), and
    Kafka then takes minutes to start again after a crash. Unprefixed topics (``jg.*``, those
    of `make run`) are never touched.
    """
    before = _state.topics_before
    if _state.endpoints is None or before is None:
        return
    with contextlib.suppress(Exception):
        bootstrap = _state.endpoints.kafka_bootstrap
        now = _topics(bootstrap) or set()
        created = sorted(t for t in now - before if not t.startswith(("jg.", "_")))
        run_sync(lambda: _delete_topics(bootstrap, created))


def _topics(bootstrap: str) -> set[str] | None:
    async def names() -> set[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            return set(await admin.list_topics())
        finally:
            await admin.close()

    try:
        return run_sync(names)
    except Exception:
        return None


async def _delete_topics(bootstrap: str, topics: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=60_000)
    await admin.start()
    try:
        for start in range(0, len(topics), 200):
            await admin.delete_topics(topics[start : start + 200])
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def stack() -> Endpoints:
    """Endpoints of the running local stack (started when absent)."""
    return _bring_up()


@pytest.fixture
def topic_prefix() -> str:
    """A Kafka topic prefix unique to this test run and this test."""
    return f"t{_RUN_ID}{uuid.uuid4().hex[:8]}."


@pytest.fixture
def fresh_database(stack: Endpoints) -> Iterator[Callable[..., str]]:
    """Factory: ``fresh_database(owner=None) -> dsn`` of a new, empty, uniquely named database."""
    created: list[str] = []

    def factory(owner: str | None = None) -> str:
        dsn = create_database(owner=owner)
        created.append(dsn)
        return dsn

    yield factory
    for dsn in created:
        drop_database(dsn)
