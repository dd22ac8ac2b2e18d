"""The service image: one Dockerfile built from the repository root with --build-arg SERVICE.

No Docker engine runs here, so the file is checked as BuildKit reads it: its own linter (the
rules of `docker build --check`) and the project's rules on the stages: the build stage syncs
exactly the service from uv.lock, the runtime stage has no build tool, runs as a non-root user
and has a healthcheck on /health. uv.lock must also offer a wheel of every dependency for the
image's platform, since the build stage has no compiler.
"""

from __future__ import annotations

import json
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from .conftest import BIN, ROOT, run, services

pytestmark = pytest.mark.deploy

DOCKERFILE = ROOT / "Dockerfile"
LOCALSTRIPE_DOCKERFILE = ROOT / "deploy" / "docker" / "localstripe.Dockerfile"
BUILD_TOOLS = re.compile(
    r"\b(gcc|g\+\+|make|build-essential|cmake|clang|libc6-dev|python3-dev|rustc|cargo)\b"
)


@cache
def check(path: Path, service: str = "checkout") -> dict[str, Any]:
    out = run([str(BIN / "dockerfilecheck"), "-build-arg", f"SERVICE={service}", str(path)])
    report: dict[str, Any] = json.loads(out)
    return report


def final_stage(report: dict[str, Any]) -> dict[str, Any]:
    stage: dict[str, Any] = report["stages"][-1]
    return stage


def commands(stage: dict[str, Any], instruction: str) -> list[dict[str, Any]]:
    return [c for c in stage["commands"] if c["instruction"] == instruction]


@pytest.mark.parametrize("path", [DOCKERFILE, LOCALSTRIPE_DOCKERFILE], ids=lambda p: p.name)
def test_buildkit_finds_nothing_to_warn_about(tools: Path, path: Path) -> None:
    report = check(path)
    assert report.get("error") is None, f"{path.name} does not build: {report['error']}"
    warnings = [f"line {w['line']}: {w['rule']}: {w['message']}" for w in report["warnings"]]
    assert not warnings, f"docker build --check rules broken in {path.name}:\n" + "\n".join(
        warnings
    )


def test_the_image_is_built_in_stages_and_syncs_only_the_service_from_the_lock(
    tools: Path,
) -> None:
    report = check(DOCKERFILE)
    assert len(report["stages"]) >= 2, "the Dockerfile must be multi-stage (build, runtime)"
    builders = report["stages"][:-1]
    syncs = [
        c["original"]
        for stage in builders
        for c in commands(stage, "RUN")
        if re.search(r"\buv sync\b", c["original"])
    ]
    assert syncs, "no build stage runs `uv sync`"
    for sync in syncs:
        for flag in ("--frozen", "--no-dev", "--package"):
            assert flag in sync, f"`uv sync` without {flag}: {sync}"
        assert re.search(r"--package\s+\"?\$\{?SERVICE\b", sync), (
            f"`uv sync` must install the SERVICE build arg's package only: {sync}"
        )
    args = {a for stage in report["stages"] for c in commands(stage, "ARG") for a in c["args"]}
    assert "SERVICE" in args, "the Dockerfile must take the service as ARG SERVICE"


def test_the_runtime_stage_has_no_build_tools(tools: Path) -> None:
    stage = final_stage(check(DOCKERFILE))
    for cmd in commands(stage, "RUN"):
        text = cmd["original"]
        assert not re.search(r"\b(apt-get|apt|apk)\s+(-\S+\s+)*install\b", text) or not (
            BUILD_TOOLS.search(text)
        ), f"runtime stage installs build tools (line {cmd['line']}): {text}"
        assert "uv sync" not in text and "pip install" not in text, (
            f"runtime stage installs packages itself (line {cmd['line']}): {text}"
        )
    copies = commands(stage, "COPY")
    from_stages = {c.get("from") for c in copies if c.get("from")}
    builder_names = {s["name"] for s in check(DOCKERFILE)["stages"][:-1]}
    assert from_stages <= builder_names, (
        f"runtime stage copies from images other than the build stage: {from_stages}"
    )
    copied = [c["args"][:-1] for c in copies if c.get("from")]
    assert copied == [["/app/.venv"]], (
        f"only the built virtualenv should come from the build stage, got {copied}"
    )


