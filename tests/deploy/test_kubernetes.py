"""deploy/k8s: each overlay builds, validates against the Kubernetes and CRD schemas (strict),
and matches the code: a KafkaTopic per topic of libs/events and none other, per service a
Deployment with probes and resources, a PodDisruptionBudget, a ScaledObject bounded by its
topics' partitions, its own database, a KafkaUser whose ACLs are exactly what the service reads
and writes (from its AsyncAPI document), and NetworkPolicies that let it reach only what it
needs."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from jg_events import all_topics

from .conftest import (
    BIN,
    OVERLAYS,
    TOOLS,
    Built,
    built,
    container,
    provided_env,
    service_settings,
    service_topics,
    services,
)

pytestmark = pytest.mark.deploy

KUBERNETES_VERSION = "1.33.0"
PATHS = ["base", *(f"overlays/{o}" for o in OVERLAYS)]


def _kubeconform(b: Built) -> dict[str, Any]:
    import sys

    locations = subprocess.run(
        [sys.executable, str(TOOLS / "install.py"), "--print-locations"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    cmd = [str(BIN / "kubeconform"), "-strict", "-summary", "-output", "json",
           "-kubernetes-version", KUBERNETES_VERSION]  # fmt: skip
    for location in locations:
        cmd += ["-schema-location", location]
    done = subprocess.run([*cmd, "-"], input=b.text, capture_output=True, text=True, check=False)
    report: dict[str, Any] = json.loads(done.stdout)
    report["returncode"] = done.returncode
    return report


def test_the_ops_jobs_validate_against_the_kubernetes_schemas(tools: Path) -> None:
    from .conftest import K8S

    for job in sorted((K8S / "ops").glob("*.yaml")):
        text = job.read_text()
        report = _kubeconform(Built(job.name, text, []))
        problems = [
            f"{r['kind']} {r['name']}: {r.get('msg', '')}"
            for r in report.get("resources", [])
            if r["status"] != "statusValid"
        ]
        assert report["returncode"] == 0 and not problems, f"{job.name}: {problems}"


@pytest.mark.parametrize("path", PATHS)
def test_the_build_validates_against_kubernetes_and_crd_schemas_strictly(
    tools: Path, path: str
) -> None:
    b = built(path)
    report = _kubeconform(b)
    problems = [
        f"{r['kind']} {r['name']}: {r['status']}: {r.get('msg', '')}"
        + "".join(f"\n    {e['path']}: {e['msg']}" for e in r.get("validationErrors") or [])
        for r in report.get("resources", [])
        if r["status"] != "statusValid"
    ]
    assert report["returncode"] == 0 and not problems, (
        f"kubeconform (strict, Kubernetes {KUBERNETES_VERSION}) rejects {path}:\n"
        + "\n".join(problems)
    )
    summary = report["summary"]
    assert summary["valid"] == len(b.resources) and summary["skipped"] == 0, summary


# --- topics ----------------------------------------------------------------------------------


def _topic_name(topic: dict[str, Any]) -> str:
    return str(topic["spec"].get("topicName") or topic["metadata"]["name"])


def _topics(b: Built) -> dict[str, dict[str, Any]]:
    return {_topic_name(t): t for t in b.of_kind("KafkaTopic")}


@pytest.mark.parametrize("path", PATHS)
def test_every_topic_of_libs_events_has_its_kafka_topic_and_none_is_orphaned(
    tools: Path, path: str
) -> None:
    topics = set(_topics(built(path)))
    expected = set(all_topics())
    assert not expected - topics, f"{path}: no KafkaTopic for {sorted(expected - topics)}"
    assert not topics - expected, (
        f"{path}: KafkaTopics that no code names (jg_events.all_topics()): "
        f"{sorted(topics - expected)}"
    )
    for topic in built(path).of_kind("KafkaTopic"):
        assert topic["metadata"]["labels"].get("strimzi.io/cluster") == "jg-kafka", (
            f"KafkaTopic {_topic_name(topic)} is not bound to the cluster jg-kafka"
        )


def test_production_topics_survive_the_loss_of_a_broker(tools: Path) -> None:
    prod = built("overlays/prod")
    for name, topic in _topics(prod).items():
        spec = topic["spec"]
        assert spec["replicas"] == 3, f"prod: {name} has {spec['replicas']} replicas, not 3"
        assert int(spec["config"]["min.insync.replicas"]) == 2, (
            f"prod: {name} min.insync.replicas is not 2"
        )
    pool = prod.get("KafkaNodePool", "dual-role")
    assert pool["spec"]["replicas"] >= 3, "prod: fewer than three Kafka nodes"
    config = prod.get("Kafka", "jg-kafka")["spec"]["kafka"]["config"]
    assert int(config["offsets.topic.replication.factor"]) == 3
    assert int(config["default.replication.factor"]) == 3


@pytest.mark.parametrize("path", PATHS)
def test_dead_letters_are_kept_longer_than_events(tools: Path, path: str) -> None:
    topics = _topics(built(path))
    events = [int(t["spec"]["config"]["retention.ms"]) for n, t in topics.items()
              if not n.endswith(".dead-letter")]  # fmt: skip
    for name, topic in topics.items():
        if name.endswith(".dead-letter"):
            retention = int(topic["spec"]["config"]["retention.ms"])
            assert retention >= 30 * 24 * 3600 * 1000 and retention > max(events), (
                f"{path}: {name} keeps messages {retention} ms: dead letters need weeks"
            )


# --- per service -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_every_service_has_its_workload_and_no_workload_lacks_a_service(
    tools: Path, path: str
) -> None:
    b = built(path)
    for service in services():
        for kind, name in [
            ("Deployment", service), ("Service", service), ("PodDisruptionBudget", service),
            ("ScaledObject", service), ("KafkaUser", service), ("NetworkPolicy", service),
            ("Cluster", f"{service}-db"),
        ]:  # fmt: skip
            assert b.find(kind, name) is not None, (
                f"{path}: services/{service} has no {kind} {name}"
            )
    ours = [
        d["metadata"]["name"]
        for d in b.of_kind("Deployment")
        if d["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == "japangoodz"
    ]
    assert sorted(ours) == services(), f"{path}: Deployments {ours} vs services {services()}"


@pytest.mark.parametrize("service", services())
@pytest.mark.parametrize("path", PATHS)
def test_the_deployment_has_probes_resources_and_runs_unprivileged(
    tools: Path, path: str, service: str
) -> None:
    b = built(path)
    deployment = b.get("Deployment", service)
    c = container(deployment)
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    assert "http" in ports, f"{service}: no port named http"
    http_port = str(ports["http"])
    env = provided_env(b, deployment)
    assert env.get(f"{service.upper()}_HTTP_PORT", {}).get("value") == http_port, (
        f"{service}: the container port {http_port} is not the port the service listens on"
    )
    assert env.get(f"{service.upper()}_HTTP_HOST", {}).get("value") == "0.0.0.0", (
        f"{service}: must listen on 0.0.0.0 in a pod"
    )
    for probe, path_ in (("readinessProbe", "/ready"), ("livenessProbe", "/health")):
        get = c.get(probe, {}).get("httpGet", {})
        assert get.get("path") == path_ and get.get("port") in ("http", ports["http"]), (
            f"{service}: {probe} must GET {path_} on the service's port, got {get}"
        )
    resources = c.get("resources", {})
    assert {"cpu", "memory"} <= set(resources.get("requests", {})), f"{service}: no requests"
    assert "memory" in resources.get("limits", {}), f"{service}: no memory limit"
    pod_security = deployment["spec"]["template"]["spec"].get("securityContext", {})
    assert pod_security.get("runAsNonRoot") is True, f"{service}: may run as root"
    security = c.get("securityContext", {})
    assert security.get("allowPrivilegeEscalation") is False
    assert c["image"].split("/")[-1].split(":")[0] == service, (
        f"{service} runs the image {c['image']}"
    )


@pytest.mark.parametrize("service", services())
@pytest.mark.parametrize("path", PATHS)
def test_the_pdb_covers_the_service_pods(tools: Path, path: str, service: str) -> None:
    b = built(path)
    labels = b.get("Deployment", service)["spec"]["template"]["metadata"]["labels"]
    pdb = b.get("PodDisruptionBudget", service)
    selector = pdb["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items(), f"{service}: the PDB selects other pods"
    assert "maxUnavailable" in pdb["spec"] or "minAvailable" in pdb["spec"]


@pytest.mark.parametrize("service", services())
@pytest.mark.parametrize("path", PATHS)
def test_scaling_follows_consumer_lag_and_stays_within_the_partitions(
    tools: Path, path: str, service: str
) -> None:
    b = built(path)
    scaled = b.get("ScaledObject", service)["spec"]
    assert scaled["scaleTargetRef"]["name"] == service
    kafka = [t for t in scaled["triggers"] if t["type"] == "kafka"]
    assert kafka, f"{path} {service}: no Kafka consumer-lag trigger"
    assert kafka[0]["metadata"]["consumerGroup"] == service
    topics = _topics(b)
    reads = service_topics(service).reads
    partitions = max(topics[t]["spec"]["partitions"] for t in reads) if reads else 1
    maximum = scaled["maxReplicaCount"]
    assert scaled.get("minReplicaCount", 0) <= maximum <= partitions, (
        f"{path} {service}: maxReplicaCount {maximum} exceeds the {partitions} partitions of "
        f"the topics it consumes ({sorted(reads)}): the extra consumers would sit idle"
    )
    if path == "overlays/prod":
        assert scaled["minReplicaCount"] >= 2, f"prod {service}: one replica is no redundancy"


# --- Kafka users and their ACLs ----------------------------------------------------------------


def _acls(user: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    out = set()
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        for operation in acl.get("operations", []):
            out.add(
                (
                    resource["type"],
                    resource.get("name", ""),
                    resource.get("patternType", "literal"),
                    operation,
                )
            )
        assert acl.get("type", "allow") == "allow"
    return out


@pytest.mark.parametrize("service", services())
def test_each_service_kafka_user_may_do_exactly_what_the_service_does(
    tools: Path, service: str
) -> None:
    topics = service_topics(service)
    expected = {("group", service, "literal", op) for op in ("Read", "Describe")}
    expected |= {("cluster", "", "literal", "IdempotentWrite")}
    expected |= {("topic", t, "literal", op) for t in topics.reads for op in ("Read", "Describe")}
    expected |= {("topic", t, "literal", op) for t in topics.writes for op in ("Write", "Describe")}
    for path in PATHS:
        user = built(path).get("KafkaUser", service)
        assert user["spec"]["authentication"]["type"] in {"scram-sha-512", "tls"}
        actual = _acls(user)
        assert actual == expected, (
            f"{path}: KafkaUser {service} ACLs differ from what the code reads and writes "
            f"(its AsyncAPI document and dead-letter topic):\n"
            f"  missing: {sorted(expected - actual)}\n  extra:   {sorted(actual - expected)}"
        )


def test_production_brokers_authenticate_every_client_and_enforce_acls(tools: Path) -> None:
    kafka = built("overlays/prod").get("Kafka", "jg-kafka")["spec"]["kafka"]
    assert kafka.get("authorization", {}).get("type") == "simple", "prod: ACLs not enforced"
    for listener in kafka["listeners"]:
        assert listener.get("authentication"), f"prod listener {listener['name']} is open"
        assert listener["tls"], f"prod listener {listener['name']} is not encrypted"


# --- databases --------------------------------------------------------------------------------


@pytest.mark.parametrize("service", services())
@pytest.mark.parametrize("path", PATHS)
def test_each_service_has_its_own_database(tools: Path, path: str, service: str) -> None:
    b = built(path)
    cluster = b.get("Cluster", f"{service}-db")
    initdb = cluster["spec"]["bootstrap"]["initdb"]
    assert initdb["database"] == service and initdb["owner"] == service
    env = provided_env(b, b.get("Deployment", service))
    assert env[f"{service.upper()}_DATABASE_URL"].get("secret", ())[:2] == (
        f"{service}-db-app",
        "uri",
    ), f"{path} {service}: the database URL is not CloudNativePG's secret of its own cluster"
    if path == "overlays/prod":
        assert cluster["spec"]["instances"] >= 3
        assert cluster["spec"].get("backup"), f"prod {service}: the database has no backup"


# --- network policies ---------------------------------------------------------------------------


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return dict(selector.get("matchLabels", {})).items() <= labels.items()


def _policies_for(b: Built, labels: dict[str, str]) -> list[dict[str, Any]]:
    return [p for p in b.of_kind("NetworkPolicy") if _selects(p["spec"]["podSelector"], labels)]


def _pod_labels(b: Built, kind: str, name: str) -> dict[str, str]:
    if kind == "Deployment":
        labels: dict[str, str] = b.get("Deployment", name)["spec"]["template"]["metadata"]["labels"]
        return labels
    return {"cnpg.io/cluster": name}  # CloudNativePG's pod label


def _egress_allows(b: Built, source: dict[str, str], target: dict[str, str], port: int) -> bool:
    for policy in _policies_for(b, source):
        for rule in policy["spec"].get("egress", []):
            ports = [p.get("port") for p in rule.get("ports", [])]
            if ports and port not in ports:
                continue
            for peer in rule.get("to", []):
                if (
                    "podSelector" in peer
                    and "namespaceSelector" not in peer
                    and _selects(peer["podSelector"], target)
                ):
                    return True
    return False


def _ingress_allows(
    b: Built, target: dict[str, str], source: dict[str, str], port: int | str
) -> bool:
    for policy in _policies_for(b, target):
        for rule in policy["spec"].get("ingress", []):
            ports = [p.get("port") for p in rule.get("ports", [])]
            if ports and port not in ports:
                continue
            for peer in rule.get("from", []):
                if (
                    "podSelector" in peer
                    and "namespaceSelector" not in peer
                    and _selects(peer["podSelector"], source)
                ):
                    return True
    return False


@pytest.mark.parametrize("service", services())
@pytest.mark.parametrize("path", PATHS)
def test_each_service_is_isolated_and_reaches_only_what_it_needs(
    tools: Path, path: str, service: str
) -> None:
    b = built(path)
    me = _pod_labels(b, "Deployment", service)
    policies = _policies_for(b, me)
    types = {t for p in policies for t in p["spec"].get("policyTypes", [])}
    assert {"Ingress", "Egress"} <= types, (
        f"{path} {service}: its pods are not isolated for {sorted({'Ingress', 'Egress'} - types)}"
    )
    kafka_pod = {"strimzi.io/cluster": "jg-kafka", "strimzi.io/kind": "Kafka"}
    assert _egress_allows(b, me, kafka_pod, 9092) or _egress_allows(b, me, kafka_pod, 9093), (
        f"{path} {service}: cannot reach Kafka"
    )
    for other in services():
        db = _pod_labels(b, "Cluster", f"{other}-db")
        reaches = _egress_allows(b, me, db, 5432)
        admitted = _ingress_allows(b, db, me, 5432)
        if other == service:
            assert reaches and admitted, f"{path} {service}: cannot reach its own database"
        else:
            assert not reaches and not admitted, f"{path} {service}: may reach {other}'s database"


@pytest.mark.parametrize("service", services())
@pytest.mark.parametrize("path", PATHS)
def test_each_http_call_to_another_service_is_allowed_both_ways(
    tools: Path, path: str, service: str
) -> None:
    b = built(path)
    me = _pod_labels(b, "Deployment", service)
    reads = service_settings(service)
    for env, how in provided_env(b, b.get("Deployment", service)).items():
        if env not in reads or env.endswith("_ISSUER"):
            continue  # not read by this service (platform ConfigMap), or a name, not a call
        value = str(how.get("value", ""))
        if not re.match(r"^https?://", value):
            continue
        url = urlparse(value)
        target = url.hostname or ""
        if b.find("Service", target) is None or target == service:
            continue  # outside the cluster, or itself
        port = url.port or 80
        target_pods = b.get("Service", target)["spec"]["selector"]
        assert _egress_allows(b, me, target_pods, port), (
            f"{path}: {service} calls {value} ({env}) but its NetworkPolicy forbids it"
        )
        if target in services():
            assert _ingress_allows(b, target_pods, me, "http") or _ingress_allows(
                b, target_pods, me, port
            ), f"{path}: {target} does not admit {service}, which calls it ({env})"
