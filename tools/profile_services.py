"""CPU per order and memory of the five services, measured from ``/proc`` (and py-spy profiles).

Starts the five services as ``make run`` does (``python -m <service>``, production timings
except the modification window), but on free ports, with fresh databases and a topic prefix of
their own, against the running local stack (``make up``). It then:

1. waits for the services to settle and reads each one's idle RSS (``VmRSS``) and its CPU over
   an idle period (the pollers' cost per second);
2. plays ``--orders`` card orders (Stripe.js payment method, ``POST /orders``) ``--concurrency``
   at a time and waits for every confirmation email to reach Mailpit, then for the modification
   window to pass and the released orders to be handed to fulfillment;
3. prints each service's CPU per order (user + system time from ``/proc/<pid>/stat``, divided by
   the number of orders) and its RSS after the run; ``--json`` writes the same as JSON.

With ``--profile DIR`` each service is sampled by py-spy during the load (``DIR/<service>.txt``,
collapsed stacks) and the top functions (own time and inclusive time of the project's frames)
are printed per service; profiling slows the services, so its run's CPU figures are not the
ones to quote.

    uv run --frozen python tools/profile_services.py --orders 200 --concurrency 10
    uv run --frozen python tools/profile_services.py --orders 200 --profile .cache/profile
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from jg_devstack import Endpoints, create_database, drop_database
from jg_devstack.drivers import Storefront, StripeJs, order_request
from jg_devstack.launcher import SERVICES, PlatformConfig, ServiceProcesses, Timings, free_port
from jg_devstack.stack import run_sync
from jg_events import all_topics

REPO = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CONFIRMATION = "Confirmation de votre commande"
T = TypeVar("T")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a service is one process today; be safe)."""
    pids = [pid]
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            children = (task / "children").read_text().split()
            for child in children:
                pids.extend(process_tree(int(child)))
    return pids


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for p in process_tree(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return total


def rss_mb(pid: int) -> float:
    total = 0.0
    for p in process_tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
    return total


async def create_topics(bootstrap: str, prefix: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(t, num_partitions=partitions, replication_factor=1)
                for t in all_topics(prefix)
            ]
        )
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(all_topics(prefix))
    finally:
        await admin.close()


async def confirmations(mailpit: httpx.AsyncClient, tag: str) -> int:
    response = await mailpit.get(
        "/api/v1/search", params={"query": f'to:"{tag}" subject:"{CONFIRMATION}"', "limit": 1}
    )
    response.raise_for_status()
    return int(response.json()["messages_count"])


async def play(
    stack: Endpoints, checkout_url: str, token: str, orders: int, concurrency: int
) -> str:
    """``orders`` card orders; returns once every confirmation email is in Mailpit."""
    tag = f"prof{uuid.uuid4().hex[:10]}"
    storefront = Storefront(checkout_url, token)
    stripe = StripeJs(stack.localstripe_url, stack.stripe_api_key)
    semaphore = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with semaphore:
            card = await retrying(lambda: stripe.card(StripeJs.VISA))
            body = order_request(f"client{i}-{tag}@example.org", [("MATCHA-KYOTO-100", 1)], card)
            key = str(uuid.uuid4())  # the same key on a retry: one order
            response = await retrying(lambda: storefront.place(body, key=key))
            if response.status_code != 201:
                raise RuntimeError(f"order refused: {response.status_code} {response.text}")

    started = time.monotonic()
    try:
        await asyncio.gather(*(one(i) for i in range(orders)))
        print(f"  {orders} orders placed in {time.monotonic() - started:.1f}s", flush=True)
        async with httpx.AsyncClient(base_url=stack.mailpit_api_url, timeout=15) as mailpit:
            deadline = time.monotonic() + 120 + 2 * orders
            while (count := await confirmations(mailpit, tag)) < orders:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {count}/{orders} confirmations arrived")
                await asyncio.sleep(2)
        print(f"  {orders} confirmations in {time.monotonic() - started:.1f}s", flush=True)
    finally:
        await storefront.close()
        await stripe.close()
    return tag


IDLE_LEAVES = ("EpollSelector.select", "Condition.wait", "_worker (concurrent", "Event.wait")
PLUMBING = ("<frozen", "asyncio/", "threading.py", "concurrent/", "uvicorn/", "selectors.py")


