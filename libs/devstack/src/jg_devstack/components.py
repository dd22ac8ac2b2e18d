"""The five components of the local stack: how each is installed, started and probed."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from jg_devstack import config
from jg_devstack.config import HOST, Paths
from jg_devstack.proc import kill_group, pid_alive, port_open, reap, tail

PACKAGE_DIR = Path(__file__).resolve().parent
KAFKA_POM = PACKAGE_DIR / "kafka" / "pom.xml"
LOCALSTRIPE_LAUNCHER = PACKAGE_DIR / "_localstripe_main.py"

logger = logging.getLogger(__name__)


class StackError(RuntimeError):
    """The stack (or one component) could not be installed, started or stopped."""


def _is_root() -> bool:
    return os.geteuid() == 0


async def run_step(
    cmd: Sequence[str],
    log: Path,
    *,
    what: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    time_limit: float = 900,
    user: str | None = None,
) -> None:
    """Run an install/prepare command, its output appended to ``log``; raise with the tail."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"\n=== jg-stack: {what}: {' '.join(cmd)}\n".encode())
        out.flush()
        kwargs: dict[str, Any] = {}
        if user is not None:
            kwargs.update(user=user, group=pwd.getpwnam(user).pw_gid, extra_groups=[])
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=str(cwd) if cwd else None,
            **kwargs,
        )
        try:
            code = await asyncio.wait_for(proc.wait(), time_limit)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise StackError(
                f"{what} took more than {time_limit:.0f}s; see {log}\n{tail(log)}"
            ) from None
    if code != 0:
        raise StackError(f"{what} failed (exit {code}); see {log}\n{tail(log)}")


