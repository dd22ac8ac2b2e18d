"""Account links (password reset, email change, email verification) hold secret tokens. They
travel on topics that other services may read (the KafkaUsers' ACLs), so they travel sealed
(jg_events.sealing), and the key that opens them must reach accounts (which seals) and
notifications (which opens) and no other workload, in Kubernetes and in Compose. The readers
of a topic get what its events carry: no event a non-holder can read may carry a link in clear.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jg_events import ALL_EVENTS, LINK_KEY_HOLDERS, Event, Topic, sealed_link_of, topic_name
from jg_events.examples import example_envelope

from .conftest import Built, built, compose_raw, service_settings, services

pytestmark = pytest.mark.deploy

PATHS = ["base", "overlays/dev", "overlays/prod"]
KEY_SETTING = re.compile(r"^[A-Z]+_LINK_SEALING_KEY$")
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")


def _current_versions() -> list[type[Event]]:
    """The version of each event type that producers publish today (the highest)."""
    latest: dict[str, type[Event]] = {}
    for cls in ALL_EVENTS:
        best = latest.get(cls.event_type)
        if best is None or cls.schema_version > best.schema_version:
            latest[cls.event_type] = cls
    return list(latest.values())


def _link_topics() -> set[str]:
    """Topics (base names) whose events carry a sealed link."""
    return {
        cls.topic.value
        for cls in _current_versions()
        if sealed_link_of(example_envelope(cls).payload) is not None
    }


def _key_settings() -> dict[str, str]:
    """{service: the setting holding the link sealing key}, read from the services' code."""
    found = {}
    for service in services():
        for env in service_settings(service):
            if KEY_SETTING.match(env):
                found[service] = env
    return found


def _secret_references(node: Any, found: set[str]) -> None:
    """Names of every Secret a resource uses (env, envFrom, volumes, projected volumes)."""
    if isinstance(node, dict):
        for key in ("secretKeyRef", "secretRef"):
            ref = node.get(key)
            if isinstance(ref, dict) and "name" in ref:
                found.add(ref["name"])
        secret = node.get("secret")
        if isinstance(secret, dict) and "secretName" in secret:
            found.add(secret["secretName"])
        if "secretName" in node and isinstance(node.get("secretName"), str):
            found.add(node["secretName"])
        for value in node.values():
            _secret_references(value, found)
    elif isinstance(node, list):
        for item in node:
            _secret_references(item, found)


def _key_source(b: Built, service: str, env: str) -> tuple[str, str]:
    deployment = b.get("Deployment", service)
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        for item in container.get("env", []):
            if item["name"] == env:
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                assert ref, f"{b.name}: {service} {env} does not come from a Secret"
                return ref["name"], ref["key"]
    raise AssertionError(f"{b.name}: the {service} Deployment is not given {env}")


def _readers(b: Built, topic: str) -> set[str]:
    """KafkaUsers allowed to read ``topic``."""
    readers = set()
    for user in b.of_kind("KafkaUser"):
        for acl in user["spec"]["authorization"].get("acls", []):
            resource = acl["resource"]
            if resource["type"] != "topic" or "Read" not in acl.get("operations", []):
                continue
            name, pattern = resource.get("name", ""), resource.get("patternType", "literal")
            if (pattern == "literal" and name == topic) or (
                pattern == "prefix" and topic.startswith(name)
            ):
                readers.add(user["metadata"]["name"])
    return readers


def test_only_the_key_holders_read_a_link_sealing_key_in_their_code() -> None:
    assert _link_topics() == {Topic.ACCOUNTS_CUSTOMERS.value}
    assert set(_key_settings()) == LINK_KEY_HOLDERS, (
        f"services reading a *_LINK_SEALING_KEY: {sorted(_key_settings())}; only "
        f"{sorted(LINK_KEY_HOLDERS)} may hold the key that opens account links"
    )


@pytest.mark.parametrize("path", PATHS)
def test_the_link_sealing_key_reaches_accounts_and_notifications_and_no_other_workload(
    tools: Path, path: str
) -> None:
    b = built(path)
    sources = {service: _key_source(b, service, env) for service, env in _key_settings().items()}
    assert len(set(sources.values())) == 1, (
        f"{path}: accounts and notifications must share one key, got {sources}"
    )
    [(secret, _)] = set(sources.values())
    holders = set()
    for kind in WORKLOADS:
        for resource in b.of_kind(kind):
            used: set[str] = set()
            _secret_references(resource, used)
            if secret in used:
                holders.add(resource["metadata"]["name"])
    assert holders == set(LINK_KEY_HOLDERS), (
        f"{path}: the Secret {secret} (it opens account links) is used by {sorted(holders)}; "
        f"only {sorted(LINK_KEY_HOLDERS)} may have it"
    )


@pytest.mark.parametrize("path", PATHS)
def test_what_a_topic_carries_is_readable_by_its_readers_only_sealed(
    tools: Path, path: str
) -> None:
    b = built(path)
    for topic in Topic:
        readers = _readers(b, topic_name(topic))
        if topic.value in _link_topics():
            openers = LINK_KEY_HOLDERS - {"accounts"}
            assert openers <= readers, f"{path}: {sorted(openers)} cannot read {topic.value}"
        if not readers - LINK_KEY_HOLDERS:
            continue
        for cls in _current_versions():
            if cls.topic is not topic:
                continue
            text = json.dumps(example_envelope(cls).model_dump(mode="json"))
            assert "token=" not in text, (
                f"{path}: {cls.event_type} v{cls.schema_version} carries a link in clear on "
                f"{topic.value}, which {sorted(readers - LINK_KEY_HOLDERS)} may read"
            )


def test_compose_gives_the_link_sealing_key_to_accounts_and_notifications_only(
    tools: Path,
) -> None:
    raw = compose_raw()["services"]
    variables = {
        service: str(raw[service]["environment"][env]) for service, env in _key_settings().items()
    }
    assert len(set(variables.values())) == 1, f"one shared variable, got {variables}"
    [variable] = set(variables.values())
    name = re.match(r"^\$\{(\w+)", variable)
    assert name, f"the key must come from .env, got {variable}"
    holders = {
        service
        for service, spec in raw.items()
        if any(
            f"${{{name.group(1)}" in str(value)
            for value in (spec.get("environment") or {}).values()
        )
    }
    assert holders == set(LINK_KEY_HOLDERS), f"docker-compose.yml: {sorted(holders)} get it"