async def retrying(call: Callable[[], Awaitable[T]], attempts: int = 4) -> T:
    """``call()`` again when the connection broke (a loaded machine: a kept-alive connection
    closed by the server under us, a stand-in that dropped one)."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except httpx.TransportError:
            if attempt == attempts:
                raise
            await asyncio.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


def top_frames(collapsed: Path, limit: int = 10) -> dict[str, list[tuple[str, float]]]:
    """Where a service spends its CPU, from py-spy's collapsed stacks (idle samples dropped):
    own time (the leaf frame) and inclusive time of every function outside the event loop's
    plumbing, as shares of the busy samples."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [frame.rsplit(":", 1)[0] + ")" for frame in stack.split(";")]
        if frames[-1].startswith(IDLE_LEAVES):
            continue
        count = int(count_text)
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            if not any(marker in frame for marker in PLUMBING):
                inclusive[frame] += count
    if not total:
        return {"own": [], "inclusive": []}
    return {
        "own": [(name, n / total) for name, n in own.most_common(limit)],
        "inclusive": [(name, n / total) for name, n in inclusive.most_common(limit * 3)],
    }


def py_spy(pid: int, output: Path, duration: float | None = None) -> subprocess.Popen[bytes]:
    """py-spy sampling ``pid`` into ``output`` (collapsed stacks), until stopped or ``duration``."""
    executable = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    # --gil: only samples holding the GIL, i.e. Python running (idle waits are not told apart
    # reliably on every machine: an event loop in epoll_wait was sampled as busy)
    command = [executable, "record", "--gil", "--format", "raw", "--rate", "200", "-o", str(output)]
    if duration:
        command += ["--duration", str(int(duration))]
    return subprocess.Popen(  # noqa: S603 - our dev tool on our own children
        [*command, "-p", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def stop_spies(spies: dict[str, subprocess.Popen[bytes]], timeout: float = 0.0) -> None:
    """Wait ``timeout`` for py-spy to end on its own, else SIGINT it (it writes its samples)."""
    deadline = time.monotonic() + timeout
    for spy in spies.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            spy.wait(max(0.0, deadline - time.monotonic()))
    for spy in spies.values():
        if spy.poll() is None:
            spy.send_signal(signal.SIGINT)
    for spy in spies.values():
        try:
            spy.wait(30)
        except subprocess.TimeoutExpired:
            spy.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument(
        "--release-delay",
        type=float,
        default=5.0,
        help="checkout's modification window (production: 300 s), so fulfillment's part counts",
    )
    parser.add_argument("--profile", type=Path, help="py-spy each service into this folder")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument(
        "--metrics", type=Path, help="save each service's /metrics after the run in this folder"
    )
    args = parser.parse_args()

    stack = Endpoints()
    prefix = f"prof{uuid.uuid4().hex[:8]}."
    run_sync(lambda: create_topics(stack.kafka_bootstrap, prefix, args.partitions))
    databases: dict[str, str] = {}
    processes: ServiceProcesses | None = None
    spies: dict[str, subprocess.Popen[bytes]] = {}
    result: dict[str, Any] = {"orders": args.orders, "concurrency": args.concurrency}
    try:
        for name in SERVICES:
            databases[name] = create_database(owner=name)
        platform = PlatformConfig(
            ports={name: free_port() for name in SERVICES},
            databases=databases,
            topic_prefix=prefix,
            environment="development",
            timings=Timings(release_delay_seconds=args.release_delay),
            endpoints=stack,
        )
        log_dir = REPO / ".cache" / "profile" / "logs"
        processes = ServiceProcesses(platform, log_dir, cwd=REPO)
        processes.start()
        processes.wait_ready(timeout=120)
        pids = {name: p.process.pid for name, p in processes.running.items()}
        time.sleep(5)  # start-up work (migrations, first fetches) done
        rss_idle = {name: rss_mb(pid) for name, pid in pids.items()}
        cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
        if args.profile:  # where the idle services spend their CPU (pollers, heartbeats)
            args.profile.mkdir(parents=True, exist_ok=True)
            spies = {
                name: py_spy(pid, args.profile / f"{name}-idle.txt", args.idle_seconds)
                for name, pid in pids.items()
            }
            stop_spies(spies, timeout=args.idle_seconds + 30)
            spies = {}
        else:
            time.sleep(args.idle_seconds)
        cpu1 = {name: cpu_seconds(pid) for name, pid in pids.items()}
        idle_ms_per_s = {n: (cpu1[n] - cpu0[n]) * 1000 / args.idle_seconds for n in pids}
        print("idle: " + ", ".join(f"{n} {rss_idle[n]:.1f} MB" for n in SERVICES), flush=True)

        if args.profile:
            spies = {name: py_spy(pid, args.profile / f"{name}.txt") for name, pid in pids.items()}
            time.sleep(1)

        started = time.monotonic()
        run_sync(
            lambda: play(
                stack,
                platform.url("checkout"),
                platform.secrets.checkout_storefront,
                args.orders,
                args.concurrency,
            )
        )
        time.sleep(args.release_delay + 5)  # released, handed off, fulfillment's part done
        elapsed = time.monotonic() - started
        cpu2 = {name: cpu_seconds(pid) for name, pid in pids.items()}
        rss_after = {name: rss_mb(pid) for name, pid in pids.items()}
        stop_spies(spies)
        if args.metrics:  # messages by topic, type and outcome: what an order costs in events
            args.metrics.mkdir(parents=True, exist_ok=True)
            for name in SERVICES:
                scrape = httpx.get(f"{platform.url(name)}/metrics", timeout=10)
                (args.metrics / f"{name}.prom").write_text(scrape.text, encoding="utf-8")

        rows = {}
        for name in SERVICES:
            busy = cpu2[name] - cpu1[name]
            rows[name] = {
                "cpu_ms_per_order": round(busy * 1000 / args.orders, 2),
                # the same less what the service burns idle over the run's duration
                "net_cpu_ms_per_order": round(
                    (busy * 1000 - idle_ms_per_s[name] * elapsed) / args.orders, 2
                ),
                "idle_cpu_ms_per_s": round(idle_ms_per_s[name], 2),
                "rss_idle_mb": round(rss_idle[name], 1),
                "rss_after_mb": round(rss_after[name], 1),
            }
        result |= {"elapsed_s": round(elapsed, 1), "services": rows}
        total = sum(r["cpu_ms_per_order"] for r in rows.values())
        print(f"\n{args.orders} orders, {args.concurrency} at a time, {elapsed:.1f}s")
        print(
            f"{'service':<14}{'CPU ms/order':>14}{'net of idle':>13}{'idle ms/s':>11}"
            f"{'RSS idle':>10}{'after':>8}"
        )
        for name, r in rows.items():
            print(
                f"{name:<14}{r['cpu_ms_per_order']:>14.1f}{r['net_cpu_ms_per_order']:>13.1f}"
                f"{r['idle_cpu_ms_per_s']:>11.1f}"
                f"{r['rss_idle_mb']:>9.1f}M{r['rss_after_mb']:>7.1f}M"
            )
        net = sum(r["net_cpu_ms_per_order"] for r in rows.values())
        print(f"{'total':<14}{total:>14.1f}{net:>13.1f}")
        if args.profile:
            result["profiles"] = {}
            for name in SERVICES:
                path = args.profile / f"{name}.txt"
                if not path.exists():
                    continue
                tops = top_frames(path)
                result["profiles"][name] = tops
                print(f"\n== {name}: own time (busy samples)")
                for frame, share in tops["own"]:
                    print(f"  {share * 100:5.1f}%  {frame}")
                print(f"== {name}: inclusive (outside the event loop)")
                for frame, share in tops["inclusive"]:
                    print(f"  {share * 100:5.1f}%  {frame}")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        return 0
    finally:
        stop_spies(spies)
        if processes is not None:
            processes.stop()
        for dsn in databases.values():
            with contextlib.suppress(Exception):
                drop_database(dsn)
        with contextlib.suppress(Exception):
            run_sync(lambda: delete_topics(stack.kafka_bootstrap, prefix))


if __name__ == "__main__":
    sys.exit(main())