async def apt_install(packages: Sequence[str], log: Path) -> None:
    """Install Debian packages (only possible as root, as on developer machines and CI)."""
    if not _is_root() or shutil.which("apt-get") is None:
        raise StackError(
            f"missing {', '.join(packages)}: install it (e.g. apt-get install -y "
            f"{' '.join(packages)}) or run as root so jg-stack can"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    await run_step(["apt-get", "update"], log, what="apt-get update", env=env)
    await run_step(
        ["apt-get", "install", "-y", "--no-install-recommends", *packages],
        log,
        what=f"apt-get install {' '.join(packages)}",
        env=env,
    )


def _which(name: str, *fallbacks: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    return next((f for f in fallbacks if Path(f).is_file()), None)


async def go_install(paths: Paths, module: str, version: str, binary: str, log: Path) -> Path:
    """``go install module@version`` into .cache/bin, skipped when already built."""
    target = paths.bin / binary
    stamp = paths.bin / f"{binary}.version"
    wanted = f"{module}@{version}"
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == wanted:
        return target
    go = _which("go", "/usr/local/go/bin/go", "/usr/lib/go/bin/go")
    if go is None:
        raise StackError(f"`go` (1.22+) is needed to build {binary}; install Go and retry")
    paths.bin.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOBIN": str(paths.bin)}
    await run_step([go, "install", wanted], log, what=f"go install {wanted}", env=env)
    stamp.write_text(wanted + "\n")
    return target


async def go_module_dir(module: str, version: str, log: Path) -> Path:
    """The read-only source folder of ``module@version`` in Go's module cache (fetched)."""
    go = _which("go", "/usr/local/go/bin/go", "/usr/lib/go/bin/go")
    if go is None:
        raise StackError(f"`go` (1.22+) is needed to fetch {module}; install Go and retry")
    wanted = f"{module}@{version}"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as err:
        err.write(f"\n=== jg-stack: go mod download -json {wanted}\n".encode())
        err.flush()
        proc = await asyncio.create_subprocess_exec(
            go,
            "mod",
            "download",
            "-json",
            wanted,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), 300)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise StackError(f"go mod download {wanted} took more than 300s; see {log}") from None
    try:
        folder = Path(json.loads(out)["Dir"])
    except (ValueError, KeyError, TypeError):
        raise StackError(f"go mod download {wanted} failed; see {log}\n{tail(log)}") from None
    if proc.returncode != 0 or not (folder / "go.mod").is_file():
        raise StackError(f"go mod download {wanted} failed; see {log}\n{tail(log)}")
    return folder


def _remove_tree(folder: Path) -> None:
    """rmtree that also removes copies of the module cache's read-only folders."""
    if not folder.exists():
        return
    for dirpath, _, _ in os.walk(folder):
        with contextlib.suppress(OSError):
            os.chmod(dirpath, stat.S_IRWXU)
    shutil.rmtree(folder, ignore_errors=True)


async def build_mailpit_with_ui(paths: Paths, module: str, version: str, log: Path) -> Path:
    """Build Mailpit from its module source with the web UI embedded, into .cache/bin.

    ``go install`` gives a blank UI: the module does not carry server/ui/dist, which upstream
    makes with ``npm ci`` and ``npm run build`` before ``go build`` embeds it. Same steps here,
    in a writable copy under .cache/build (the module cache is read-only).
    """
    npm = _which("npm")
    go = _which("go", "/usr/local/go/bin/go", "/usr/lib/go/bin/go")
    if npm is None or _which("node") is None or go is None:
        raise StackError("`go` (1.22+), `node` (18+) and `npm` are needed to build Mailpit's UI")
    source = await go_module_dir(module, version, log)
    work = paths.build / f"mailpit-{version}"
    _remove_tree(work)
    work.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, work, ignore=shutil.ignore_patterns("node_modules"))
    for dirpath, _, filenames in os.walk(work):
        for entry in [dirpath, *(os.path.join(dirpath, name) for name in filenames)]:
            os.chmod(entry, os.stat(entry).st_mode | stat.S_IWUSR)
    env = {k: v for k, v in os.environ.items() if k != "NODE_ENV"}  # devDependencies build it
    await run_step(
        [npm, "ci", "--include=dev", "--no-audit", "--no-fund", "--ignore-scripts"],
        log,
        what=f"npm ci for Mailpit {version}'s web UI",
        env=env,
        cwd=work,
    )
    await run_step(
        [npm, "run", "build"],
        log,
        what=f"npm build of Mailpit {version}'s web UI",
        env=env,
        cwd=work,
    )
    missing = [
        name for name in ("app.js", "app.css") if not (work / "server/ui/dist" / name).is_file()
    ]
    if missing:
        raise StackError(f"the web UI build made no server/ui/dist/{', '.join(missing)}; see {log}")
    paths.bin.mkdir(parents=True, exist_ok=True)
    partial = paths.bin / "mailpit.partial"
    await run_step(
        [
            go,
            "build",
            "-trimpath",
            "-ldflags",
            f"-s -w -X {module}/config.Version={version}",
            "-o",
            str(partial),
            ".",
        ],
        log,
        what=f"go build of Mailpit {version} with its web UI",
        env={**os.environ, "CGO_ENABLED": "0"},
        cwd=work,
    )
    target = paths.bin / "mailpit"
    partial.replace(target)  # atomic: a running Mailpit keeps its old file
    _remove_tree(work)  # node_modules alone is hundreds of MB; the binary is all we keep
    return target


async def http_ok(url: str, headers: Mapping[str, str] | None = None) -> bool:
    import httpx

    try:
        async with httpx.AsyncClient(timeout=3.0) as client:
            response = await client.get(url, headers=dict(headers or {}))
    except httpx.HTTPError:
        return False
    return response.status_code == 200