def test_the_service_runs_as_a_non_root_user(tools: Path) -> None:
    stage = final_stage(check(DOCKERFILE))
    users = commands(stage, "USER")
    assert users, "the runtime stage sets no USER: the service would run as root"
    user = users[-1]["args"][0].split(":")[0]
    assert user not in {"root", "0"}, f"the runtime stage runs as {user}"
    last_user_line = users[-1]["line"]
    later_runs = [c for c in commands(stage, "RUN") if c["line"] > last_user_line]
    assert not later_runs, "RUN after USER: the image's last steps would not run as root"


def test_the_image_has_a_healthcheck_on_health(tools: Path) -> None:
    stage = final_stage(check(DOCKERFILE))
    healthchecks = commands(stage, "HEALTHCHECK")
    assert healthchecks, "the runtime stage has no HEALTHCHECK"
    test = " ".join(healthchecks[-1]["args"])
    script = ROOT / "deploy" / "docker" / "healthcheck.py"
    assert "healthcheck.py" in test and "/health" in script.read_text(), (
        f"the HEALTHCHECK must ask the service's /health: {test}"
    )
    copies = [c for c in commands(stage, "COPY") if "healthcheck.py" in " ".join(c["args"])]
    assert copies, "the healthcheck script is not copied into the runtime stage"


def test_the_build_context_holds_what_the_build_stage_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in ignore if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*", ".dockerignore should start from nothing and let in what builds"
    allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    report = check(DOCKERFILE)
    for stage in report["stages"]:
        for cmd in commands(stage, "COPY"):
            if cmd.get("from"):
                continue
            for source in cmd["args"][:-1]:
                assert source.rstrip("/") in allowed, (
                    f"COPY {source} (line {cmd['line']}) is kept out of the context by "
                    ".dockerignore"
                )
                assert (ROOT / source).exists(), f"COPY {source}: no such path in the repo"


# --- uv.lock: every dependency of every service has a wheel the image can install ------------


def _lock() -> dict[str, dict[str, Any]]:
    data = tomllib.loads((ROOT / "uv.lock").read_text())
    return {p["name"]: p for p in data["package"]}


def _closure(lock: dict[str, dict[str, Any]], name: str) -> set[str]:
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen or current not in lock:
            continue
        seen.add(current)
        for dep in lock[current].get("dependencies", []):
            marker = dep.get("marker", "")
            if "sys_platform == 'win32'" in marker or "platform_system == 'Windows'" in marker:
                continue
            if "sys_platform == 'darwin'" in marker:
                continue
            todo.append(dep["name"])
    return seen


def _installs_on_the_image(wheel: str) -> bool:
    """A wheel pip/uv would install on python:3.11-slim (glibc, x86_64)."""
    parts = wheel.removesuffix(".whl").split("-")
    python_tags, abi_tags, platform_tags = (set(p.split(".")) for p in parts[-3:])
    python_ok = bool(python_tags & {"cp311", "py3", "py311"}) or (
        "abi3" in abi_tags and any(re.fullmatch(r"cp3(\d+)", t) for t in python_tags)
    )
    platform_ok = any(
        t == "any" or re.fullmatch(r"(manylinux\w*|linux)_x86_64", t) for t in platform_tags
    )
    return python_ok and platform_ok


@pytest.mark.parametrize("service", services())
def test_every_dependency_of_the_service_installs_from_a_wheel(service: str) -> None:
    lock = _lock()
    assert service in lock, f"{service} is not in uv.lock: run `uv lock`"
    missing = []
    for name in sorted(_closure(lock, service)):
        package = lock[name]
        if "editable" in package.get("source", {}) or "virtual" in package.get("source", {}):
            continue  # workspace members: built by uv from their sources
        wheels = [w["url"].rsplit("/", 1)[-1] for w in package.get("wheels", [])]
        if not any(_installs_on_the_image(w) for w in wheels):
            missing.append(f"{name} {package.get('version')}")
    assert not missing, (
        f"{service}: no CPython 3.11 linux/amd64 wheel in uv.lock for {', '.join(missing)}: "
        "the image's build stage has no compiler"
    )


def test_the_healthcheck_passes_only_while_the_service_answers_on_its_port() -> None:
    import http.server
    import os
    import subprocess
    import sys
    import threading

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = {**os.environ, "SERVICE_MODULE": "checkout", "CHECKOUT_HTTP_PORT": str(port)}
    script = str(ROOT / "deploy" / "docker" / "healthcheck.py")
    try:
        alive = subprocess.run([sys.executable, script], env=env, timeout=30, check=False)
    finally:
        server.shutdown()
        server.server_close()
    dead = subprocess.run(
        [sys.executable, script], env=env, capture_output=True, timeout=30, check=False
    )
    assert alive.returncode == 0
    assert dead.returncode == 1
