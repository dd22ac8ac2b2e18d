"""Static facts about the local stack: where things live, which ports, which versions.

Everything here is pure (no processes, no network) so it can be unit-tested.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"

# Ports of the stack (all on 127.0.0.1).
KAFKA_PORT = 9092
KAFKA_CONTROLLER_PORT = 9093
POSTGRES_PORT = 55432
LOCALSTRIPE_PORT = 8420
STRIPE_MOCK_PORT = 12111
STRIPE_MOCK_HTTPS_PORT = 12112  # stripe-mock always serves HTTPS too; kept on loopback
MAILPIT_SMTP_PORT = 1025
MAILPIT_HTTP_PORT = 8025

# Services of the platform: one database and one role each, and their HTTP ports.
SERVICE_HTTP_PORTS: dict[str, int] = {
    "checkout": 8001,
    "payment": 8002,
    "fulfillment": 8003,
    "notifications": 8004,
    "accounts": 8005,
    "backoffice": 8006,  # the customer-service console (pages, not an API)
}
SERVICE_NAMES: tuple[str, ...] = tuple(SERVICE_HTTP_PORTS)

POSTGRES_SUPERUSER = "postgres"
POSTGRES_SUPERUSER_PASSWORD = "postgres"  # noqa: S105 - throwaway local cluster

# Pinned versions of the tools the stack runs.
KAFKA_VERSION = os.environ.get("JG_KAFKA_VERSION", "4.1.1")
KAFKA_HEAP = os.environ.get("JG_KAFKA_HEAP", "768m")
LOCALSTRIPE_VERSION = "1.15.10"
STRIPE_MOCK_MODULE = "github.com/stripe/stripe-mock"
STRIPE_MOCK_VERSION = "v0.197.0"
MAILPIT_MODULE = "github.com/axllent/mailpit"
MAILPIT_VERSION = "v1.27.11"

# A bearer token localstripe and stripe-mock accept (any sk_test_ key works).
STRIPE_TEST_KEY = "sk_test_jgdevstack"

# Seconds a component may take to answer after it was started.
START_TIMEOUT = float(os.environ.get("JG_STACK_START_TIMEOUT", "120"))

# A unix socket path must fit in sockaddr_un.sun_path (108 bytes with the NUL).
_MAX_UNIX_SOCKET_PATH = 100


def _is_workspace_root(path: Path) -> bool:
    pyproject = path / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        return "[tool.uv.workspace]" in pyproject.read_text(encoding="utf-8")
    except OSError:
        return False


def find_repo_root(start: Path | None = None) -> Path:
    """The uv workspace root: $JG_REPO_ROOT, else the nearest parent holding the workspace.

    Without ``start``, the package's own location is tried first (it is installed editable from
    the repo), then the current directory.
    """
    env = os.environ.get("JG_REPO_ROOT")
    if env and start is None:
        return Path(env).resolve()
    starts = [start] if start is not None else [Path(__file__).resolve().parent, Path.cwd()]
    for origin in starts:
        origin = origin.resolve()
        for candidate in (origin, *origin.parents):
            if _is_workspace_root(candidate):
                return candidate
    raise RuntimeError(
        "cannot find the repository root (a pyproject.toml with [tool.uv.workspace]); "
        "run from inside the repository or set JG_REPO_ROOT"
    )


@dataclass(frozen=True)
class Paths:
    """Folders of the stack under one repository root."""

    root: Path
    cache: Path = field(init=False)
    stack: Path = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cache", self.root / ".cache")
        object.__setattr__(self, "stack", self.root / ".stack")

    @property
    def logs(self) -> Path:
        return self.stack / "logs"

    @property
    def run(self) -> Path:
        return self.stack / "run"

    @property
    def bin(self) -> Path:
        return self.cache / "bin"

    @property
    def build(self) -> Path:
        """Scratch copies of sources built locally (e.g. Mailpit with its web UI)."""
        return self.cache / "build"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    def pid_file(self, component: str) -> Path:
        return self.run / f"{component}.pid"

    def kafka_libs(self, version: str = KAFKA_VERSION) -> Path:
        return self.cache / "kafka" / version / "libs"

    @property
    def localstripe_venv(self) -> Path:
        return self.cache / "tools" / "localstripe"

    @property
    def postgres_dir(self) -> Path:
        return self.stack / "postgres"

    @property
    def postgres_data(self) -> Path:
        return self.postgres_dir / "data"

    def postgres_socket_dir(self) -> Path:
        """Unix socket folder inside .stack, or a short /tmp folder when that path is too long."""
        preferred = self.postgres_dir / "socket"
        if len(str(preferred / f".s.PGSQL.{POSTGRES_PORT}")) <= _MAX_UNIX_SOCKET_PATH:
            return preferred
        digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
        return Path("/tmp") / f"jg-devstack-pg-{digest}"  # noqa: S108 - path length fallback

    @property
    def kafka_dir(self) -> Path:
        return self.stack / "kafka"

    @property
    def mailpit_dir(self) -> Path:
        return self.stack / "mailpit"

    @property
    def localstripe_dir(self) -> Path:
        return self.stack / "localstripe"


def new_kafka_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (22 characters)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def render_kafka_properties(data_dir: Path, heap_hint: str = KAFKA_HEAP) -> str:
    """server.properties of a single-node KRaft cluster (combined broker and controller)."""
    settings: dict[str, str | int] = {
        "process.roles": "broker,controller",
        "node.id": 1,
        "controller.quorum.voters": f"1@{HOST}:{KAFKA_CONTROLLER_PORT}",
        "listeners": f"PLAINTEXT://{HOST}:{KAFKA_PORT},CONTROLLER://{HOST}:{KAFKA_CONTROLLER_PORT}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{KAFKA_PORT}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir),
        "auto.create.topics.enable": "true",
        "num.partitions": 3,
        "default.replication.factor": 1,
        "min.insync.replicas": 1,
        "offsets.topic.replication.factor": 1,
        "offsets.topic.num.partitions": 10,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "transaction.state.log.num.partitions": 10,
        "share.coordinator.state.topic.replication.factor": 1,
        "share.coordinator.state.topic.min.isr": 1,
        "group.initial.rebalance.delay.ms": 0,
        "num.network.threads": 2,
        "num.io.threads": 4,
        "num.recovery.threads.per.data.dir": 1,
        "log.retention.hours": 168,
        "delete.topic.enable": "true",
    }
    lines = [f"# Rendered by jg_devstack (heap {heap_hint}); edits are overwritten at each start."]
    lines += [f"{key}={value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def render_kafka_log4j2() -> str:
    """log4j2 configuration: everything to stdout (captured in .stack/logs/kafka.log)."""
    return """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="STDOUT" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="STDOUT"/></Root>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Logger name="kafka.log.LogCleaner" level="WARN"/>
    <Logger name="org.apache.kafka.storage.internals.log" level="WARN"/>
  </Loggers>