class Component:
    """One process of the stack. Subclasses fill in install, command and probe."""

    name: ClassVar[str]
    stop_signal: ClassVar[signal.Signals] = signal.SIGTERM
    stop_timeout: ClassVar[float] = 15.0

    def __init__(self, paths: Paths) -> None:
        self.paths = paths

    # -- description -----------------------------------------------------------------
    @property
    def ports(self) -> dict[str, int]:
        raise NotImplementedError

    @property
    def urls(self) -> dict[str, str]:
        return {}

    @property
    def log(self) -> Path:
        return self.paths.log(self.name)

    @property
    def pid_file(self) -> Path:
        return self.paths.pid_file(self.name)

    def markers(self) -> list[str]:
        """Strings that all appear in the command line of the process we start."""
        raise NotImplementedError

    # -- life cycle ------------------------------------------------------------------
    async def install(self) -> None:
        """Fetch or build what the component needs (cached under .cache)."""

    async def prepare(self) -> None:
        """Create data folders and configuration before each start."""

    def command(self) -> list[str]:
        raise NotImplementedError

    def popen_kwargs(self) -> dict[str, Any]:
        return {}

    async def probe(self) -> bool:
        """One real request to the component; True when it answers as expected."""
        raise NotImplementedError

    async def after_ready(self) -> None:
        """Idempotent set-up once the component answers (e.g. databases and roles)."""

    def any_port_open(self) -> bool:
        return any(port_open(port) for port in self.ports.values())


# ---------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------


def find_postgres_bin() -> Path | None:
    """The bin folder of the newest PostgreSQL installed from Debian's packages."""
    candidates = []
    for path in Path("/usr/lib/postgresql").glob("*/bin/postgres"):
        version = path.parent.parent.name
        if version.isdigit():
            candidates.append((int(version), path.parent))
    return max(candidates)[1] if candidates else None


def traversable_by(path: Path, uid: int) -> bool:
    """True when user ``uid`` can reach ``path`` (execute permission on every parent)."""
    for parent in [path, *path.parents]:
        if not parent.exists():
            continue
        mode = parent.stat()
        if mode.st_uid == uid:
            if not mode.st_mode & stat.S_IXUSR:
                return False
        elif not mode.st_mode & (stat.S_IXOTH | stat.S_IXGRP):
            return False
    return True


def _lock_pid(lock: Path) -> int | None:
    """The pid on the first line of a PostgreSQL lock file (None when absent or unreadable)."""
    try:
        first = lock.read_text(encoding="ascii", errors="replace").splitlines()[0].strip()
    except (OSError, IndexError):
        return None
    pid = int(first) if first.lstrip("-").isdigit() else 0
    return abs(pid) or None  # the socket lock stores -pid when the postmaster is pid 1


