"""One schemathesis run against one service as one audience, and what it counted.

A :class:`Target` is a service, the audience whose credentials the run carries and how many
examples each operation gets. :func:`run` starts ``schemathesis run`` (the CLI, in a process of
its own) with the checks, the phases and the timeout of ``make fuzz``, the credentials in a
configuration file that reads them from the environment, and ``hooks.py`` (signed Stripe
webhooks, a fresh session for each logout); it writes the CLI's output to a log file and its
events to an NDJSON report, from which :func:`count_requests` counts the requests each phase
sent. :func:`table` prints the counts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

PHASES: tuple[str, ...] = ("examples", "coverage", "fuzzing", "stateful")
CHECKS: tuple[str, ...] = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
REQUEST_TIMEOUT = 10.0  # seconds; a request that takes longer fails the run
RUN_TIMEOUT = 420.0  # seconds for one schemathesis run, start to end
HOOKS = Path(__file__).with_name("hooks.py")

# The security schemes of the five OpenAPI documents, each filled from one variable.
SCHEMES: Mapping[str, str] = {
    "HTTPBearer": "JG_FUZZ_BEARER",  # checkout, payment, fulfillment: storefront or customer
    "CustomerBearer": "JG_FUZZ_CUSTOMER_BEARER",  # accounts
    "OperatorBearer": "JG_FUZZ_OPERATOR_BEARER",  # accounts
    "StaffBearer": "JG_FUZZ_STAFF_BEARER",  # /operator routes (jg_auth): fulfillment's token
}


@dataclass(frozen=True)
class Target:
    """One run: ``service`` fuzzed as ``audience`` with ``tokens`` (scheme -> bearer token)."""

    service: str
    audience: str
    max_examples: int
    tokens: Mapping[str, str] = field(default_factory=dict)
    include_path_regex: str | None = None  # only the operations this audience may call
    exclude_path_regex: str | None = None
    customer_session: str | None = None  # the customer's token among ``tokens``, if any

    @property
    def name(self) -> str:
        return f"{self.service}-{self.audience.replace(' + ', '-')}"


@dataclass
class RunResult:
    target: Target
    exit_code: int
    requests: Counter[str]  # phase -> requests sent
    server_errors: int  # responses with a 5xx status
    failed_checks: int  # check results that failed (any check)
    unanswered: int  # requests that got no response (a timeout, a refused connection)
    seed: str | None
    seconds: float
    log: Path

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def failures(self, limit: int = 12_000) -> str:
        """The FAILURES and ERRORS sections of the CLI's output (what to read first)."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        start = min(
            (i for i in (text.find("= FAILURES ="), text.find("= ERRORS =")) if i >= 0),
            default=max(0, len(text) - limit),
        )
        part = text[start:]
        return part if len(part) <= limit else part[:limit] + f"\n[... see {self.log}]"


def config_file(directory: Path) -> Path:
    """schemathesis.toml: each security scheme's bearer token, read from the environment."""
    lines = []
    for scheme, variable in SCHEMES.items():
        lines += [f"[auth.openapi.{scheme}]", f'bearer = "${{{variable}}}"', ""]
    path = directory / "schemathesis.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def command(target: Target, url: str, config: Path, report: Path, seed: str | None) -> list[str]:
    args = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--no-color",
        "--config-file",
        str(config),
        "run",
        f"{url}/openapi.json",
        "--phases",
        ",".join(PHASES),
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(target.max_examples),
        "--request-timeout",
        str(REQUEST_TIMEOUT),
        "--continue-on-failure",
        "--suppress-health-check",
        "too_slow,filter_too_much",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
        "--output-truncate",
        "true",
        "--wait-for-schema",
        "30",
    ]
    if target.include_path_regex:
        args += ["--include-path-regex", target.include_path_regex]
    if target.exclude_path_regex:
        args += ["--exclude-path-regex", target.exclude_path_regex]
    if seed:
        args += ["--seed", seed]
    return args


