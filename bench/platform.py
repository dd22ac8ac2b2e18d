"""The platform under load: the five services started as ``make run`` starts them, orders played
through the storefront's API and Stripe.js, confirmation emails read back from Mailpit."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from jg_devstack import config
from jg_devstack.config import HOST, Paths
from jg_devstack.drivers import StripeJs, order_request, received_at
from jg_devstack.launcher import free_port
from jg_devstack.proc import port_open
from jg_events import Topic, parse, topic_name

from . import procs
from .report import ON_KAFKA

CONFIRMATION = "confirmation de votre commande"
REFUSAL = "paiement n'a pas été accepté"
HANDED_OFF = "est en cours de traitement"
LINES = [("MATCHA-KYOTO-100", 1), ("FUROSHIKI-SAKURA", 1)]


def kind_of(n: int) -> str:
    """The order mix: of every 20 orders, 17 card, 2 with 3-D Secure, 1 declined."""
    return {0: "3ds", 7: "declined", 13: "3ds"}.get(n % 20, "card")


class StandIn:
    """A localstripe of the bench's own, on a free port with a state of its own: the shared
    stand-in of the stack is never restarted; this one can be, with a latency."""

    def __init__(self, paths: Paths, workdir: Path) -> None:
        self.paths = paths
        self.port = free_port()
        self.state = workdir / "localstripe.pickle"
        self.log = workdir / "localstripe.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, latency_ms: int = 0, *, from_scratch: bool = False) -> None:
        python = self.paths.localstripe_venv / "bin" / "python"
        if not python.exists():
            raise RuntimeError(f"no localstripe at {python}: run `make up` once")
        launcher = Path(config.__file__).with_name("_localstripe_main.py")
        command = [str(python), "-I", str(launcher), "--host", HOST, "--port", str(self.port)]
        command += ["--state", str(self.state)]
        if from_scratch:
            command.append("--from-scratch")
        env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
        env["JG_STRIPE_STANDIN_LATENCY_MS"] = str(latency_ms)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - localstripe's own interpreter
                command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while not port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the bench's localstripe did not start; see {self.log}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)  # flushes its state
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


@dataclass
class Played:
    """One order as the customer lived it."""

    n: int
    kind: str
    email: str
    payment_method: str = ""
    posted_at: datetime | None = None
    post_ms: float | None = None
    answered_at: datetime | None = None
    order_id: str | None = None
    status: int | None = None
    error: str | None = None
    email_at: datetime | None = None
    subject: str = ""
    handed_off_at: datetime | None = None


@dataclass
class PhaseResult:
    name: str
    orders: list[Played]
    offered_rate: float | None
    clients: int
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    began: datetime | None = None
    ended: datetime | None = None  # the last confirmation email (the throughput's span)
    cpu_window_s: float | None = None  # first POST until the hand-offs (the CPU's span)


class Load:
    """Plays orders against checkout and watches Mailpit for their emails."""

    def __init__(
        self,
        checkout_url: str,
        storefront_token: str,
        stripe_url: str,
        stripe_key: str,
        mailpit_api: str,
        run_id: str,
        report: Callable[[str], None] = print,
    ) -> None:
        self.checkout = httpx.AsyncClient(
            base_url=checkout_url,
            timeout=60.0,
            headers={"Authorization": f"Bearer {storefront_token}"},
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=200),
        )
        self.stripe = StripeJs(stripe_url, stripe_key)
        self.mailpit = httpx.AsyncClient(base_url=mailpit_api, timeout=60.0)
        self.run_id = run_id
        self.report = report
        self.authentications: list[asyncio.Task[None]] = []

    async def close(self) -> None:
        for task in self.authentications:
            task.cancel()
        await asyncio.gather(*self.authentications, return_exceptions=True)
        await self.checkout.aclose()
        await self.stripe.close()
        # The run's emails are read: Mailpit keeps at most 20,000 messages, and every search
        # (of this bench, of the tests) reads through what it holds.
        with contextlib.suppress(httpx.HTTPError):
            await self.mailpit.request(
                "DELETE", "/api/v1/search", params={"query": f'to:"bench-{self.run_id}-"'}
            )
        await self.mailpit.aclose()

    def plan(self, phase: str, count: int) -> list[Played]:
        return [
            Played(n, kind_of(n), f"bench-{self.run_id}-{phase}-{n}@example.fr")
            for n in range(count)
        ]

    async def payment_methods(self, orders: list[Played], clients: int = 10) -> None:
        """Stripe.js's part, before the clock starts: a card PaymentMethod for each order."""
        numbers = {
            "card": StripeJs.VISA,
            "3ds": StripeJs.THREE_D_SECURE,
            "declined": StripeJs.DECLINED,
        }
        queue = list(orders)

        async def worker() -> None:
            while queue:
                order = queue.pop()
                order.payment_method = await self.stripe.card(numbers[order.kind])

        await asyncio.gather(*(worker() for _ in range(clients)))

    async def post(self, order: Played) -> None:
        body = order_request(order.email, LINES, order.payment_method)
        body["billing_address"] = {k: v for k, v in body["billing_address"].items() if v != ""}
        order.posted_at = datetime.now(UTC)
        began = time.perf_counter()
        try:
            response = await self.checkout.post(
                "/orders", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
            )
        except httpx.HTTPError as exc:
            order.error = f"{type(exc).__name__}: {exc}"
            return
        order.post_ms = (time.perf_counter() - began) * 1000
        order.answered_at = datetime.now(UTC)
        order.status = response.status_code
        if response.status_code != 201:
            order.error = f"{response.status_code} {response.text[:200]}"
            return
        order.order_id = str(response.json()["id"])
        if order.kind == "3ds":
            self.authentications.append(asyncio.create_task(self.authenticate(order)))

    async def authenticate(self, order: Played) -> None:
        """The customer's browser: waits for the bank's challenge, passes it (Stripe.js)."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            with contextlib.suppress(httpx.HTTPError):
                answer = await self.checkout.get(f"/orders/{order.order_id}")
                shown = answer.json()
                if shown.get("status") == "payment_action_required":
                    secret = shown["payment"]["client_secret"]
                    with contextlib.suppress(AssertionError, httpx.HTTPError):
                        await self.stripe.handle_next_action(secret, success=True)
                    return
                if shown.get("status") not in (None, "pending_payment"):
                    return

    async def at_rate(self, orders: list[Played], rate: float) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        tasks = []
        for i, order in enumerate(orders):
            delay = start + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.post(order)))
        await asyncio.gather(*tasks)

    async def saturate(self, orders: list[Played], clients: int) -> None:
        queue = list(reversed(orders))

        async def client() -> None:
            while queue:
                await self.post(queue.pop())

        await asyncio.gather(*(client() for _ in range(clients)))

    async def emails(self, phase: str, subject: str | None = None) -> list[dict[str, Any]]:
        """Every message Mailpit holds for this run's phase (whose subject holds ``subject``)."""
        query = f'to:"bench-{self.run_id}-{phase}-"'
        if subject:
            query += f' subject:"{subject}"'
        found: list[dict[str, Any]] = []
        start = 0
        while True:
            answer = await self.mailpit.get(
                "/api/v1/search",
                params={
                    "query": query,
                    "limit": 500,
                    "start": start,
                },
            )
            answer.raise_for_status()
            page = answer.json()["messages"]
            found.extend(page)
            if len(page) < 500:
                return found
            start += 500

    async def wait_emails(self, phase: str, orders: list[Played], patience: float) -> None:
        """Match each order's first confirmation (or refusal) email, until all arrived or
        nothing new came for ``patience`` seconds."""

        def wanted(order: Played) -> str:
            return REFUSAL if order.kind == "declined" else CONFIRMATION

        def found(order: Played, at: datetime, subject: str) -> None:
            if order.email_at is None or at < order.email_at:
                order.email_at, order.subject = at, subject

        missing = await self._wait_for(phase, orders, wanted, found, patience)
        if missing:
            self.report(f"  {missing} orders still without their email")

    async def wait_handoffs(self, phase: str, orders: list[Played], patience: float) -> None:
        """Until each paid order's "en cours de traitement" email arrived (the modification
        window closed, payment captured, fulfillment handed the order to logistics): the work
        an order costs after its confirmation, counted in its own phase."""
        paid = [o for o in orders if o.email_at and o.kind != "declined"]

        def found(order: Played, at: datetime, subject: str) -> None:
            if order.handed_off_at is None or at < order.handed_off_at:
                order.handed_off_at = at

        missing = await self._wait_for(
            phase, paid, lambda _: HANDED_OFF, found, patience, subject=HANDED_OFF
        )
        if missing:
            self.report(f"  {missing} paid orders still without their hand-off email")

    async def _wait_for(
        self,
        phase: str,
        orders: list[Played],
        wanted: Callable[[Played], str],
        found: Callable[[Played, datetime, str], None],
        patience: float,
        subject: str | None = None,
    ) -> int:
        """Read the phase's emails every second and give ``found`` each order's message whose
        subject holds ``wanted(order)``; the count still missing when all arrived (0) or when
        nothing new came for ``patience`` seconds."""
        by_email = {o.email.lower(): o for o in orders if o.order_id}
        matched: set[str] = set()
        last_progress = time.monotonic()
        while True:
            for message in await self.emails(phase, subject):
                title = str(message.get("Subject", ""))
                for to in message.get("To") or []:
                    address = str(to.get("Address", "")).lower()
                    order = by_email.get(address)
                    if order is not None and wanted(order).lower() in title.lower():
                        found(order, received_at(message), title)
                        if address not in matched:
                            matched.add(address)
                            last_progress = time.monotonic()
            if len(matched) == len(by_email):
                return 0
            if time.monotonic() - last_progress > patience:
                return len(by_email) - len(matched)
            await asyncio.sleep(1.0)