def _group_has_postgres(pgid: int) -> bool:
    """True when a live process of process group ``pgid`` is a PostgreSQL backend."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat_text = (entry / "stat").read_text(encoding="utf-8", errors="replace")
            cmd = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        fields = stat_text.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and fields[2] == str(pgid) and cmd.startswith("postgres"):
            return True
    return False


class Postgres(Component):
    name = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown: disconnect clients, then stop
    stop_timeout = 30.0

    def __init__(self, paths: Paths) -> None:
        super().__init__(paths)
        self.run_as = config.POSTGRES_SUPERUSER if _is_root() else None
        self.base = paths.postgres_dir
        if self.run_as is not None:
            with contextlib.suppress(KeyError):
                uid = pwd.getpwnam(self.run_as).pw_uid
                if not traversable_by(paths.root, uid):
                    # initdb refuses root, and the postgres user cannot reach the repo: keep
                    # the cluster in a folder it can reach.
                    digest = hashlib.sha256(str(paths.root).encode()).hexdigest()[:12]
                    self.base = Path("/var/tmp") / f"jg-devstack-{digest}" / "postgres"  # noqa: S108
        self.data = self.base / "data"
        self.socket_dir = (
            paths.postgres_socket_dir() if self.base == paths.postgres_dir else self.base / "socket"
        )
        self._bin: Path | None = find_postgres_bin()

    @property
    def ports(self) -> dict[str, int]:
        return {"postgres": config.POSTGRES_PORT}

    @property
    def urls(self) -> dict[str, str]:
        return {"admin": config.postgres_dsn("postgres")}

    def markers(self) -> list[str]:
        return [str(self.data), "-D"]

    def _bin_path(self, tool: str) -> Path:
        if self._bin is None:
            raise StackError("PostgreSQL is not installed")
        return self._bin / tool

    async def install(self) -> None:
        if self._bin is None:
            await apt_install(["postgresql"], self.log)
            self._bin = find_postgres_bin()
            if self._bin is None:
                raise StackError("apt-get installed postgresql but no server binary was found")
        if self.run_as is not None:
            try:
                pwd.getpwnam(self.run_as)
            except KeyError:
                raise StackError(
                    f"running as root needs the system user {self.run_as!r} (Debian's postgresql "
                    "package creates it); initdb refuses to run as root"
                ) from None

    def _chown(self, *targets: Path) -> None:
        if self.run_as is None:
            return
        entry = pwd.getpwnam(self.run_as)
        for target in targets:
            os.chown(target, entry.pw_uid, entry.pw_gid)
            if target.is_dir():
                for dirpath, dirnames, filenames in os.walk(target):
                    for name in dirnames + filenames:
                        os.chown(os.path.join(dirpath, name), entry.pw_uid, entry.pw_gid)

    def clear_stale_locks(self) -> list[Path]:
        """Remove the lock files of a server that died without cleaning up (kill -9, OOM).

        PostgreSQL refuses to start while ``postmaster.pid`` (and the socket's lock file) names
        a process that exists, and a dead child that nobody waited for (a zombie) still exists.
        A lock whose process is dead or a zombie is removed, after killing the backends that a
        killed postmaster leaves behind in its process group (they hold its shared memory).
        """
        removed: list[Path] = []
        locks = [self.data / "postmaster.pid", *self.socket_dir.glob(".s.PGSQL.*.lock")]
        for lock in locks:
            pid = _lock_pid(lock)
            if pid is None:
                continue
            reap(pid)
            if pid_alive(pid):
                continue
            if _group_has_postgres(pid):
                kill_group(pid)
            lock.unlink(missing_ok=True)
            removed.append(lock)
        return removed

    async def prepare(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        for lock in self.clear_stale_locks():
            with self.log.open("a", encoding="utf-8") as out:
                out.write(f"=== jg-stack: removed the stale lock {lock} of a dead server\n")
        if not (self.data / "PG_VERSION").exists():
            if self.data.exists():
                shutil.rmtree(self.data)
            pwfile = self.base / "initdb.pw"
            pwfile.write_text(config.POSTGRES_SUPERUSER_PASSWORD + "\n")
            self._chown(self.base, self.socket_dir)
            try:
                await run_step(
                    [
                        str(self._bin_path("initdb")),
                        "-D",
                        str(self.data),
                        "-U",
                        config.POSTGRES_SUPERUSER,
                        f"--pwfile={pwfile}",
                        "--auth-local=trust",
                        "--auth-host=scram-sha-256",
                        "--encoding=UTF8",
                        "--no-locale",
                        "--no-sync",
                    ],
                    self.log,
                    what="initdb",
                    user=self.run_as,
                    time_limit=120,
                )
            finally:
                pwfile.unlink(missing_ok=True)
        self._chown(self.socket_dir)

    def command(self) -> list[str]:
        return config.postgres_command(self._bin_path("postgres"), self.data, self.socket_dir)

    def popen_kwargs(self) -> dict[str, Any]:
        if self.run_as is None:
            return {}
        entry = pwd.getpwnam(self.run_as)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    async def probe(self) -> bool:
        if not port_open(config.POSTGRES_PORT):
            return False
        import asyncpg

        try:
            conn = await asyncpg.connect(config.postgres_dsn("postgres"), timeout=3)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        try:
            answer: object = await conn.fetchval("SELECT 1")
            return answer == 1
        finally:
            await conn.close()

    async def after_ready(self) -> None:
        """One role (password = name) and one database owned by it, per service."""
        import asyncpg

        conn = await asyncpg.connect(config.postgres_dsn("postgres"), timeout=5)
        try:
            for service in config.SERVICE_NAMES:
                name = config.check_identifier(service)
                if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name):
                    await conn.execute(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{name}'")
                if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                    await conn.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
        finally:
            await conn.close()


# ---------------------------------------------------------------------------------------
# Kafka
# ---------------------------------------------------------------------------------------


class Kafka(Component):
    name = "kafka"
    stop_timeout = 40.0

    def __init__(self, paths: Paths, version: str = config.KAFKA_VERSION) -> None:
        super().__init__(paths)
        self.version = version
        self.libs = paths.kafka_libs(version)
        self.dir = paths.kafka_dir
        self.data = self.dir / "data"
        self.properties = self.dir / "server.properties"
        self.log4j = self.dir / "log4j2.xml"

    @property
    def ports(self) -> dict[str, int]:
        return {"broker": config.KAFKA_PORT, "controller": config.KAFKA_CONTROLLER_PORT}

    @property
    def urls(self) -> dict[str, str]:
        return {"bootstrap": f"{HOST}:{config.KAFKA_PORT}"}

    def markers(self) -> list[str]:
        return ["kafka.Kafka", str(self.properties)]

    def _java(self) -> str:
        java = _which("java")
        if java is None:
            raise StackError("`java` (17+) is needed to run Kafka; install a JDK and retry")
        return java

    async def install(self) -> None:
        stamp = self.libs.parent / ".complete"
        pom = KAFKA_POM.read_bytes()
        wanted = hashlib.sha256(pom).hexdigest()
        if self.libs.is_dir() and stamp.is_file() and stamp.read_text().strip() == wanted:
            return
        if _which("java") is None or _which("mvn") is None:
            await apt_install(["openjdk-17-jre-headless", "maven"], self.log)
        mvn = _which("mvn")
        assert mvn is not None
        work = self.libs.parent
        work.mkdir(parents=True, exist_ok=True)
        (work / "pom.xml").write_bytes(pom)
        partial = work / "libs.partial"
        shutil.rmtree(partial, ignore_errors=True)
        await run_step(
            [
                mvn,
                "-q",
                "-B",
                "-f",
                str(work / "pom.xml"),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={partial}",
                f"-Dkafka.version={self.version}",
                "-DincludeScope=runtime",
            ],
            self.log,
            what=f"mvn fetch of Kafka {self.version}",
            cwd=work,
        )
        shutil.rmtree(self.libs, ignore_errors=True)
        partial.rename(self.libs)
        stamp.write_text(wanted + "\n")

    def _classpath(self) -> str:
        return f"{self.libs}/*"

    async def prepare(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.properties.write_text(config.render_kafka_properties(self.data))
        self.log4j.write_text(config.render_kafka_log4j2())
        if (self.data / "meta.properties").exists():
            return
        id_file = self.dir / "cluster.id"
        if not id_file.is_file():
            id_file.write_text(config.new_kafka_cluster_id() + "\n")
        cluster_id = id_file.read_text().strip()
        await run_step(
            [
                self._java(),
                "-Xmx256m",
                f"-Dlog4j2.configurationFile={self.log4j}",
                "-cp",
                self._classpath(),
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(self.properties),
                "--ignore-formatted",
            ],
            self.log,
            what="Kafka storage format",
            time_limit=120,
        )

    def command(self) -> list[str]:
        return [
            self._java(),
            f"-Xmx{config.KAFKA_HEAP}",
            "-Xms256m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.log4j}",
            f"-Dkafka.logs.dir={self.paths.logs}",
            "-cp",
            self._classpath(),
            "kafka.Kafka",
            str(self.properties),
        ]

    async def probe(self) -> bool:
        if not port_open(config.KAFKA_PORT):
            return False
        from aiokafka.admin import AIOKafkaAdminClient
        from aiokafka.errors import KafkaError

        admin = AIOKafkaAdminClient(
            bootstrap_servers=f"{HOST}:{config.KAFKA_PORT}", request_timeout_ms=3000
        )
        try:
            await asyncio.wait_for(admin.start(), 5)
            cluster = await asyncio.wait_for(admin.describe_cluster(), 5)
        except (KafkaError, OSError, TimeoutError):
            return False
        finally:
            with contextlib.suppress(Exception):
                await admin.close()
        return bool(cluster.get("brokers")) and cluster.get("controller_id", -1) != -1


# ---------------------------------------------------------------------------------------
# localstripe
# ---------------------------------------------------------------------------------------


class LocalStripe(Component):
    name = "localstripe"

    @property
    def venv(self) -> Path:
        return self.paths.localstripe_venv

    @property
    def ports(self) -> dict[str, int]:
        return {"http": config.LOCALSTRIPE_PORT}

    @property
    def urls(self) -> dict[str, str]:
        return {"api": f"http://{HOST}:{config.LOCALSTRIPE_PORT}"}

    def markers(self) -> list[str]:
        return [str(LOCALSTRIPE_LAUNCHER), f"--port {config.LOCALSTRIPE_PORT}"]

    async def install(self) -> None:
        stamp = self.venv / ".jg-installed"
        wanted = f"localstripe=={config.LOCALSTRIPE_VERSION}"
        python = self.venv / "bin" / "python"
        if python.exists() and stamp.is_file() and stamp.read_text().strip() == wanted:
            return
        shutil.rmtree(self.venv, ignore_errors=True)
        self.venv.parent.mkdir(parents=True, exist_ok=True)
        uv = shutil.which("uv")
        if uv:
            await run_step(
                [uv, "venv", "-q", "--python", sys.executable, str(self.venv)],
                self.log,
                what="uv venv for localstripe",
            )
            await run_step(
                [uv, "pip", "install", "-q", "--python", str(python), wanted],
                self.log,
                what=f"uv pip install {wanted}",
            )
        else:
            await run_step(
                [sys.executable, "-m", "venv", str(self.venv)],
                self.log,
                what="venv for localstripe",
            )
            await run_step(
                [str(python), "-m", "pip", "install", "-q", wanted],
                self.log,
                what=f"pip install {wanted}",
            )
        stamp.write_text(wanted + "\n")

    async def prepare(self) -> None:
        self.paths.localstripe_dir.mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        return [
            str(self.venv / "bin" / "python"),
            "-I",  # isolated: this package's folder must not shadow the standard library
            str(LOCALSTRIPE_LAUNCHER),
            "--host",
            HOST,
            "--port",
            str(config.LOCALSTRIPE_PORT),
            "--state",
            str(self.paths.localstripe_dir / "store.pickle"),
        ]

    def popen_kwargs(self) -> dict[str, Any]:
        # Its own virtualenv, not the workspace's.
        env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
        env["PYTHONUNBUFFERED"] = "1"
        return {"env": env}

    async def probe(self) -> bool:
        if not port_open(config.LOCALSTRIPE_PORT):
            return False
        return await http_ok(
            f"http://{HOST}:{config.LOCALSTRIPE_PORT}/v1/customers",
            {"Authorization": f"Bearer {config.STRIPE_TEST_KEY}"},
        )


# ---------------------------------------------------------------------------------------
# stripe-mock
# ---------------------------------------------------------------------------------------


class StripeMock(Component):
    name = "stripe-mock"

    @property
    def binary(self) -> Path:
        return self.paths.bin / "stripe-mock"

    @property
    def ports(self) -> dict[str, int]:
        return {"http": config.STRIPE_MOCK_PORT, "https": config.STRIPE_MOCK_HTTPS_PORT}

    @property
    def urls(self) -> dict[str, str]:
        return {"api": f"http://{HOST}:{config.STRIPE_MOCK_PORT}"}

    def markers(self) -> list[str]:
        return [str(self.binary)]

    async def install(self) -> None:
        await go_install(
            self.paths,
            config.STRIPE_MOCK_MODULE,
            config.STRIPE_MOCK_VERSION,
            "stripe-mock",
            self.log,
        )

    def command(self) -> list[str]:
        return [
            str(self.binary),
            "-http-addr",
            f"{HOST}:{config.STRIPE_MOCK_PORT}",
            "-https-addr",
            f"{HOST}:{config.STRIPE_MOCK_HTTPS_PORT}",
        ]

    async def probe(self) -> bool:
        if not port_open(config.STRIPE_MOCK_PORT):
            return False
        return await http_ok(
            f"http://{HOST}:{config.STRIPE_MOCK_PORT}/v1/customers",
            {"Authorization": f"Bearer {config.STRIPE_TEST_KEY}"},
        )


# ---------------------------------------------------------------------------------------
# Mailpit
# ---------------------------------------------------------------------------------------


async def smtp_banner(host: str, port: int) -> bool:
    """True when an SMTP server greets with 220 on host:port."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 3)
    except (OSError, TimeoutError):
        return False
    try:
        line = await asyncio.wait_for(reader.readline(), 3)
        writer.write(b"QUIT\r\n")
        await writer.drain()
        return line.startswith(b"220")
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


# Suffix of .cache/bin/mailpit.version when the binary embeds the web UI.
MAILPIT_UI_STAMP = " with web UI"


class Mailpit(Component):
    name = "mailpit"

    @property
    def binary(self) -> Path:
        return self.paths.bin / "mailpit"

    @property
    def ports(self) -> dict[str, int]:
        return {"smtp": config.MAILPIT_SMTP_PORT, "http": config.MAILPIT_HTTP_PORT}

    @property
    def urls(self) -> dict[str, str]:
        return {
            "smtp": f"smtp://{HOST}:{config.MAILPIT_SMTP_PORT}",
            "api": f"http://{HOST}:{config.MAILPIT_HTTP_PORT}/api/v1",
        }

    def markers(self) -> list[str]:
        return [str(self.binary)]

    async def install(self) -> None:
        """Mailpit with its web UI; without it (API and SMTP only) when the UI cannot be built."""
        module, version = config.MAILPIT_MODULE, config.MAILPIT_VERSION
        stamp = self.paths.bin / "mailpit.version"
        wanted = f"{module}@{version}{MAILPIT_UI_STAMP}"
        if self.binary.is_file() and stamp.is_file() and stamp.read_text().strip() == wanted:
            return
        failed = self.paths.build / f"mailpit-{version}.ui-failed"
        if _which("node") is None or _which("npm") is None:
            reason = "`node` (18+) and `npm` are not installed"
        elif failed.is_file():  # a failed build is not retried at each start: it takes minutes
            reason = f"it failed before ({failed.read_text().strip()}); delete {failed} to retry"
        else:
            try:
                await build_mailpit_with_ui(self.paths, module, version, self.log)
            except (StackError, OSError, TimeoutError) as exc:
                failed.parent.mkdir(parents=True, exist_ok=True)
                first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                failed.write_text(first_line + "\n")
                reason = f"{first_line}; delete {failed} to retry"
            else:
                stamp.write_text(wanted + "\n")
                return
        warning = (
            f"WARNING: Mailpit's web UI could not be built: {reason}. Falling back to "
            f"`go install` (the API and SMTP work, the page at http://{HOST}:"
            f"{config.MAILPIT_HTTP_PORT}/ stays blank). Details in {self.log}"
        )
        logger.warning(warning)
        with self.log.open("a") as out:
            out.write(warning + "\n")
        await go_install(self.paths, module, version, "mailpit", self.log)

    async def prepare(self) -> None:
        self.paths.mailpit_dir.mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        return [
            str(self.binary),
            "--smtp",
            f"{HOST}:{config.MAILPIT_SMTP_PORT}",
            "--listen",
            f"{HOST}:{config.MAILPIT_HTTP_PORT}",
            "--database",
            str(self.paths.mailpit_dir / "mailpit.db"),
            "--smtp-auth-accept-any",
            "--smtp-auth-allow-insecure",
            "--disable-version-check",
            "--max",
            "20000",
        ]

    async def probe(self) -> bool:
        if not port_open(config.MAILPIT_HTTP_PORT):
            return False
        if not await http_ok(f"http://{HOST}:{config.MAILPIT_HTTP_PORT}/api/v1/info"):
            return False
        return await smtp_banner(HOST, config.MAILPIT_SMTP_PORT)


def all_components(paths: Paths) -> list[Component]:
    return [Postgres(paths), Kafka(paths), LocalStripe(paths), StripeMock(paths), Mailpit(paths)]