</Configuration>
"""


def postgres_settings(socket_dir: Path) -> dict[str, str]:
    """Server settings passed as ``-c key=value`` to the throwaway cluster."""
    return {
        "port": str(POSTGRES_PORT),
        "listen_addresses": HOST,
        "unix_socket_directories": str(socket_dir),
        "max_connections": "200",
        # A commit is acknowledged only once its WAL record is written out of PostgreSQL's
        # memory (synchronous_commit=on): a server process killed with -9 then loses nothing
        # it acknowledged, as production's would not. fsync and full-page writes protect
        # against a crash of the machine itself (the kernel's page cache lost), which a
        # throwaway development cluster does not need: they stay off for speed.
        "synchronous_commit": "on",
        "fsync": "off",
        "full_page_writes": "off",
        "logging_collector": "off",
        "log_min_messages": "warning",
    }


def postgres_command(postgres_bin: Path, data_dir: Path, socket_dir: Path) -> list[str]:
    cmd = [str(postgres_bin), "-D", str(data_dir)]
    for key, value in postgres_settings(socket_dir).items():
        cmd += ["-c", f"{key}={value}"]
    return cmd


_PG_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_identifier(name: str) -> str:
    """A database or role name safe to quote in SQL (lower case, digits, underscore)."""
    if not _PG_IDENTIFIER.fullmatch(name):
        raise ValueError(f"invalid PostgreSQL identifier: {name!r}")
    return name


def postgres_dsn(database: str, user: str | None = None, password: str | None = None) -> str:
    """DSN of a database of the local cluster (service roles use their name as password)."""
    if user is None:
        user, password = POSTGRES_SUPERUSER, POSTGRES_SUPERUSER_PASSWORD
    elif password is None:
        password = user
    return f"postgresql://{user}:{password}@{HOST}:{POSTGRES_PORT}/{database}"
