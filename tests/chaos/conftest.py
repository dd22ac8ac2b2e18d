"""The chaos run's platform: the local stack plus two instances of every service.

Both instances of a service share its database and the run's topic prefix, as two replicas in
production do; each listens on its own port and logs to ``.stack/logs/chaos/<a|b>/``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from jg_devstack import Endpoints, create_database, drop_database
from jg_devstack.launcher import (
    SERVICES,
    PlatformConfig,
    Secrets,
    ServiceProcesses,
    Timings,
    free_port,
)
from jg_devstack.pytest_plugin import new_topic_prefix
from jg_devstack.stack import run_sync
from jg_events import all_topics

from .harness import INSTANCES, Fleet

REPO = Path(__file__).resolve().parents[2]
LOG_DIR = REPO / ".stack" / "logs" / "chaos"
RELEASE_DELAY = 8.0
AUTH_PAGE = (
    "https://www.japangoodz.com/commande/{order_id}/paiement?payment_intent={payment_intent_id}"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.chaos)


async def _topics(bootstrap: str, prefix: str, *, create: bool) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        if create:
            await admin.create_topics(
                [NewTopic(n, num_partitions=3, replication_factor=1) for n in all_topics(prefix)]
            )
        else:
            await admin.delete_topics(all_topics(prefix))
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def fleet(stack: Endpoints) -> Iterator[Fleet]:
    prefix = new_topic_prefix("chaos")
    run_sync(lambda: _topics(stack.kafka_bootstrap, prefix, create=True))
    databases: dict[str, str] = {}
    processes: dict[str, ServiceProcesses] = {}
    try:
        for name in SERVICES:
            databases[name] = create_database(owner=name)
        base = PlatformConfig(
            ports={name: free_port() for name in SERVICES},
            databases=databases,
            topic_prefix=prefix,
            environment="test",
            secrets=Secrets.random(),
            timings=Timings(
                release_delay_seconds=RELEASE_DELAY,
                release_poll_interval=0.5,
                stripe_sync_interval=1.0,
                outbox_poll_interval=0.5,
                dispatch_poll_interval=0.5,
                mail_retry_first_delay=0.5,
                mail_retry_max_delay=5.0,
                fast_password_hashing=True,
            ),
            endpoints=stack,
            authentication_url_template=AUTH_PAGE,
        )
        for instance in INSTANCES:
            config = (
                base
                if instance == "a"
                else replace(base, ports={name: free_port() for name in SERVICES})
            )
            processes[instance] = ServiceProcesses(config, LOG_DIR / instance, cwd=REPO)
            processes[instance].start()
            processes[instance].wait_ready(timeout=180)
        yield Fleet(processes)
    finally:
        for group in processes.values():
            group.stop()
        for dsn in databases.values():
            with contextlib.suppress(Exception):
                drop_database(dsn)
        with contextlib.suppress(Exception):
            run_sync(lambda: _topics(stack.kafka_bootstrap, prefix, create=False))
