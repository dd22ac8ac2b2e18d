"""/metrics of the five services, live: the figures move as orders flow, and an SMTP relay that
stops shows as failing emails and a growing pending-email age.

The services run as real processes (as the e2e tests start them) on their own databases and
topics; notifications sends to a Mailpit of this test's own (other ports, its own database), so
stopping it disturbs no other test: the shared Mailpit keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from jg_devstack import Endpoints, create_database, drop_database
from jg_devstack.drivers import Storefront, StripeJs, order_request, unique_email
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
from jg_devstack.spare import SpareMailpit, spare_mailpit
from jg_devstack.stack import run_sync
from jg_events import all_topics
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
LOG_DIR = REPO / ".stack" / "logs" / "metrics"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


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


@pytest.fixture(scope="module")
def mailpit() -> Iterator[SpareMailpit]:
    with spare_mailpit(LOG_DIR / "mailpit.log") as spare:
        yield spare


@pytest.fixture(scope="module")
def platform(stack: Endpoints, mailpit: SpareMailpit) -> Iterator[Platform]:
    prefix = new_topic_prefix("metrics")
    run_sync(lambda: _topics(stack.kafka_bootstrap, prefix, create=True))
    databases: dict[str, str] = {}
    processes: ServiceProcesses | None = None
    try:
        for name in SERVICES:
            databases[name] = create_database(owner=name)
        config = PlatformConfig(
            ports={name: free_port() for name in SERVICES},
            databases=databases,
            topic_prefix=prefix,
            environment="test",
            secrets=Secrets.random(),
            timings=Timings(
                release_delay_seconds=2.0,
                release_poll_interval=0.2,
                stripe_sync_interval=1.0,
                outbox_poll_interval=0.5,
                dispatch_poll_interval=0.2,
                mail_retry_first_delay=0.5,
                mail_retry_max_delay=2.0,
                fast_password_hashing=True,
            ),
            endpoints=dataclasses.replace(
                stack,
                mailpit_smtp_port=mailpit.smtp_port,
                mailpit_api_url=f"http://127.0.0.1:{mailpit.http_port}",
            ),
        )
        processes = ServiceProcesses(config, LOG_DIR, cwd=REPO)
        processes.start()
        processes.wait_ready(timeout=180)
        yield Platform(config, processes)
    finally:
        if processes is not None:
            processes.stop()
        for dsn in databases.values():
            with contextlib.suppress(Exception):
                drop_database(dsn)
        with contextlib.suppress(Exception):
            run_sync(lambda: _topics(stack.kafka_bootstrap, prefix, create=False))


async def scrape(platform: Platform, service: str) -> Samples:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(f"{platform.url(service)}/metrics")
    assert answer.status_code == 200, f"{service} /metrics: {answer.status_code}"
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


async def scrape_until(
    platform: Platform, service: str, ready: Callable[[Samples], bool], timeout: float = 45
) -> Samples:
    """Scrape until ``ready`` holds: gauges are computed on scrape and cached (checkout's orders
    by status 30 s, the others 5 s), so a figure shows its change within one cache period."""
    samples = await scrape(platform, service)
    deadline = asyncio.get_running_loop().time() + timeout
    while not ready(samples) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(1)
        samples = await scrape(platform, service)
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def names(samples: Samples) -> set[str]:
    return {n for n, _ in samples}


@pytest.fixture(scope="module")
async def clients(platform: Platform) -> AsyncIterator[tuple[Storefront, StripeJs]]:
    storefront = Storefront(platform.url("checkout"), platform.secrets.checkout_storefront)
    stripe = StripeJs(platform.stack.localstripe_url, platform.stack.stripe_api_key)
    yield storefront, stripe
    await storefront.close()
    await stripe.close()


async def place_paid_orders(storefront: Storefront, stripe: StripeJs, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        card = await stripe.card(StripeJs.VISA)
        placed = await storefront.place_ok(
            order_request(unique_email("metrics"), [("MATCHA-KYOTO-100", 1)], card)
        )
        ids.append(placed["id"])
    for order_id in ids:
        await storefront.wait_status(order_id, "confirmed", "released", "processing", timeout=60)
    return ids


async def test_each_service_shows_its_figures_moving_as_orders_flow(
    platform: Platform, clients: tuple[Storefront, StripeJs]
) -> None:
    before = {s: await scrape(platform, s) for s in SERVICES}
    await place_paid_orders(*clients, count=3)
    await asyncio.sleep(6)  # past the probes' 5-second cache, the 2-second release window
    after = {s: await scrape(platform, s) for s in SERVICES}

    for service in SERVICES:
        found = names(after[service])
        for family in ("http_requests_total", "outbox_pending_rows", "service_ready"):
            assert family in found, f"{service}: no {family}"
        assert total(after[service], "service_ready") == 1, service

    statuses = ("confirmed", "released", "processing", "backordered")
    after["checkout"] = await scrape_until(
        platform,
        "checkout",
        lambda s: sum(total(s, "checkout_orders", status=x) for x in statuses) >= 3,
    )
    checkout = after["checkout"]
    placed = total(checkout, "http_requests_total", route="/orders", method="POST", status="201")
    assert placed - total(before["checkout"], "http_requests_total", route="/orders",
                          method="POST", status="201") == 3  # fmt: skip
    assert not any("JG-" in dict(ls).get("route", "") for _, ls in checkout)  # templates only
    assert sum(total(checkout, "checkout_orders", status=s) for s in statuses) >= 3
    assert total(checkout, "outbox_published_rows_total") >= 3  # OrderPlaced at least

    payment = after["payment"]
    authorised = total(payment, "payment_stripe_requests_total", outcome="ok")
    assert authorised > total(before["payment"], "payment_stripe_requests_total", outcome="ok")
    assert total(payment, "payment_stripe_request_duration_seconds_count") > 0
    handled = total(payment, "consumer_messages_total", outcome="handled")
    assert handled - total(before["payment"], "consumer_messages_total", outcome="handled") >= 3
    assert "consumer_lag_messages" in names(payment)

    notifications = after["notifications"]
    assert total(notifications, "notifications_emails_total", outcome="sent") >= 3
    assert total(notifications, "notifications_smtp_send_duration_seconds_count") >= 3
    assert "fulfillment_backorders_waiting" in names(after["fulfillment"])

    async with httpx.AsyncClient(base_url=platform.url("accounts"), timeout=10) as client:
        refused = await client.post(
            "/login", json={"email": unique_email("nobody"), "password": "pas-le-bon-mot"}
        )
    assert refused.status_code == 401
    logins = await scrape(platform, "accounts")
    assert total(logins, "accounts_logins_total", outcome="invalid_credentials") == 1


async def test_a_stopped_smtp_relay_shows_as_failing_emails_and_a_growing_pending_age(
    platform: Platform, clients: tuple[Storefront, StripeJs], mailpit: SpareMailpit
) -> None:
    before = await scrape(platform, "notifications")
    mailpit.stop()
    try:
        await place_paid_orders(*clients, count=2)
        first: Samples = {}
        for _ in range(60):  # the dispatcher tries, fails and retries every 0.5 to 2 s
            await asyncio.sleep(1)
            first = await scrape(platform, "notifications")
            failed = total(first, "notifications_emails_total", outcome="failed")
            if failed - total(before, "notifications_emails_total", outcome="failed") >= 2:
                break
        assert (
            total(first, "notifications_emails_total", outcome="failed")
            - total(before, "notifications_emails_total", outcome="failed")
            >= 2
        ), "no failed email attempt counted while the relay is down"
        first = await scrape_until(
            platform, "notifications", lambda s: total(s, "notifications_emails_pending") >= 2
        )
        assert total(first, "notifications_emails_pending") >= 2
        age = total(first, "notifications_oldest_pending_email_age_seconds")
        await asyncio.sleep(6)  # past the probes' cache
        later = await scrape(platform, "notifications")
        assert total(later, "notifications_oldest_pending_email_age_seconds") >= age + 5
        assert total(later, "notifications_emails_total", outcome="failed") > total(
            first, "notifications_emails_total", outcome="failed"
        )
    finally:
        mailpit.start()
    # back up: the pending emails go out and the backlog empties
    for _ in range(60):
        await asyncio.sleep(1)
        now = await scrape(platform, "notifications")
        if total(now, "notifications_emails_pending") == 0:
            break
    assert total(now, "notifications_emails_pending") == 0
    assert total(now, "notifications_oldest_pending_email_age_seconds") == 0
