"""The pure parts of `make bench`: percentiles, hops from the events, targets, the table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from . import report
from .procs import cpu_ticks, parse_stat

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def at(ms: float) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert report.percentile(values, 50) == pytest.approx(50.5)
    assert report.percentile(values, 99) == pytest.approx(99.01)
    assert report.percentile(values, 0) == 1
    assert report.percentile(values, 100) == 100
    assert report.percentile([7.0], 99) == 7
    assert report.percentile([], 50) is None
    with pytest.raises(ValueError, match="outside"):
        report.percentile(values, 101)


def test_the_order_of_the_values_does_not_matter() -> None:
    assert report.percentile([30.0, 10.0, 20.0], 50) == 20


def test_a_spread_reports_count_median_tail_and_max() -> None:
    spread = report.Spread.of([10.0, 20.0, 30.0, 1000.0])
    assert spread.count == 4
    assert spread.p50 == 25
    assert spread.max == 1000
    assert spread.p99 is not None and 900 < spread.p99 < 1000
    assert report.Spread.of([]).as_dict() == {
        "count": 0,
        "p50_ms": None,
        "p99_ms": None,
        "max_ms": None,
    }


def test_milestones_keep_the_first_occurrence_of_each_event() -> None:
    events = [
        ("o1", "OrderPlaced", at(100)),
        ("o1", "PaymentAuthorized", at(400)),
        ("o1", "PaymentAuthorized", at(350)),  # read later, happened earlier
        ("o1", "PaymentAuthorized", at(900)),  # a repeat does not move it
        ("o2", "OrderPlaced", at(50)),
    ]
    milestones = report.milestones_by_order(events)
    assert milestones["o1"] == {"OrderPlaced": at(100), "PaymentAuthorized": at(350)}
    assert milestones["o2"] == {"OrderPlaced": at(50)}


def test_hops_are_measured_per_order_and_skip_an_order_missing_a_milestone() -> None:
    k = report.ON_KAFKA
    milestones = {
        "o1": {
            "POST": at(0),
            "OrderPlaced": at(20),
            f"OrderPlaced{k}": at(25),
            "PaymentAuthorized": at(320),
            f"PaymentAuthorized{k}": at(322),
            "OrderConfirmed": at(340),
            f"OrderConfirmed{k}": at(350),
            "email": at(640),
        },
        "o2": {"POST": at(0), "OrderPlaced": at(30)},  # not even published yet
    }
    hops = report.hop_durations(milestones, ["o1", "o2", "unknown"], report.CARD_HOPS)
    assert hops["POST → OrderPlaced"] == [20, 30]
    assert hops[f"OrderPlaced → OrderPlaced{k}"] == [5]  # checkout's outbox relay
    assert hops[f"OrderPlaced{k} → PaymentAuthorized"] == [295]  # payment's queue and Stripe
    assert hops[f"PaymentAuthorized{k} → OrderConfirmed"] == [18]
    assert hops[f"OrderConfirmed{k} → email"] == [290]
    # the hops of one order add up to its POST → email
    assert sum(v[0] for v in hops.values()) == 640


def test_throughput_is_completed_orders_over_the_span() -> None:
    assert report.throughput(50, at(0), at(2000)) == 25
    assert report.throughput(0, at(0), at(2000)) is None
    assert report.throughput(5, at(0), at(0)) is None


def test_cpu_per_order_is_milliseconds_per_order() -> None:
    assert report.per_order_ms({"payment": 2.0, "checkout": 0.5}, 100) == {
        "payment": 20.0,
        "checkout": 5.0,
    }
    assert report.per_order_ms({"payment": 2.0}, 0) == {}


def test_proc_stat_with_spaces_and_parentheses_in_the_name() -> None:
    fields = " ".join(str(n) for n in range(5, 53))  # field n holds n
    ppid, rest = parse_stat(f"1234 (python -m (x)) S 77 {fields}")
    assert ppid == 77
    # utime, stime, cutime, cstime are fields 14 to 17 of stat: here 14, 15, 16, 17.
    assert cpu_ticks(rest, with_children=False) == 14 + 15
    assert cpu_ticks(rest, with_children=True) == 14 + 15 + 16 + 17


def result(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "services": ["payment", "checkout"],
        "phases": {
            "rate": {
                "orders": 600,
                "orders_per_s": 10.0,
                "post_ms": {"p50_ms": 12.0, "p99_ms": 40.0},
                "email_ms": {"p50_ms": 300.0, "p99_ms": 1500.0},
                "hops_ms": {"POST → OrderPlaced": {"p50_ms": 10.0, "p99_ms": 30.0}},
                "cpu_ms_per_order": {"payment": 8.0, "checkout": 6.0, "Kafka": 9.0},
            },
            "saturation": {
                "orders": 1000,
                "orders_per_s": 30.0,
                "post_ms": {"p50_ms": 40.0, "p99_ms": 90.0},
                "email_ms": {"p50_ms": 900.0, "p99_ms": 4000.0},
                "hops_ms": {"POST → OrderPlaced": {"p50_ms": 30.0, "p99_ms": 80.0}},
                "cpu_ms_per_order": {"payment": 12.0, "checkout": 10.0, "Kafka": 9.0},
            },
            "latency": {"orders": 400, "orders_per_s": 12.0},
        },
        "rss_mb": {
            "payment": {"idle": 75.0, "after": 90.0},
            "checkout": {"idle": 70.0, "after": 71.0},
        },
        "floors": {"Stripe stand-in": {"per_s": 120.0, "unit": "intents/s"}},
    }
    return base | changes


def verdicts(targets: list[report.Target]) -> dict[str, str]:
    return {t.name: t.verdict for t in targets}


def test_each_target_is_met_or_missed_from_the_figures() -> None:
    targets = report.evaluate_targets(result(), ["payment", "checkout"])
    seen = verdicts(targets)
    figures = {t.name: t.figure for t in targets}
    assert figures["five services' CPU per order (saturation)"] == 22  # payment + checkout
    assert seen["five services' CPU per order (saturation)"] == "met"
    assert seen["end to end at saturation"] == "met"
    assert seen["POST /orders p99 at the offered rate"] == "met"
    assert seen["POST → confirmation email p99 at the offered rate"] == "MISSED"
    assert figures["throughput with the stand-in at 300 ms / at 0 ms"] == pytest.approx(0.4)
    assert seen["throughput with the stand-in at 300 ms / at 0 ms"] == "MISSED"
    assert seen["payment RSS idle"] == "met"
    assert seen["payment RSS growth after the run"] == "MISSED"  # 75 -> 90 MB is 20 %
    assert seen["checkout RSS growth after the run"] == "met"


def test_a_phase_not_played_is_not_measured_rather_than_met() -> None:
    partial = result(phases={"saturation": {"orders_per_s": 30.0}})
    seen = verdicts(report.evaluate_targets(partial, ["payment"]))
    assert seen["throughput with the stand-in at 300 ms / at 0 ms"] == "not measured"
    assert seen["POST /orders p99 at the offered rate"] == "not measured"
    assert seen["end to end at saturation"] == "met"


def test_the_table_shows_every_phase_hop_process_floor_and_target() -> None:
    data = result()
    text = report.render_table(
        report.table_rows(data, report.evaluate_targets(data, ["payment", "checkout"]))
    )
    lines = text.splitlines()
    header = next(line for line in lines if "offered rate" in line and "saturation" in line)
    assert "stand-in +300 ms" in header
    post = next(line for line in lines if line.startswith("POST /orders p99"))
    assert "40.0 ms" in post and "90.0 ms" in post
    hop = next(line for line in lines if line.startswith("POST → OrderPlaced"))
    assert "10.0 ms / 30.0 ms" in hop and "30.0 ms / 80.0 ms" in hop
    together = next(line for line in lines if "the five services together" in line)
    assert together.split("|")[1].strip() == "14.0"  # rate: 8 + 6, Kafka apart
    assert together.split("|")[2].strip() == "22.0"
    floor = next(line for line in lines if "Stripe stand-in" in line and "intents/s" in line)
    assert "120.0 intents/s" in floor and floor.rstrip().endswith("0.25")  # 30 / 120
    missed = next(line for line in lines if "POST → confirmation email p99" in line)
    assert missed.rstrip().endswith("MISSED") and "≤ 1 000.0 ms" in missed
    # every line of a section has its columns aligned
    bars = {line.index("|") for line in lines if "|" in line}
    assert len(bars) == 1


def test_two_runs_compare_with_the_change_in_percent() -> None:
    before = result(started_at="2026-12-01T10:00:00+00:00")
    now = result()
    now["phases"]["saturation"] = now["phases"]["saturation"] | {"orders_per_s": 45.0}  # type: ignore[index]
    rows = report.compare(now, before)
    assert "2026-12-01T10:00:00+00:00" in rows[0][0]
    line = next(r for r in rows if r[0] == "saturation: orders/s")
    assert line[1:] == ("30.0", "45.0", "+50 %")


def test_the_order_mix_is_mostly_card_with_some_3ds_and_declined() -> None:
    from collections import Counter

    from .platform import kind_of

    assert Counter(kind_of(n) for n in range(2000)) == {"card": 1700, "3ds": 200, "declined": 100}
    assert kind_of(1) == "card"  # a short run still starts with card orders
