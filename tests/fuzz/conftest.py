"""The platform ``make fuzz`` attacks: the five services as processes, as in tests/e2e.

Each service runs as ``python -m <service>`` on a free port, with a fresh database, one topic
prefix for the run, random tokens and ``JG_ENVIRONMENT=test``; logs and schemathesis' output go
to ``.stack/logs/fuzz/``. Three settings differ from the e2e platform, each so the fuzzer reaches
the code behind a gate instead of the gate: accounts' per-address limits on failed logins and
reset requests are lifted (and the reset answer's fixed delay is dropped), as is the one on the
customer's own email (each wrong current password counts), and notifications
serves its email previews (its only endpoints besides /health and /ready). A customer signs up
through accounts' API before the runs and logs in again before each run that needs a token.
After the runs, no service may have dead-lettered a message: what the fuzzer got accepted must
flow through Kafka too.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from jg_devstack import Endpoints, create_database, drop_database
from jg_devstack.drivers import (
    Accounts,
    Storefront,
    StripeJs,
    address,
    order_request,
    unique_email,
)
from jg_devstack.kafka_records import read_dead_letters
from jg_devstack.launcher import (
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
from jg_events import all_topics

from .runner import RunResult, table

REPO = Path(__file__).resolve().parents[2]
LOG_DIR = REPO / ".stack" / "logs" / "fuzz"
PASSWORD = "Lanterne-de-Kyoto-2026"
AUTH_PAGE = (
    "https://www.japangoodz.com/commande/{order_id}/paiement?payment_intent={payment_intent_id}"
)

# Settings of the fuzz platform that differ from the e2e one (see the module's docstring).
SETTINGS: Mapping[str, Mapping[str, str]] = {
    "accounts": {
        "ACCOUNTS_LOGIN_FREE_FAILURES_PER_EMAIL": "1000000",  # wrong current passwords count
        "ACCOUNTS_LOGIN_FREE_FAILURES_PER_ADDRESS": "1000000",
        "ACCOUNTS_RESET_LIMIT_PER_ADDRESS": "1000000",
        "ACCOUNTS_RESET_RESPONSE_SECONDS": "0",
    },
    "notifications": {"NOTIFICATIONS_PREVIEWS_ENABLED": "true"},
}


@dataclass(frozen=True)
class FuzzPlatformConfig(PlatformConfig):
    """The e2e wiring plus a few settings per service."""

    settings: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def service_env(self, service: str) -> dict[str, str]:
        return super().service_env(service) | dict(self.settings.get(service, {}))


@dataclass(frozen=True)
class Customer:
    email: str
    password: str


@dataclass(frozen=True)
class FuzzPlatform:
    platform: Platform
    customer: Customer
    order_example: Mapping[str, object]

    def url(self, service: str) -> str:
        return self.platform.url(service)

    @property
    def secrets(self) -> Secrets:
        return self.platform.secrets

    def customer_token(self) -> str:
        """The access token of a new session of the customer (one per run: none expires)."""
        response = httpx.post(
            f"{self.url('accounts')}/login",
            json={"email": self.customer.email, "password": self.customer.password},
            timeout=15.0,
        )
        assert response.status_code == 200, f"login refused: {response.status_code} {response.text}"
        return str(response.json()["access_token"])

    def session_open(self, token: str) -> bool:
        """Is the session of ``token`` still open (no logout or erasure reached it)?"""
        response = httpx.get(
            f"{self.url('accounts')}/sessions/validate",
            headers={"Authorization": f"Bearer {token}"},
            timeout=15.0,
        )
        return response.status_code == 200

    def hooks_env(self) -> dict[str, str]:
        """What tests/fuzz/hooks.py reads."""
        return {
            "JG_FUZZ_STRIPE_WEBHOOK_SECRET": self.secrets.stripe_webhook,
            "JG_FUZZ_ACCOUNTS_URL": self.url("accounts"),
            "JG_FUZZ_CUSTOMER_EMAIL": self.customer.email,
            "JG_FUZZ_CUSTOMER_PASSWORD": self.customer.password,
            "JG_FUZZ_ORDER_EXAMPLE": json.dumps(self.order_example),
        }


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


async def _customer(platform: Platform) -> Customer:
    """A customer who signed up and logged in through accounts' API."""
    accounts = Accounts(platform.url("accounts"))
    try:
        email = unique_email("fuzz")
        await accounts.sign_up(email, PASSWORD, "Camille", "Durand")
        return Customer(email, PASSWORD)
    finally:
        await accounts.close()


