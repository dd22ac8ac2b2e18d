"""``make bench``: the platform end to end, with its floors, in one table (issue 18).

Against the running local stack (``make up``): a Stripe stand-in of the bench's own (a second
localstripe on a free port, so the shared one is never restarted), the five services started as
``make run`` starts them (``python -m <service>``, each its own process, fresh databases, topics
under a prefix of this run), then:

1. floors: a no-work relay chain over the same Kafka hops, the stand-in's and Mailpit's capacity;
2. an inventory count of the items the orders buy, then orders at a fixed offered rate
   (``BENCH_RATE``, 10/s), then at saturation (``BENCH_CLIENTS`` clients posting as fast as they
   can), then at saturation again with the stand-in answering after
   ``BENCH_STANDIN_LATENCY_MS`` (300 ms); each phase ends when its paid orders are handed off
   to logistics (the CPU read then is their whole cost);
3. one table on stdout, the JSON in ``.cache/bench/<timestamp>.json`` and ``latest.json``.

``BENCH_ORDERS`` (2000) is the count over the three phases: 30 % at the offered rate, 50 % at
saturation, 20 % with the slow stand-in. ``--compare FILE`` prints the change against an earlier
JSON (``--compare latest`` for the previous run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from jg_devstack import config, create_database, drop_database
from jg_devstack.config import Paths
from jg_devstack.drivers import Fulfillment
from jg_devstack.launcher import (
    SERVICES,
    PlatformConfig,
    Secrets,
    ServiceProcesses,
    Timings,
    free_port,
)
from jg_devstack.proc import port_open
from jg_devstack.stack import Endpoints
from jg_events import all_topics

from . import floors, procs, report
from .platform import LINES, Load, PhaseResult, Played, StandIn, read_order_events

IDLE_SECONDS = 5.0
WARM_UP_ORDERS = 5
LOCAL_PARTITIONS = 3  # the devstack broker's num.partitions (its auto-created topics)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, "") or default)


def log(text: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {text}", flush=True)


def stack_answers(endpoints: Endpoints) -> list[str]:
    wanted = {
        "Kafka": config.KAFKA_PORT,
        "PostgreSQL": config.POSTGRES_PORT,
        "Mailpit SMTP": config.MAILPIT_SMTP_PORT,
        "Mailpit API": config.MAILPIT_HTTP_PORT,
    }
    return [name for name, port in wanted.items() if not port_open(port)]


async def create_platform_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(n, num_partitions=LOCAL_PARTITIONS, replication_factor=1)
                for n in all_topics(prefix)
            ]
        )
    finally:
        await admin.close()


def ms_between(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return (b - a).total_seconds() * 1000


def summarize(phase: PhaseResult, milestones: dict[str, dict[str, datetime]]) -> dict[str, Any]:
    orders = phase.orders
    placed = [o for o in orders if o.order_id]
    confirming = [o for o in placed if o.kind in ("card", "3ds")]
    confirmed = [o for o in confirming if o.email_at]
    card = [o for o in placed if o.kind == "card"]
    first_post = min((o.posted_at for o in orders if o.posted_at), default=None)
    last_email = max((o.email_at for o in confirmed if o.email_at), default=None)
    last_answer = max((o.answered_at for o in placed if o.answered_at), default=None)

    def spread(values: list[float | None]) -> dict[str, Any]:
        return report.Spread.of([v for v in values if v is not None]).as_dict()

    for o in placed:
        seen = milestones.setdefault(o.order_id or "", {})
        if o.posted_at:
            seen["POST"] = o.posted_at
        if o.email_at:
            seen["email"] = o.email_at
    hops = report.hop_durations(milestones, [o.order_id or "" for o in card], report.CARD_HOPS)
    declined_hops = report.hop_durations(
        milestones,
        [o.order_id or "" for o in placed if o.kind == "declined"],
        report.DECLINED_HOPS,
    )
    return {
        "orders": len(orders),
        "offered_rate": phase.offered_rate,
        "clients": phase.clients,
        "mix": {k: sum(1 for o in orders if o.kind == k) for k in ("card", "3ds", "declined")},
        "post_errors": [o.error for o in orders if o.error][:10],
        "post_error_count": sum(1 for o in orders if o.error),
        "confirmed": len(confirmed),
        "expected_confirmations": len(confirming),
        "missing": sum(1 for o in placed if o.email_at is None),
        "handed_off": sum(1 for o in placed if o.handed_off_at is not None),
        "orders_per_s": report.throughput(len(confirmed), first_post, last_email),
        "posted_per_s": report.throughput(len(placed), first_post, last_answer),
        "post_ms": spread([o.post_ms for o in orders]),
        "email_ms": spread([ms_between(o.posted_at, o.email_at) for o in card]),
        "email_3ds_ms": spread(
            [ms_between(o.posted_at, o.email_at) for o in placed if o.kind == "3ds"]
        ),
        "refusal_ms": spread(
            [ms_between(o.posted_at, o.email_at) for o in placed if o.kind == "declined"]
        ),
        "hops_ms": {k: report.Spread.of(v).as_dict() for k, v in hops.items()},
        "declined_hops_ms": {k: report.Spread.of(v).as_dict() for k, v in declined_hops.items()},
        "cpu_seconds": phase.cpu_seconds,
        "cpu_ms_per_order": report.per_order_ms(phase.cpu_seconds, len(orders)),
        "cpu_window_s": phase.cpu_window_s,
        "seconds": (phase.ended - phase.began).total_seconds()
        if phase.began and phase.ended
        else None,
    }


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.root = config.find_repo_root()
        self.paths = Paths(self.root)
        self.run_id = uuid.uuid4().hex[:8]
        self.prefix = f"bench{self.run_id}."
        self.workdir = Path(tempfile.mkdtemp(prefix="jg-bench-"))
        self.log_dir = self.paths.logs / "bench"
        self.standin = StandIn(self.paths, self.workdir)
        self.endpoints = Endpoints()
        self.databases: dict[str, str] = {}
        self.processes: ServiceProcesses | None = None
        self.roots: dict[str, int] = {}
        self.result: dict[str, Any] = {
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "services": list(SERVICES),
            "settings": {},
            "phases": {},
            "floors": {},
            "rss_mb": {},
        }

    def counts(self) -> dict[str, int]:
        total = self.args.orders
        rate = max(10, total * 3 // 10)
        slow = 0 if self.args.no_latency else max(10, total // 5)
        return {"rate": rate, "saturation": max(10, total - rate - slow), "latency": slow}

    async def run(self) -> dict[str, Any]:
        missing = stack_answers(self.endpoints)
        if missing:
            raise SystemExit(f"the local stack does not answer ({', '.join(missing)}): `make up`")
        counts = self.counts()
        self.result["settings"] = {
            "orders": self.args.orders,
            "counts": counts,
            "rate": self.args.rate,
            "clients": self.args.clients,
            "standin_latency_ms": self.args.latency_ms,
            "partitions": LOCAL_PARTITIONS,
            "cpus": os.cpu_count(),
            "load_average_before": os.getloadavg(),
        }
        log(f"bench {self.run_id}: {counts} orders; stand-in of the bench on {self.standin.url}")
        self.standin.start(0, from_scratch=True)
        try:
            await self.floors()
            await self.start_platform()
            await self.stock_the_warehouse(sum(counts.values()))
            await self.play(counts)
        finally:
            await self.stop_platform()
            self.standin.stop()
        self.result["settings"]["load_average_after"] = os.getloadavg()
        return self.result

    async def floors(self) -> None:
        scale = self.args.orders
        log("floor 1/3: no-work relay chain checkout → payment → checkout → notifications")
        self.result["floors"]["Kafka relay chain, no work"] = await floors.relay_chain(
            self.endpoints.kafka_bootstrap,
            self.prefix,
            min(2000, max(200, scale)),
            LOCAL_PARTITIONS,
        )
        log("floor 2/3: the Stripe stand-in's confirmed PaymentIntents/s, 10 clients")
        self.result["floors"]["Stripe stand-in"] = await floors.stripe_capacity(
            self.standin.url, self.endpoints.stripe_api_key, min(400, max(50, scale // 5)), 10
        )
        log("floor 3/3: Mailpit's messages/s over SMTP, 10 connections")
        self.result["floors"]["Mailpit SMTP"] = await floors.mailpit_capacity(
            self.endpoints.mailpit_smtp_host,
            self.endpoints.mailpit_smtp_port,
            self.endpoints.mailpit_api_url,
            min(1000, max(100, scale // 2)),
            10,
        )
        for name, floor in self.result["floors"].items():
            log(f"  {name}: {floor['per_s']:.1f} {floor['unit']}")

    async def start_platform(self) -> None:
        log("starting the five services (fresh databases, topics under " + self.prefix + ")")
        await create_platform_topics(self.endpoints.kafka_bootstrap, self.prefix)
        for name in SERVICES:
            self.databases[name] = await asyncio.to_thread(create_database, owner=name)
        platform = PlatformConfig(
            ports={name: free_port() for name in SERVICES},
            databases=self.databases,
            topic_prefix=self.prefix,
            environment="development",
            secrets=Secrets(),
            # As `make run`: a 30 s modification window, 3-D Secure outcomes read back every 2 s.
            timings=Timings(release_delay_seconds=30.0, stripe_sync_interval=2.0),
            endpoints=replace(self.endpoints, localstripe_url=self.standin.url),
        )
        self.platform = platform
        self.processes = ServiceProcesses(platform, self.log_dir, cwd=self.root)
        self.processes.start()
        await asyncio.to_thread(self.processes.wait_ready, 180)
        await asyncio.sleep(5)  # consumers join their groups; start-up work settles
        for name, service in self.processes.running.items():
            self.roots[name] = service.process.pid
            self.result["rss_mb"][name] = {"idle": procs.rss_mb(service.process.pid)}
        stack_ports = {
            "Kafka": config.KAFKA_PORT,
            "PostgreSQL": config.POSTGRES_PORT,
            "Mailpit": config.MAILPIT_SMTP_PORT,
        }
        for name, port in stack_ports.items():
            pid = await asyncio.to_thread(procs.listener_pid, port)
            if pid is not None:
                self.roots[name] = pid
        assert self.standin.process is not None
        self.roots["Stripe stand-in"] = self.standin.process.pid
        # What each process spends with no order at all (polling loops; the stack's share
        # includes whatever else uses it), to read the CPU per order against.
        before = procs.tree_cpu_seconds(self.roots)
        await asyncio.sleep(IDLE_SECONDS)
        after = procs.tree_cpu_seconds(self.roots)
        self.result["idle_cpu_ms_per_s"] = {
            k: (after[k] - before[k]) * 1000 / IDLE_SECONDS for k in after if k in before
        }
        log(
            "services ready; idle RSS (MB): "
            + ", ".join(
                f"{n} {v['idle']:.0f}" for n, v in self.result["rss_mb"].items() if v["idle"]
            )
        )

    def window(self) -> float:
        """Checkout's modification window in this run (seconds before an order is released)."""
        return self.platform.timings.release_delay_seconds or 300.0

    async def stock_the_warehouse(self, orders: int) -> None:
        """An inventory count of what the run sells, before it: the sample stock (120 matcha,
        40 furoshiki) would send every order after the first forty down the backorder path
        (its own events and email), which is not the order a shop usually takes."""
        secrets = self.platform.secrets
        fulfillment = Fulfillment(
            self.platform.url("fulfillment"),
            secrets.fulfillment_operator,
            secrets.fulfillment_storefront,
        )
        try:
            for sku, quantity in LINES:
                on_hand = min(quantity * (orders + WARM_UP_ORDERS) * 2, 1_000_000)
                counted = await fulfillment.count_stock(sku, on_hand, "make bench: the run's stock")
                counted.raise_for_status()
        finally:
            await fulfillment.close()
        log(f"stock counted: {', '.join(sku for sku, _ in LINES)}")

    async def stop_platform(self) -> None:
        if self.processes is not None:
            for name, service in self.processes.running.items():
                if service.alive:
                    self.result["rss_mb"].setdefault(name, {})["after"] = procs.rss_mb(
                        service.process.pid
                    )
            await asyncio.to_thread(self.processes.stop)
        for dsn in self.databases.values():
            with contextlib.suppress(Exception):
                await asyncio.to_thread(drop_database, dsn)
        with contextlib.suppress(Exception):
            await floors.delete_topics(self.endpoints.kafka_bootstrap, all_topics(self.prefix))

    async def play(self, counts: dict[str, int]) -> None:
        load = Load(
            self.platform.url("checkout"),
            self.platform.secrets.checkout_storefront,
            self.standin.url,
            self.endpoints.stripe_api_key,
            self.endpoints.mailpit_api_url,
            self.run_id,
            report=log,
        )
        phases: list[PhaseResult] = []
        try:
            log(f"warm-up: {WARM_UP_ORDERS} card orders")
            warm = [o for o in load.plan("warmup", 40) if o.kind == "card"][:WARM_UP_ORDERS]
            await load.payment_methods(warm)
            await load.saturate(warm, 5)
            await load.wait_emails("warmup", warm, patience=30)
            # Their capture and hand-off too, so that none of it falls in the first phase.
            await load.wait_handoffs("warmup", warm, patience=self.window() + 30)
            plan = [
                ("rate", counts["rate"], float(self.args.rate), 0),
                ("saturation", counts["saturation"], None, 0),
                ("latency", counts["latency"], None, self.args.latency_ms),
            ]
            for name, count, rate, latency in plan:
                if count <= 0:
                    continue
                if latency:
                    log(f"restarting the bench's stand-in with {latency} ms per call")
                    self.standin.stop()
                    self.standin.start(latency)
                    assert self.standin.process is not None
                    self.roots["Stripe stand-in"] = self.standin.process.pid
                phases.append(await self.phase(load, name, count, rate))
        finally:
            await load.close()
        log("reading the events back from Kafka for the hops")
        events = await read_order_events(self.endpoints.kafka_bootstrap, self.prefix)
        milestones = report.milestones_by_order(events)
        for phase in phases:
            self.result["phases"][phase.name] = summarize(phase, milestones)
        for name, service in self.processes.running.items() if self.processes else []:
            self.result["rss_mb"][name]["after"] = procs.rss_mb(service.process.pid)

    async def phase(self, load: Load, name: str, count: int, rate: float | None) -> PhaseResult:
        orders: list[Played] = load.plan(name, count)
        await load.payment_methods(orders)
        clients = self.args.clients
        how = f"{rate:g} orders/s offered" if rate else f"saturation, {clients} clients"
        log(f"phase {name}: {count} orders, {how}")
        result = PhaseResult(name, orders, rate, clients if rate is None else 0)
        before = procs.tree_cpu_seconds(self.roots)
        result.began = datetime.now(UTC)
        began = time.monotonic()
        if rate:
            await load.at_rate(orders, rate)
        else:
            await load.saturate(orders, clients)
        log(f"  posted in {time.monotonic() - began:.1f} s; waiting for the emails")
        await load.wait_emails(name, orders, patience=self.args.patience)
        result.ended = datetime.now(UTC)
        done = sum(1 for o in orders if o.email_at)
        elapsed = time.monotonic() - began
        log(f"  {done}/{count} emails in {elapsed:.1f} s; waiting for the hand-offs")
        # The CPU of a phase is its orders' whole cost until logistics has them (capture,
        # hand-off, their emails), none of it left to the next phase.
        await load.wait_handoffs(name, orders, patience=self.window() + self.args.patience)
        after = procs.tree_cpu_seconds(self.roots)
        result.cpu_seconds = {k: after[k] - before[k] for k in after if k in before}
        result.cpu_window_s = time.monotonic() - began
        handed = sum(1 for o in orders if o.handed_off_at)
        log(f"  {handed} orders handed off to logistics in {time.monotonic() - began:.1f} s")
        return result


