"""A started service imports only what it needs to start (issue 18: resident memory).

Each heavy library below costs megabytes of resident memory per service once imported; the
services import it where it is first used (a PDF rendered, a token read or signed, a link
sealed or opened, an email rendered, a preview page asked for, spans exported), not at
start-up. Each check runs ``python -m <service>``'s imports, ``create_app()`` and an HTTP
client in a fresh interpreter, as the service's process does before it serves, and lists
what got imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

SERVICES = ("accounts", "checkout", "fulfillment", "notifications", "payment")

# module -> why it stays out of a service until it is needed
LAZY = {
    "rich": "structlog and httpx import it when installed; the services' __main__ keeps it out",
    "pygments": "rich's and httpx's CLI highlighting",
    "trio": "httpcore imports it when installed (selenium's, in the development venv)",
    "cryptography": "PyJWT's keys and the link sealer: loaded by the first token or link",
    "jwt": "jg_auth parses keys and tokens on first use",
    "reportlab": "payment's invoice PDF, rendered on demand",
    "opentelemetry.exporter": "the OTLP exporter, only with OTEL_EXPORTER_OTLP_*ENDPOINT set",
    "google.protobuf": "the OTLP exporter's encoding",
    "jinja2": "notifications' templates, loaded by the first email rendered",
    "css_inline": "notifications' HTML inlining, by the first email rendered",
    "babel": "notifications' French money and country names, by the first email rendered",
    "jg_events.examples": "example events: previews, docs and tests",
}
# What a service needs at start-up after all (accounts loads its signing key in its lifespan,
# not at import: nothing allowed here today).
ALLOWED: dict[str, set[str]] = {}

PROBE = """
import json, sys
import {service}.__main__  # what `python -m {service}` imports before main()
from {service}.app import create_app
import httpx
create_app()
httpx.AsyncClient()  # what a service's first outgoing call loads (httpcore)
print(json.dumps(sorted(m for m in sys.modules if sys.modules[m] is not None)))
"""


def _started_modules(service: str) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "JG_", "PYTHONPATH"))}
    env["JG_ENVIRONMENT"] = "development"  # the development defaults of the settings
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(service=service)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_starts_without_its_heavy_optional_imports(service: str) -> None:
    loaded = _started_modules(service)
    allowed = ALLOWED.get(service, set())
    found = {
        lazy: why
        for lazy, why in LAZY.items()
        if lazy not in allowed and any(m == lazy or m.startswith(f"{lazy}.") for m in loaded)
    }
    assert not found, f"{service} imports at start-up: {found}"
