"""The Secrets an overlay references are exactly those tools/k8s_secrets.py writes (plus the ones
the operators write themselves), so following docs/operations.md leaves no pod waiting for a
missing Secret or key."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, Built, built, yaml_docs

pytestmark = pytest.mark.deploy

PROD_ENVIRONMENT = {
    "STRIPE_API_KEY": "sk_live_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
    "SMTP_USERNAME": "relay-user",
    "SMTP_PASSWORD": "relay-password",
    "BACKUP_S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "BACKUP_S3_SECRET_ACCESS_KEY": "example",
}


def _written_by_operators(b: Built, name: str) -> bool:
    users = {u["metadata"]["name"] for u in b.of_kind("KafkaUser")}
    clusters = {c["metadata"]["name"] for c in b.of_kind("Cluster")}
    kafka = {k["metadata"]["name"] for k in b.of_kind("Kafka")}
    return (
        name in users  # Strimzi's User Operator: the KafkaUser's password
        or name in {f"{c}-app" for c in clusters}  # CloudNativePG: the app user's URI
        or name in {f"{k}-cluster-ca-cert" for k in kafka}  # Strimzi: the cluster CA
    )


def _references(node: Any, found: list[tuple[str, str, bool]]) -> None:
    """Every (secret, key, optional) referenced anywhere in a resource."""
    if isinstance(node, dict):
        ref = node.get("secretKeyRef")
        if isinstance(ref, dict) and "name" in ref:
            found.append((ref["name"], ref["key"], bool(ref.get("optional"))))
        if "secretName" in node and isinstance(node.get("items"), list):
            for item in node["items"]:
                found.append((node["secretName"], item["key"], False))
        for key, value in node.items():
            if key == "secretTargetRef":
                found.extend((t["name"], t["key"], False) for t in value)
            elif key in {"accessKeyId", "secretAccessKey"} and isinstance(value, dict):
                found.append((value["name"], value["key"], False))
            else:
                _references(value, found)
    elif isinstance(node, list):
        for item in node:
            _references(item, found)


def _generated(overlay: str) -> dict[str, dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k not in PROD_ENVIRONMENT}
    if overlay == "prod":
        env.update(PROD_ENVIRONMENT)
    done = subprocess.run(  # the documented command
        [sys.executable, str(ROOT / "tools" / "k8s_secrets.py"), "--overlay", overlay,
         "--namespace", f"ns-{overlay}"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return {
        doc["metadata"]["name"]: {
            k: base64.b64decode(v).decode() for k, v in (doc.get("data") or {}).items()
        }
        for doc in yaml_docs(done.stdout)
    }


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_referenced_secret_is_written_by_the_documented_procedure(
    tools: Path, overlay: str
) -> None:
    b = built(f"overlays/{overlay}")
    references: list[tuple[str, str, bool]] = []
    _references(b.resources, references)
    generated = _generated(overlay)
    missing = [
        f"{name}/{key}"
        for name, key, optional in references
        if not optional
        and not _written_by_operators(b, name)
        and key not in generated.get(name, {})
    ]
    assert not missing, (
        f"{overlay}: tools/k8s_secrets.py does not write {sorted(set(missing))}, which the "
        "manifests need"
    )
    referenced = {name for name, _, _ in references}
    unused = sorted(set(generated) - referenced)
    assert not unused, f"{overlay}: tools/k8s_secrets.py writes Secrets nothing uses: {unused}"


def test_generated_tokens_are_random_and_the_signing_key_is_a_private_key(tools: Path) -> None:
    first, second = _generated("dev"), _generated("dev")
    token = first["checkout-secrets"]["storefront-token"]
    assert len(token) == 64 and token != second["checkout-secrets"]["storefront-token"]
    assert "dev-only" not in token  # the services refuse their development defaults in prod
    assert first["accounts-secrets"]["jwt-private-key"].startswith("-----BEGIN PRIVATE KEY-----")


def test_production_refuses_to_invent_outside_credentials(tools: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in PROD_ENVIRONMENT}
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "k8s_secrets.py"), "--overlay", "prod",
         "--namespace", "japangoodz"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode != 0 and "STRIPE_API_KEY" in done.stderr