async def _order_example(platform: Platform) -> dict[str, object]:
    """A ``POST /orders`` body checkout accepts: a catalogue sku, a card the Stripe stand-in
    knows (the examples phase sends it, the stateful phase then follows the order)."""
    storefront = Storefront(platform.url("checkout"), platform.secrets.checkout_storefront)
    stripe_js = StripeJs(platform.stack.localstripe_url, platform.stack.stripe_api_key)
    try:
        sku = str((await storefront.catalogue())[0]["sku"])
        card = await stripe_js.card()
        body = order_request(
            unique_email("fuzz-order"), [(sku, 1)], card, billing=address("Camille", "Durand")
        )
        body["contact"] = {k: v for k, v in body["contact"].items() if v is not None}
        return body
    finally:
        await storefront.close()
        await stripe_js.close()


@pytest.fixture(scope="session")
def fuzz_platform(stack: Endpoints) -> Iterator[FuzzPlatform]:
    prefix = new_topic_prefix("fuzz")
    run_sync(lambda: _topics(stack.kafka_bootstrap, prefix, create=True))
    databases: dict[str, str] = {}
    processes: ServiceProcesses | None = None
    try:
        for name in SERVICES:
            databases[name] = create_database(owner=name)
        config = FuzzPlatformConfig(
            ports={name: free_port() for name in SERVICES},
            databases=databases,
            topic_prefix=prefix,
            environment="test",
            secrets=Secrets.random(),
            timings=Timings(
                outbox_poll_interval=0.5,
                dispatch_poll_interval=0.5,
                mail_retry_first_delay=0.5,
                mail_retry_max_delay=5.0,
                fast_password_hashing=True,
            ),
            endpoints=stack,
            authentication_url_template=AUTH_PAGE,
            settings=SETTINGS,
        )
        processes = ServiceProcesses(config, LOG_DIR, cwd=REPO)
        processes.start()
        processes.wait_ready(timeout=120)
        platform = Platform(config, processes)
        yield FuzzPlatform(
            platform,
            run_sync(lambda: _customer(platform)),
            run_sync(lambda: _order_example(platform)),
        )
        dead = run_sync(lambda: read_dead_letters(stack.kafka_bootstrap, prefix))
        (LOG_DIR / "dead-letters.log").write_text("\n".join(dead) + "\n", encoding="utf-8")
        assert not dead, "the services dead-lettered messages while fuzzed:\n" + "\n".join(dead)
    finally:
        if processes is not None:
            processes.stop()
        for dsn in databases.values():
            with contextlib.suppress(Exception):
                drop_database(dsn)
        with contextlib.suppress(Exception):
            run_sync(lambda: _topics(stack.kafka_bootstrap, prefix, create=False))


# --- The counts, printed at the end --------------------------------------------------------------

_RESULTS = pytest.StashKey[list[RunResult]]()


@pytest.fixture(scope="session")
def fuzz_results(request: pytest.FixtureRequest) -> list[RunResult]:
    return request.config.stash.setdefault(_RESULTS, [])


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    results = config.stash.get(_RESULTS, [])
    if not results:
        return
    text = table(results)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    (LOG_DIR / "report.txt").write_text(text + "\n", encoding="utf-8")
    terminalreporter.write_sep("=", "fuzz: requests per service, audience and phase")
    terminalreporter.write_line(text)
    terminalreporter.write_line(f"(also in {LOG_DIR / 'report.txt'}; each run's output beside it)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.fuzz)