def write(result: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{stamp}.json"
    text = json.dumps(result, indent=2, default=str)
    path.write_text(text + "\n", encoding="utf-8")
    (folder / "latest.json").write_text(text + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=env_int("BENCH_ORDERS", 2000))
    parser.add_argument("--rate", type=float, default=env_int("BENCH_RATE", 10))
    parser.add_argument("--clients", type=int, default=env_int("BENCH_CLIENTS", 20))
    parser.add_argument("--latency-ms", type=int, default=env_int("BENCH_STANDIN_LATENCY_MS", 300))
    parser.add_argument("--no-latency", action="store_true", help="skip the slow stand-in phase")
    parser.add_argument("--patience", type=float, default=60.0, help="seconds without a new email")
    parser.add_argument("--compare", help="an earlier JSON (or 'latest') to compare with")
    parser.add_argument("--render", help="print the table of an existing JSON and stop")
    args = parser.parse_args(argv)
    folder = config.find_repo_root() / ".cache" / "bench"
    previous: dict[str, Any] | None = None
    if args.compare:
        source = folder / "latest.json" if args.compare == "latest" else Path(args.compare)
        if source.is_file():
            previous = json.loads(source.read_text(encoding="utf-8"))
        else:
            print(f"nothing to compare with: no {source}", flush=True)
    if args.render:
        result = json.loads(Path(args.render).read_text(encoding="utf-8"))
    else:
        result = asyncio.run(Bench(args).run())
    targets = report.evaluate_targets(result, result.get("services", SERVICES))
    result["targets"] = [t.as_dict() for t in targets]
    print()
    print(report.render_table(report.table_rows(result, targets)))
    if previous is not None:
        print()
        print(report.render_table(report.compare(result, previous)))
    if not args.render:
        path = write(result, folder)
        print(f"\nJSON: {path} (and {folder / 'latest.json'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
