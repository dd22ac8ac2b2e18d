"""The whole platform, started once for the e2e session, driven only through public interfaces.

The five services run as real processes (``python -m <service>``), each on a free port, with
its own fresh database, one topic prefix for the session, random tokens, ``JG_ENVIRONMENT=test``
and short timings (a 4-second modification window, payment's Stripe read-back every second).
Their logs go to ``.stack/logs/e2e/<service>.log``; a failing test shows what each service
logged while it ran. Journeys share the running platform and isolate themselves by unique
email addresses and their own orders.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from jg_devstack import Endpoints, create_database, drop_database
from jg_devstack.drivers import (
    Accounts,
    Fulfillment,
    LogisticsTeam,
    Mailbox,
    Shop,
    Storefront,
    StripeJs,
)
from jg_devstack.kafka_records import read_dead_letters
from jg_devstack.launcher import (
    CONSOLE,
    SERVICES,
    Platform,
    PlatformConfig,
    Secrets,
    ServiceProcesses,
    Timings,
    free_port,
)
from jg_devstack.pytest_plugin import new_topic_prefix
from jg_devstack.stack import run_sync
from jg_devstack.traces import BackgroundReceiver
from jg_events import all_topics

REPO = Path(__file__).resolve().parents[2]
LOG_DIR = REPO / ".stack" / "logs" / "e2e"
TRACES_DIR = LOG_DIR / "traces"  # every service's spans, as `make trace` reads them
RELEASE_DELAY = 4.0  # checkout's modification window in these tests (production: 300 s)
PLATFORM = (*SERVICES, CONSOLE)  # the five services, then the console that calls them
AUTH_PAGE = (
    "https://www.japangoodz.com/commande/{order_id}/paiement?payment_intent={payment_intent_id}"
)


async def _create_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, num_partitions=3, replication_factor=1) for name in all_topics(prefix)]
        )
    finally:
        await admin.close()


async def _delete_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(all_topics(prefix))
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def traces() -> Iterator[BackgroundReceiver]:
    """The services' spans, exported over OTLP/HTTP to a receiver in this process."""
    shutil.rmtree(TRACES_DIR, ignore_errors=True)
    with BackgroundReceiver(TRACES_DIR) as receiver:
        yield receiver


@pytest.fixture(scope="session")
def platform(stack: Endpoints, traces: BackgroundReceiver) -> Iterator[Platform]:
    prefix = new_topic_prefix("e2e")
    run_sync(lambda: _create_topics(stack.kafka_bootstrap, prefix))
    databases: dict[str, str] = {}
    processes: ServiceProcesses | None = None
    try:
        for name in PLATFORM:
            databases[name] = create_database(owner=name)
        config = PlatformConfig(
            ports={name: free_port() for name in PLATFORM},
            databases=databases,
            topic_prefix=prefix,
            environment="test",
            secrets=Secrets.random(),
            timings=Timings(
                release_delay_seconds=RELEASE_DELAY,
                release_poll_interval=0.2,
                stripe_sync_interval=1.0,
                outbox_poll_interval=0.5,
                dispatch_poll_interval=0.2,
                mail_retry_first_delay=0.5,
                mail_retry_max_delay=2.0,
                fast_password_hashing=True,
            ),
            endpoints=stack,
            authentication_url_template=AUTH_PAGE,
            otlp_endpoint=traces.endpoint,
        )
        processes = ServiceProcesses(config, LOG_DIR, PLATFORM, cwd=REPO)
        processes.start()
        processes.wait_ready(timeout=120)
        yield Platform(config, processes)
        dead = run_sync(lambda: read_dead_letters(stack.kafka_bootstrap, prefix))
        (LOG_DIR / "dead-letters.log").write_text("\n".join(dead) + "\n", encoding="utf-8")
        assert not dead, "the services dead-lettered messages during the journeys:\n" + "\n".join(
            dead
        )
    finally:
        if processes is not None:
            processes.stop()
        for dsn in databases.values():
            with contextlib.suppress(Exception):
                drop_database(dsn)
        with contextlib.suppress(Exception):
            run_sync(lambda: _delete_topics(stack.kafka_bootstrap, prefix))


@pytest.fixture(scope="session")
async def storefront(platform: Platform) -> AsyncIterator[Storefront]:
    client = Storefront(platform.url("checkout"), platform.secrets.checkout_storefront)
    yield client
    await client.close()


@pytest.fixture(scope="session")
async def stripe_js(platform: Platform) -> AsyncIterator[StripeJs]:
    client = StripeJs(platform.stack.localstripe_url, platform.stack.stripe_api_key)
    yield client
    await client.close()


@pytest.fixture(scope="session")
async def mailbox(platform: Platform) -> AsyncIterator[Mailbox]:
    client = Mailbox(platform.stack.mailpit_api_url)
    yield client
    await client.close()


@pytest.fixture(scope="session")
async def logistics(platform: Platform) -> AsyncIterator[LogisticsTeam]:
    team = LogisticsTeam(platform.stack.kafka_bootstrap, platform.config.topic_prefix)
    await team.start()
    yield team
    await team.stop()


@pytest.fixture(scope="session")
async def accounts(platform: Platform) -> AsyncIterator[Accounts]:
    client = Accounts(platform.url("accounts"))
    yield client
    await client.close()


@pytest.fixture(scope="session")
async def fulfillment(platform: Platform) -> AsyncIterator[Fulfillment]:
    client = Fulfillment(
        platform.url("fulfillment"),
        platform.secrets.fulfillment_operator,
        platform.secrets.fulfillment_storefront,
    )
    yield client
    await client.close()


# --- Service logs shown with a failure -----------------------------------------------------------

_LOG_OFFSETS = pytest.StashKey[dict[str, int]]()


@pytest.fixture(autouse=True)
def _mark_service_logs(request: pytest.FixtureRequest, platform: Platform) -> None:
    request.node.stash[_LOG_OFFSETS] = {
        name: service.log.stat().st_size if service.log.exists() else 0
        for name, service in platform.processes.running.items()
    }
    request.node.stash[_PLATFORM] = platform


_PLATFORM = pytest.StashKey[Platform]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not report.failed or call.when != "call":
        return
    offsets = item.stash.get(_LOG_OFFSETS, None)
    platform = item.stash.get(_PLATFORM, None)
    if offsets is None or platform is None:
        return
    for name, service in platform.processes.running.items():
        try:
            with service.log.open("rb") as handle:
                handle.seek(offsets.get(name, 0))
                text = handle.read().decode(errors="replace")
        except OSError:
            continue
        lines = text.splitlines()[-80:]
        if lines:
            report.sections.append(
                (f"{name} log during the test (last lines of {service.log})", "\n".join(lines))
            )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def shop(
    storefront: Storefront, stripe_js: StripeJs, mailbox: Mailbox, logistics: LogisticsTeam
) -> Shop:
    return Shop(storefront, stripe_js, mailbox, logistics, hand_off_timeout=RELEASE_DELAY + 40)
