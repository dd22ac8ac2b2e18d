"""The pure half of ``make bench``: percentiles, per-hop times, targets, the table, comparisons.

Nothing here touches a process, a socket or a clock: the unit tests (bench/test_report.py) feed
it numbers and read what it prints.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Issue 18's targets on the 2-core development machine.
TARGET_SERVICES_CPU_MS = 30.0
TARGET_SATURATION_ORDERS_PER_S = 25.0
TARGET_RATE_POST_P99_MS = 50.0
TARGET_RATE_EMAIL_P99_MS = 1000.0
TARGET_LATENCY_RATIO = 0.5
TARGET_IDLE_RSS_MB = 80.0
TARGET_RSS_GROWTH = 0.10

# The hops of a card order: each event's occurred_at (its transaction), the time its outbox relay
# put it on Kafka (the record's timestamp) and Mailpit's received time.
ON_KAFKA = " on Kafka"
CARD_HOPS: tuple[tuple[str, str], ...] = (
    ("POST", "OrderPlaced"),
    ("OrderPlaced", "OrderPlaced" + ON_KAFKA),
    ("OrderPlaced" + ON_KAFKA, "PaymentAuthorized"),
    ("PaymentAuthorized", "PaymentAuthorized" + ON_KAFKA),
    ("PaymentAuthorized" + ON_KAFKA, "OrderConfirmed"),
    ("OrderConfirmed", "OrderConfirmed" + ON_KAFKA),
    ("OrderConfirmed" + ON_KAFKA, "email"),
)
DECLINED_HOPS: tuple[tuple[str, str], ...] = (
    ("POST", "OrderPlaced"),
    ("OrderPlaced" + ON_KAFKA, "PaymentRefused"),
    ("PaymentRefused" + ON_KAFKA, "email"),
)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks; None when
    there is no value."""
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside 0-100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Spread:
    """p50/p99/max of a set of durations, in milliseconds."""

    count: int
    p50: float | None
    p99: float | None
    max: float | None

    @classmethod
    def of(cls, values_ms: Sequence[float]) -> Spread:
        return cls(
            len(values_ms),
            percentile(values_ms, 50),
            percentile(values_ms, 99),
            max(values_ms) if values_ms else None,
        )

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "p50_ms": self.p50, "p99_ms": self.p99, "max_ms": self.max}


def milestones_by_order(
    events: Iterable[tuple[str, str, datetime]],
) -> dict[str, dict[str, datetime]]:
    """``(order_id, event_type, occurred_at)`` triples as, per order, the FIRST time each event
    type occurred (a redelivered or repeated event does not move a milestone)."""
    result: dict[str, dict[str, datetime]] = {}
    for order_id, kind, at in events:
        seen = result.setdefault(order_id, {})
        if kind not in seen or at < seen[kind]:
            seen[kind] = at
    return result


def hop_durations(
    milestones: Mapping[str, Mapping[str, datetime]],
    orders: Iterable[str],
    hops: Sequence[tuple[str, str]],
) -> dict[str, list[float]]:
    """Per hop ``"A → B"``, the milliseconds from A to B of each of ``orders`` that has both
    milestones (an order missing one is left out of that hop only)."""
    durations: dict[str, list[float]] = {hop_name(a, b): [] for a, b in hops}
    for order_id in orders:
        seen = milestones.get(order_id, {})
        for a, b in hops:
            if a in seen and b in seen:
                durations[hop_name(a, b)].append((seen[b] - seen[a]).total_seconds() * 1000)
    return durations


def hop_name(a: str, b: str) -> str:
    return f"{a} → {b}"


def throughput(count: int, first: datetime | None, last: datetime | None) -> float | None:
    """Orders per second over [first, last]; None when nothing completed."""
    if count == 0 or first is None or last is None:
        return None
    seconds = (last - first).total_seconds()
    return count / seconds if seconds > 0 else None


def per_order_ms(cpu_seconds: Mapping[str, float], orders: int) -> dict[str, float]:
    """CPU seconds spent per process during a phase as milliseconds per order."""
    if orders <= 0:
        return {}
    return {name: seconds * 1000 / orders for name, seconds in cpu_seconds.items()}


@dataclass(frozen=True)
class Target:
    name: str
    figure: float | None
    limit: float
    higher_is_better: bool
    unit: str

    @property
    def met(self) -> bool | None:
        if self.figure is None:
            return None
        return self.figure >= self.limit if self.higher_is_better else self.figure <= self.limit

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: "not measured"}[self.met]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "figure": self.figure,
            "target": self.limit,
            "higher_is_better": self.higher_is_better,
            "unit": self.unit,
            "met": self.met,
        }


