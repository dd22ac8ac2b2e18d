"""A Mailpit of a test's own: an SMTP relay the test may stop and start again (an outage, a
relay that closed its connections) without touching the shared stack's. Free ports, its own
database in a temporary folder; the binary ``make up`` installed."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from jg_devstack.config import Paths, find_repo_root
from jg_devstack.launcher import free_port


class SpareMailpit:
    """A second Mailpit on free ports with its own database; stopped and started by the test."""

    def __init__(self, workdir: Path, log: Path) -> None:
        self.binary = Paths(find_repo_root()).bin / "mailpit"
        self.smtp_port = free_port()
        self.http_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.http_port}"
        self.workdir = workdir
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        if not self.binary.is_file():
            raise RuntimeError(f"{self.binary} is missing: `make up` installs it")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - the stack's own binary
                [str(self.binary), "--smtp", f"127.0.0.1:{self.smtp_port}",
                 "--listen", f"127.0.0.1:{self.http_port}",
                 "--database", str(self.workdir / "mailpit.db"),
                 "--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
                 "--disable-version-check"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.api_url}/api/v1/info").status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("the spare Mailpit did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@contextlib.contextmanager
def spare_mailpit(log: Path) -> Iterator[SpareMailpit]:
    """A started :class:`SpareMailpit`, stopped and its database removed at the end."""
    with tempfile.TemporaryDirectory() as workdir:
        spare = SpareMailpit(Path(workdir), log)
        spare.start()
        try:
            yield spare
        finally:
            spare.stop()
