"""Fixtures of the deployment checks: the tools (installed on first use by
tools/deploycheck/install.py, from package registries), the built overlays, the loaded compose
project, and what the code asks of a deployment (tools/deploycheck/catalog.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools" / "deploycheck"
BIN = ROOT / ".cache" / "bin"
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"

sys.path.insert(0, str(TOOLS))
import catalog  # noqa: E402  (tools/deploycheck/catalog.py)

Resource = dict[str, Any]


def run(cmd: list[str], *, stdin: str | None = None, cwd: Path = ROOT) -> str:
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=cwd, check=False)
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(str(c) for c in cmd)} failed ({done.returncode}):\n"
            f"{done.stderr.strip()[-4000:]}\n{done.stdout.strip()[-2000:]}",
            pytrace=False,
        )
    return done.stdout


@cache
def _install() -> None:
    run([sys.executable, str(TOOLS / "install.py")])


@pytest.fixture(scope="session")
def tools() -> Path:
    """The directory of the installed checkers (kustomize, kubeconform, composecheck, ...)."""
    _install()
    return BIN


def yaml_docs(text: str) -> list[Any]:
    _install()
    docs: list[Any] = json.loads(run([str(BIN / "yaml2json")], stdin=text))
    return docs


def yaml_file(path: Path) -> list[Any]:
    return yaml_docs(path.read_text())


@cache
def kustomize_build(path: str) -> str:
    _install()
    return run([str(BIN / "kustomize"), "build", str(K8S / path)])


@dataclass
class Built:
    """The resources of one `kustomize build`."""

    name: str
    text: str
    resources: list[Resource]

    def of_kind(self, kind: str) -> list[Resource]:
        return [r for r in self.resources if r.get("kind") == kind]

    def get(self, kind: str, name: str) -> Resource:
        for r in self.of_kind(kind):
            if r["metadata"]["name"] == name:
                return r
        raise LookupError(f"{self.name}: no {kind} named {name}")

    def find(self, kind: str, name: str) -> Resource | None:
        try:
            return self.get(kind, name)
        except LookupError:
            return None


@cache
def built(path: str) -> Built:
    text = kustomize_build(path)
    return Built(path, text, yaml_docs(text))


@pytest.fixture(scope="session", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> Built:
    return built(f"overlays/{request.param}")


@pytest.fixture(scope="session")
def base() -> Built:
    return built("base")


@cache
def compose_project() -> dict[str, Any]:
    """docker-compose.yml as `docker compose` itself loads it (compose-go), from .env.example."""
    _install()
    out = run([str(BIN / "composecheck"), "-env-file", str(ENV_EXAMPLE), str(COMPOSE_FILE)])
    project: dict[str, Any] = json.loads(out)
    return project


@cache
def compose_raw() -> dict[str, Any]:
    """docker-compose.yml as written (before interpolation, with its x- extensions)."""
    raw: dict[str, Any] = yaml_file(COMPOSE_FILE)[0]
    return raw


@cache
def services() -> list[str]:
    return catalog.services()


@cache
def service_settings(service: str) -> dict[str, catalog.Setting]:
    return catalog.service_settings(service)


@cache
def service_topics(service: str) -> catalog.Topics:
    return catalog.service_topics(service)


def container(deployment: Resource) -> Resource:
    containers: list[Resource] = deployment["spec"]["template"]["spec"]["containers"]
    return containers[0]


def provided_env(built: Built, deployment: Resource) -> dict[str, dict[str, Any]]:
    """{ENV: how it is provided} for the first container of a Deployment of a build.

    "how" is {"value": ...} (literal or from a ConfigMap of the build, via envFrom or
    configMapKeyRef), {"secret": (name, key, optional)}, or {"configmap": (name, key)} for a
    ConfigMap that the build does not contain (created by the operator).
    """
    c = container(deployment)
    out: dict[str, dict[str, Any]] = {}
    for source in c.get("envFrom", []):
        if "configMapRef" in source:
            cm = built.get("ConfigMap", source["configMapRef"]["name"])
            for key, value in (cm.get("data") or {}).items():
                out[key] = {"value": value, "from": f"ConfigMap {cm['metadata']['name']}"}
        elif "secretRef" in source:
            out[f"<all keys of Secret {source['secretRef']['name']}>"] = {"opaque": True}
    for item in c.get("env", []):
        name = item["name"]
        if "value" in item:
            out[name] = {"value": item["value"], "from": "literal"}
            continue
        ref = item.get("valueFrom", {})
        if "secretKeyRef" in ref:
            s = ref["secretKeyRef"]
            out[name] = {"secret": (s["name"], s["key"], bool(s.get("optional", False)))}
        elif "configMapKeyRef" in ref:
            m = ref["configMapKeyRef"]
            cm = built.find("ConfigMap", m["name"])
            if cm is not None and m["key"] in (cm.get("data") or {}):
                out[name] = {"value": cm["data"][m["key"]], "from": f"ConfigMap {m['name']}"}
            else:
                out[name] = {"configmap": (m["name"], m["key"])}
        else:
            out[name] = {"fieldRef": ref}
    return out