def evaluate_targets(result: Mapping[str, Any], services: Sequence[str]) -> list[Target]:
    """Issue 18's targets against a bench result (the JSON's structure)."""
    phases = result.get("phases", {})
    saturation = phases.get("saturation", {})
    rate = phases.get("rate", {})
    slow = phases.get("latency", {})
    cpu = saturation.get("cpu_ms_per_order", {})
    services_cpu = sum(cpu[s] for s in services if s in cpu) if cpu else None
    sat_tp = saturation.get("orders_per_s")
    slow_tp = slow.get("orders_per_s")
    ratio = slow_tp / sat_tp if sat_tp and slow_tp is not None else None
    targets = [
        Target(
            "five services' CPU per order (saturation)",
            services_cpu,
            TARGET_SERVICES_CPU_MS,
            False,
            "ms",
        ),
        Target(
            "end to end at saturation", sat_tp, TARGET_SATURATION_ORDERS_PER_S, True, "orders/s"
        ),
        Target(
            "POST /orders p99 at the offered rate",
            rate.get("post_ms", {}).get("p99_ms"),
            TARGET_RATE_POST_P99_MS,
            False,
            "ms",
        ),
        Target(
            "POST → confirmation email p99 at the offered rate",
            rate.get("email_ms", {}).get("p99_ms"),
            TARGET_RATE_EMAIL_P99_MS,
            False,
            "ms",
        ),
        Target(
            "throughput with the stand-in at 300 ms / at 0 ms",
            ratio,
            TARGET_LATENCY_RATIO,
            True,
            "ratio",
        ),
    ]
    rss = result.get("rss_mb", {})
    for name in services:
        idle = rss.get(name, {}).get("idle")
        after = rss.get(name, {}).get("after")
        targets.append(Target(f"{name} RSS idle", idle, TARGET_IDLE_RSS_MB, False, "MB"))
        growth = (after - idle) / idle if idle and after is not None else None
        targets.append(
            Target(f"{name} RSS growth after the run", growth, TARGET_RSS_GROWTH, False, "ratio")
        )
    return targets


# --- rendering -----------------------------------------------------------------------------


def fmt(value: float | None, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "-"
    if unit == "ratio":
        return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.3f}"
    text = f"{value:,.{digits}f}".replace(",", " ")
    return f"{text} {unit}".rstrip()


def render_table(rows: Sequence[tuple[str, ...]]) -> str:
    """Rows as aligned columns; a row of one cell is a section heading, a row ``("",)`` a rule."""
    width = max((len(r) for r in rows if len(r) > 1), default=1)
    widths = [0] * width
    for row in rows:
        if len(row) > 1:
            for i, cell in enumerate(row):
                widths[i] = max(widths[i], len(cell))
    total = sum(widths) + 3 * (width - 1)
    lines: list[str] = []
    for row in rows:
        if len(row) == 1:
            lines.append(f"-- {row[0]} ".ljust(total, "-") if row[0] else "-" * total)
            continue
        cells = [
            cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ]
        lines.append(" | ".join(cells).rstrip())
    return "\n".join(lines)