async def read_order_events(bootstrap: str, prefix: str) -> list[tuple[str, str, datetime]]:
    """(order id, event type, occurred_at) of every event on checkout's and payment's topics
    under ``prefix``, and (order id, "<type> on Kafka", the record's timestamp: when the outbox
    relay published it), read from the beginning to the end offsets of now."""
    topics = [topic_name(Topic.CHECKOUT_ORDERS, prefix), topic_name(Topic.PAYMENT_PAYMENTS, prefix)]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    found: list[tuple[str, str, datetime]] = []
    try:
        partitions = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(consumer.partitions_for_topic(t) or await _partitions(consumer, t))
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp, end in ends.items() if end > 0}
        deadline = time.monotonic() + 120
        while remaining and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for tp, records in batch.items():
                for record in records:
                    with contextlib.suppress(Exception):
                        envelope = parse(record.value)
                        key = envelope.payload.partition_key()
                        found.append((key, envelope.type, envelope.occurred_at))
                        published = datetime.fromtimestamp(record.timestamp / 1000, UTC)
                        found.append((key, envelope.type + ON_KAFKA, published))
                    if record.offset + 1 >= ends[tp]:
                        remaining.discard(tp)
    finally:
        await consumer.stop()
    return found


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return consumer.partitions_for_topic(topic) or set()


def measure_cpu(roots: dict[str, int]) -> dict[str, float]:
    return procs.tree_cpu_seconds(roots)
