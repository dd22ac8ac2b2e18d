"""Every service has the one shape of docs/service-shape.md, and stays readable in one sitting.

A newcomer who knows one service finds the same modules in the next; these checks keep it so
when a service grows: the layers exist under the same names, the domain does no I/O, and no
file or function outgrows what a reader can hold.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
SERVICES = sorted(p for p in (REPO / "services").iterdir() if (p / "pyproject.toml").is_file())
LAYERS = ("settings", "app", "context", "routes", "handlers", "usecases", "domain", "repository")
IO_MODULES = {"asyncpg", "aiokafka", "faststream", "httpx", "aiosmtplib", "stripe", "fastapi"}
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 60


def _package(service: Path) -> Path:
    return service / "src" / service.name


def _sources(service: Path) -> list[Path]:
    return sorted(_package(service).rglob("*.py"))


def test_the_services_are_found() -> None:
    assert {s.name for s in SERVICES} >= {
        "accounts",
        "checkout",
        "fulfillment",
        "notifications",
        "payment",
    }


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_every_layer_is_where_the_shape_puts_it(service: Path) -> None:
    package = _package(service)
    missing = [
        layer
        for layer in LAYERS
        if not (package / f"{layer}.py").is_file() and not (package / layer).is_dir()
    ]
    assert not missing, f"{service.name} has no {', '.join(missing)} (docs/service-shape.md)"


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_the_domain_does_no_io(service: Path) -> None:
    package = _package(service)
    domain = [package / "domain.py"] if (package / "domain.py").is_file() else []
    domain += sorted((package / "domain").rglob("*.py")) if (package / "domain").is_dir() else []
    offenders = []
    for path in domain:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{path.relative_to(REPO)}: {name}"
                for name in names
                if name.split(".")[0] in IO_MODULES
            ]
    assert not offenders, "the domain is pure (no I/O library):\n" + "\n".join(offenders)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_files_and_functions_stay_small_enough_to_read(service: Path) -> None:
    too_long = []
    for path in _sources(service):
        text = path.read_text()
        lines = text.count("\n")
        if lines > MAX_FILE_LINES:
            too_long.append(f"{path.relative_to(REPO)}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}: {length}")
    assert not too_long, (
        f"over {MAX_FILE_LINES} lines a file, {MAX_FUNCTION_LINES} a function:\n"
        + "\n".join(too_long)
    )