def count_requests(report: Path) -> tuple[Counter[str], int, int, int]:
    """Requests per phase, 5xx responses, failed checks and unanswered requests, from an
    NDJSON report."""
    requests: Counter[str] = Counter()
    server_errors = failed_checks = unanswered = 0
    with report.open(encoding="utf-8") as lines:
        for line in lines:
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if finished is None:
                continue
            recorder = finished.get("recorder") or {}
            interactions = recorder.get("interactions") or {}
            requests[str(finished.get("phase"))] += len(interactions)
            for interaction in interactions.values():
                response = interaction.get("response")
                if response is None:
                    unanswered += 1
                elif int(response.get("status_code", 0)) >= 500:
                    server_errors += 1
            for checks in (recorder.get("checks") or {}).values():
                failed_checks += sum(1 for check in checks if check.get("status") == "failure")
    return requests, server_errors, failed_checks, unanswered


def run(
    target: Target,
    url: str,
    work_dir: Path,
    env: Mapping[str, str],
    *,
    seed: str | None = None,
) -> RunResult:
    """Run schemathesis against ``url`` as ``target`` says; its files go to ``work_dir``."""
    work_dir.mkdir(parents=True, exist_ok=True)
    config = config_file(work_dir)
    report = work_dir / f"{target.name}.ndjson"
    log = work_dir / f"{target.name}.txt"
    report.unlink(missing_ok=True)
    variables = {variable: target.tokens.get(scheme, "") for scheme, variable in SCHEMES.items()}
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.run(  # our interpreter, schemathesis' CLI
            command(target, url, config, report, seed),
            cwd=work_dir,  # its cache (for `st replay`) stays under the run's folder
            env={
                **os.environ,
                **env,
                **variables,
                "SCHEMATHESIS_HOOKS": str(HOOKS),
                "PYTHONUNBUFFERED": "1",
            },
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    seconds = time.monotonic() - started
    if report.exists():
        requests, server_errors, failed_checks, unanswered = count_requests(report)
    else:  # the CLI did not get to run (its log says why)
        requests, server_errors, failed_checks, unanswered = Counter(), 0, 0, 0
    found = re.search(r"^Seed: (\d+)", log.read_text(encoding="utf-8", errors="replace"), re.M)
    return RunResult(
        target=target,
        exit_code=process.returncode,
        requests=requests,
        server_errors=server_errors,
        failed_checks=failed_checks,
        unanswered=unanswered,
        seed=found.group(1) if found else seed,
        seconds=seconds,
        log=log,
    )


def table(results: Iterable[RunResult]) -> str:
    """Requests per service, audience and phase; a total line per service."""
    results = list(results)
    header = ["service", "audience", *PHASES, "requests", "5xx", "failed", "no answer", "time"]
    rows: list[list[str]] = []
    by_service: dict[str, list[RunResult]] = {}
    for result in results:
        by_service.setdefault(result.target.service, []).append(result)
    for service, runs in by_service.items():
        for result in runs:
            rows.append(
                [
                    service,
                    result.target.audience,
                    *(str(result.requests.get(phase, 0)) for phase in PHASES),
                    str(result.total),
                    str(result.server_errors),
                    str(result.failed_checks),
                    str(result.unanswered),
                    f"{result.seconds:.0f}s",
                ]
            )
        if len(runs) > 1:
            rows.append(
                [
                    service,
                    "(all)",
                    *(str(sum(r.requests.get(phase, 0) for r in runs)) for phase in PHASES),
                    str(sum(r.total for r in runs)),
                    str(sum(r.server_errors for r in runs)),
                    str(sum(r.failed_checks for r in runs)),
                    str(sum(r.unanswered for r in runs)),
                    f"{sum(r.seconds for r in runs):.0f}s",
                ]
            )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )

    rule = "-" * len(line(header))
    total = sum(r.total for r in results)
    return "\n".join(
        [line(header), rule, *(line(row) for row in rows), rule, f"{total} requests in all"]
    )
