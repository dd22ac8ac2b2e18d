"""deploy/k8s/base/monitoring: a PodMonitor per service scraping its /metrics, a PrometheusRule
that promtool accepts and whose alerts each link to a runbook paragraph of docs/operations.md,
a Grafana dashboard in a ConfigMap; every metric an alert or a panel reads is exported by the
code (jg_messaging.metrics and each service's metrics module)."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.metrics import MetricWrapperBase

from .conftest import BIN, ROOT, Built, built, run, services

pytestmark = pytest.mark.deploy

import promexpr  # noqa: E402  (tools/deploycheck/promexpr.py, on sys.path through conftest)

OPERATIONS = ROOT / "docs" / "operations.md"
# Series Prometheus itself writes for each target (not exported by the code).
SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "gauge": ("",),
    "info": ("_info",),
}


def exported_metrics() -> set[str]:
    """Every series name the libs and services can expose (their metrics modules' families)."""
    modules = ["jg_messaging.metrics"] + [
        f"{s}.metrics"
        for s in services()
        if (ROOT / "services" / s / "src" / s / "metrics.py").exists()
    ]
    names: set[str] = set()
    for module in modules:
        for value in vars(importlib.import_module(module)).values():
            if isinstance(value, MetricWrapperBase):
                for family in value.describe():
                    names |= {family.name + suffix for suffix in SUFFIXES[family.type]}
    return names


def alerts(b: Built) -> list[dict[str, Any]]:
    return [
        rule
        for r in b.of_kind("PrometheusRule")
        for group in r["spec"]["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def dashboard(b: Built) -> dict[str, Any]:
    cm = b.get("ConfigMap", "japangoodz-dashboard")
    assert cm["metadata"]["labels"].get("grafana_dashboard") == "1"
    (text,) = cm["data"].values()
    document: dict[str, Any] = json.loads(text)
    return document


def panel_expressions(document: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for panel in document["panels"]:
        for target in panel.get("targets", []):
            found.append((panel["title"], target["expr"]))
    return found


def anchors(markdown: str) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    out = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            out.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return out


def test_metric_names_are_found_in_expressions() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (job, le) (rate(a_seconds_bucket{job=~"x|y"}'
        "[$__rate_interval]))) / on(job) group_left b_total offset 5m and c > 1e3"
    )
    assert promexpr.metric_names(expr) == {"a_seconds_bucket", "b_total", "c"}


@pytest.fixture(scope="module")
def base(tools: Path) -> Built:
    return built("base")


def test_each_service_is_scraped_on_its_http_port(base: Built) -> None:
    monitors = {m["metadata"]["name"]: m for m in base.of_kind("PodMonitor")}
    assert set(monitors) == set(services())
    for service, monitor in monitors.items():
        pod_labels = base.get("Deployment", service)["spec"]["template"]["metadata"]["labels"]
        selector = monitor["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod_labels.items(), f"{service}: selects no pod"
        ports = {
            p["name"]
            for c in base.get("Deployment", service)["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])
        }
        (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
        assert endpoint["port"] in ports and endpoint["path"] == "/metrics"


def test_the_rules_and_the_dashboard_pass_promtool(base: Built, tmp_path: Path) -> None:
    (rule,) = base.of_kind("PrometheusRule")
    groups = list(rule["spec"]["groups"])
    groups.append(
        {
            "name": "dashboard-panels",
            "rules": [
                {"record": f"dashboard:panel_{i}", "expr": promexpr.grafana_to_promql(expr)}
                for i, (_, expr) in enumerate(panel_expressions(dashboard(base)))
            ],
        }
    )
    rules = tmp_path / "rules.json"  # promtool reads YAML, of which JSON is a subset
    rules.write_text(json.dumps({"groups": groups}))
    run([str(BIN / "promtool"), "check", "rules", str(rules)])


def test_the_alerts_an_on_call_engineer_needs_each_with_its_runbook(base: Built) -> None:
    by_name = {a["alert"]: a for a in alerts(base)}
    wanted = {
        "JGDeadLetter": "consumer_messages_total",
        "JGOutboxRowParked": "outbox_parked_rows",
        "JGOutboxStale": "outbox_oldest_pending_age_seconds",
        "JGConsumerLagGrowing": "consumer_lag_messages",
        "JGReleasesOverdue": "checkout_releases_overdue",
        "JGSmtpFailing": "notifications_emails_total",
        "JGStripeFailing": "payment_stripe_requests_total",
        "JGServiceNotReady": "service_ready",
    }
    assert set(wanted) <= set(by_name)
    for name, metric in wanted.items():
        assert metric in promexpr.metric_names(by_name[name]["expr"]), name
    documented = anchors(OPERATIONS.read_text())
    for name, alert in by_name.items():
        url = alert["annotations"]["runbook_url"]
        assert url.split("#")[0].endswith("docs/operations.md"), f"{name}: {url}"
        assert url.split("#", 1)[1] in documented, f"{name}: no paragraph {url} in operations.md"
        assert alert["labels"]["severity"] in {"critical", "warning"}


def test_every_metric_an_alert_or_a_panel_reads_is_exported_by_the_code(base: Built) -> None:
    exported = exported_metrics() | SYNTHETIC
    used = [(f"alert {a['alert']}", a["expr"]) for a in alerts(base)]
    used += [(f"panel {title!r}", expr) for title, expr in panel_expressions(dashboard(base))]
    missing = [
        f"{where}: {name}"
        for where, expr in used
        for name in sorted(promexpr.metric_names(expr) - exported)
    ]
    assert not missing, "metrics no code exports:\n" + "\n".join(missing)
    # and the dashboard shows every family the code exports (nothing measured goes unseen)
    shown = set().union(*(promexpr.metric_names(e) for _, e in panel_expressions(dashboard(base))))
    families = {re.sub(r"_(total|bucket|count|sum|created)$", "", n) for n in exported_metrics()}
    unseen = {
        f
        for f in families
        if not any(re.sub(r"_(total|bucket|count|sum)$", "", s) == f for s in shown)
    }
    assert not unseen - {"service_dependency_up"}, f"exported but on no panel: {sorted(unseen)}"


def test_the_overlays_carry_the_monitoring(tools: Path) -> None:
    for overlay in ("dev", "prod"):
        b = built(f"overlays/{overlay}")
        assert len(b.of_kind("PodMonitor")) == len(services())
        assert b.of_kind("PrometheusRule")
        assert dashboard(b)["uid"] == "japangoodz-platform"