def table_rows(result: Mapping[str, Any], targets: Sequence[Target]) -> list[tuple[str, ...]]:
    """The one table ``make bench`` prints, as rows (see :func:`render_table`)."""
    phases = result.get("phases", {})
    names = [p for p in ("rate", "saturation", "latency") if p in phases]
    titles = {
        "rate": "offered rate",
        "saturation": "saturation",
        "latency": "stand-in +300 ms",
    }
    rows: list[tuple[str, ...]] = [("end to end (card orders; 3-D Secure and declined apart)",)]
    rows.append(("", *(titles[p] for p in names)))

    def line(label: str, get: Any, unit: str = "", digits: int = 1) -> None:
        rows.append((label, *(fmt(get(phases[p]), unit, digits) for p in names)))

    line("orders played", lambda p: p.get("orders"), "", 0)
    line("offered rate (orders/s; none = saturation)", lambda p: p.get("offered_rate"), "")
    line("orders/s posted (POST answers)", lambda p: p.get("posted_per_s"), "")
    line("orders/s, POST → confirmation email", lambda p: p.get("orders_per_s"), "")
    line("confirmed / expected", lambda p: p.get("confirmed"), "", 0)
    line("POST /orders p50", lambda p: p.get("post_ms", {}).get("p50_ms"), "ms")
    line("POST /orders p99", lambda p: p.get("post_ms", {}).get("p99_ms"), "ms")
    line("POST → email p50 (card)", lambda p: p.get("email_ms", {}).get("p50_ms"), "ms")
    line("POST → email p99 (card)", lambda p: p.get("email_ms", {}).get("p99_ms"), "ms")
    line("POST → email p50 (3-D Secure)", lambda p: p.get("email_3ds_ms", {}).get("p50_ms"), "ms")
    line(
        "POST → refusal email p50 (declined)", lambda p: p.get("refusal_ms", {}).get("p50_ms"), "ms"
    )
    line("orders without their email", lambda p: p.get("missing"), "", 0)
    line("paid orders handed off to logistics", lambda p: p.get("handed_off"), "", 0)

    rows.append(("hops of card orders, p50 / p99 (events' occurred_at, Mailpit's received)",))
    hop_names: list[str] = []
    for p in names:
        for hop in phases[p].get("hops_ms", {}):
            if hop not in hop_names:
                hop_names.append(hop)
    for hop in hop_names:
        cells = []
        for p in names:
            spread = phases[p].get("hops_ms", {}).get(hop, {})
            cells.append(f"{fmt(spread.get('p50_ms'), 'ms')} / {fmt(spread.get('p99_ms'), 'ms')}")
        rows.append((hop, *cells))

    rows.append(("CPU per order (ms), /proc utime+stime, until the phase's orders are handed off",))
    processes: list[str] = []
    for p in names:
        for proc in phases[p].get("cpu_ms_per_order", {}):
            if proc not in processes:
                processes.append(proc)
    services = result.get("services", [])
    for proc in processes:
        line(f"  {proc}", lambda p, proc=proc: p.get("cpu_ms_per_order", {}).get(proc), "", 1)
    line(
        "  the five services together",
        lambda p: (
            sum(v for k, v in p.get("cpu_ms_per_order", {}).items() if k in services)
            if p.get("cpu_ms_per_order")
            else None
        ),
        "",
        1,
    )
    line(
        "  everything measured",
        lambda p: sum(p["cpu_ms_per_order"].values()) if p.get("cpu_ms_per_order") else None,
        "",
        1,
    )

    idle = result.get("idle_cpu_ms_per_s", {})
    if idle:
        rows.append(("CPU with no order at all (ms of CPU per second, before the load)",))
        for proc, value in idle.items():
            rows.append((f"  {proc}", fmt(value, "ms/s")))

    rows.append(("RSS (MB)",))
    rows.append(("", "idle", "after the run"))
    for proc, rss in result.get("rss_mb", {}).items():
        rows.append((f"  {proc}", fmt(rss.get("idle"), "", 1), fmt(rss.get("after"), "", 1)))

    floors = result.get("floors", {})
    if floors:
        rows.append(("floors (same run) and the platform at saturation as a ratio of each",))
        rows.append(("", "floor", "platform / floor"))
        sat = phases.get("saturation", {}).get("orders_per_s")
        for name, floor in floors.items():
            rate_value = floor.get("per_s")
            ratio = sat / rate_value if sat and rate_value else None
            rows.append(
                (f"  {name}", fmt(rate_value, floor.get("unit", "/s")), fmt(ratio, "ratio"))
            )

    rows.append(("targets (issue 18)",))
    rows.append(("", "figure", "target", "verdict"))
    for target in targets:
        limit = ("≥ " if target.higher_is_better else "≤ ") + fmt(target.limit, target.unit)
        rows.append((f"  {target.name}", fmt(target.figure, target.unit), limit, target.verdict))
    return rows


def compare(current: Mapping[str, Any], previous: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The headline figures of two results side by side, with the change in percent."""

    def headline(result: Mapping[str, Any]) -> dict[str, float | None]:
        phases = result.get("phases", {})
        figures: dict[str, float | None] = {}
        for phase, values in phases.items():
            figures[f"{phase}: orders/s"] = values.get("orders_per_s")
            figures[f"{phase}: POST p99 ms"] = values.get("post_ms", {}).get("p99_ms")
            figures[f"{phase}: POST → email p99 ms"] = values.get("email_ms", {}).get("p99_ms")
            for proc, ms in values.get("cpu_ms_per_order", {}).items():
                figures[f"{phase}: CPU ms/order {proc}"] = ms
        for proc, rss in result.get("rss_mb", {}).items():
            figures[f"RSS idle MB {proc}"] = rss.get("idle")
        return figures

    now, before = headline(current), headline(previous)
    rows: list[tuple[str, ...]] = [
        (f"compared with {previous.get('started_at', 'the previous run')}",),
        ("", "before", "now", "change"),
    ]
    for key in [*before, *(k for k in now if k not in before)]:
        a, b = before.get(key), now.get(key)
        change = f"{(b - a) / a * 100:+.0f} %" if a and b is not None else "-"
        rows.append((key, fmt(a), fmt(b), change))
    return rows
