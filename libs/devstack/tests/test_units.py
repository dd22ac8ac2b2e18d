"""Pure pieces of jg_devstack: configuration rendering, pid and port logic, names."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from jg_devstack import components, config
from jg_devstack.components import MAILPIT_UI_STAMP, Mailpit, traversable_by
from jg_devstack.config import Paths
from jg_devstack.databases import database_name_of, unique_database_name
from jg_devstack.proc import (
    cmdline_matches,
    owned_pid,
    pid_alive,
    pid_listens_on,
    port_open,
    read_pid,
    tail,
)
from jg_devstack.supervisor import discover_services, prefix_for, supervise

pytestmark = pytest.mark.unit


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return dict(pairs)


def test_kafka_properties_single_node_kraft_on_loopback(tmp_path: Path) -> None:
    props = _properties(config.render_kafka_properties(tmp_path / "data"))
    assert props["process.roles"] == "broker,controller"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert props["log.dirs"] == str(tmp_path / "data")
    assert props["auto.create.topics.enable"] == "true"
    assert props["num.partitions"] == "3"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "default.replication.factor",
    ):
        assert props[key] == "1", key


def test_kafka_cluster_id_is_22_char_urlsafe_base64_and_random() -> None:
    ids = {config.new_kafka_cluster_id() for _ in range(20)}
    assert len(ids) == 20
    for cluster_id in ids:
        assert len(cluster_id) == 22
        assert set(cluster_id) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )


def test_postgres_command_listens_only_on_loopback(tmp_path: Path) -> None:
    cmd = config.postgres_command(Path("/usr/bin/postgres"), tmp_path / "data", tmp_path / "s")
    assert cmd[:3] == ["/usr/bin/postgres", "-D", str(tmp_path / "data")]
    settings = dict(cmd[i + 1].split("=", 1) for i, arg in enumerate(cmd) if arg == "-c")
    assert settings["listen_addresses"] == "127.0.0.1"
    assert settings["port"] == "55432"
    assert settings["unix_socket_directories"] == str(tmp_path / "s")


def test_socket_dir_stays_in_stack_unless_the_path_is_too_long(tmp_path: Path) -> None:
    short = Paths(tmp_path)
    assert short.postgres_socket_dir() == tmp_path / ".stack" / "postgres" / "socket"
    deep = Paths(tmp_path / ("x" * 120))
    fallback = deep.postgres_socket_dir()
    assert str(fallback).startswith("/tmp/jg-devstack-pg-")
    assert len(str(fallback / ".s.PGSQL.55432")) < 100


def test_paths_layout(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    assert paths.log("kafka") == tmp_path / ".stack" / "logs" / "kafka.log"
    assert paths.pid_file("kafka") == tmp_path / ".stack" / "run" / "kafka.pid"
    assert paths.kafka_libs("4.1.1") == tmp_path / ".cache" / "kafka" / "4.1.1" / "libs"
    assert paths.build == tmp_path / ".cache" / "build"


def test_repo_root_found_from_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.uv.workspace]\nmembers = []\n")
    nested = tmp_path / "libs" / "x" / "src"
    nested.mkdir(parents=True)
    assert config.find_repo_root(nested) == tmp_path.resolve()


def test_repo_root_missing_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'not-a-workspace'\n")
    with pytest.raises(RuntimeError, match="repository root"):
        config.find_repo_root(tmp_path)


@pytest.mark.parametrize("bad", ["", "Robert'); DROP TABLE x;--", "UPPER", "a-b", "1abc", "x" * 64])
def test_identifier_check_rejects_unsafe_names(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid PostgreSQL identifier"):
        config.check_identifier(bad)


def test_unique_database_names_are_valid_and_distinct() -> None:
    names = {unique_database_name() for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert config.check_identifier(name) == name


def test_dsns() -> None:
    assert (
        config.postgres_dsn("postgres") == "postgresql://postgres:postgres@127.0.0.1:55432/postgres"
    )
    assert config.postgres_dsn("checkout", user="checkout") == (
        "postgresql://checkout:checkout@127.0.0.1:55432/checkout"
    )
    assert database_name_of("postgresql://u:p@127.0.0.1:55432/t_abc") == "t_abc"
    assert database_name_of("t_abc") == "t_abc"


def test_read_pid_ignores_garbage(tmp_path: Path) -> None:
    pid_file = tmp_path / "x.pid"
    assert read_pid(pid_file) is None
    for garbage in ("", "abc", "-5", "0", "12 13"):
        pid_file.write_text(garbage)
        assert read_pid(pid_file) is None, garbage
    pid_file.write_text("4242\n")
    assert read_pid(pid_file) == 4242


def test_owned_pid_requires_live_process_with_matching_command_line(tmp_path: Path) -> None:
    marker = f"jg-devstack-marker-{os.getpid()}"
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", marker])
    try:
        pid_file = tmp_path / "p.pid"
        pid_file.write_text(str(proc.pid))
        assert pid_alive(proc.pid)
        assert owned_pid(pid_file, [marker]) == proc.pid
        # Same pid, other command line (pid reused by an unrelated process): not ours.
        assert owned_pid(pid_file, ["some-other-program"]) is None
        assert not cmdline_matches(proc.pid, [marker, "missing"])
    finally:
        proc.kill()
        proc.wait()
    assert not pid_alive(proc.pid)
    assert owned_pid(tmp_path / "p.pid", [marker]) is None


def test_port_open_sees_a_listener_and_not_a_closed_port() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert port_open(port)
    assert not port_open(port)


def test_tail_returns_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert tail(log, 3) == "line 97\nline 98\nline 99"
    assert tail(tmp_path / "missing.log") == ""


def test_traversable_by_checks_every_parent_folder(tmp_path: Path) -> None:
    inner = tmp_path / "closed" / "inner"
    inner.mkdir(parents=True)
    owner = tmp_path.stat().st_uid
    assert traversable_by(inner, owner)
    (tmp_path / "closed").chmod(0o600)  # no search permission, even for its owner
    try:
        assert not traversable_by(inner, owner)
    finally:
        (tmp_path / "closed").chmod(0o755)
    # pytest keeps its temporary folders private (0700): another user cannot get in.
    private = next(p for p in tmp_path.parents if not p.stat().st_mode & 0o011)
    assert not traversable_by(private / "x", owner + 12345)


def test_discover_services_lists_folders_with_pyproject(tmp_path: Path) -> None:
    assert discover_services(tmp_path) == []
    for name in ("payment", "checkout"):
        (tmp_path / "services" / name).mkdir(parents=True)
        (tmp_path / "services" / name / "pyproject.toml").write_text("[project]\n")
    (tmp_path / "services" / "scratch").mkdir()
    assert discover_services(tmp_path) == ["checkout", "payment"]


def test_service_output_prefix_is_aligned() -> None:
    assert prefix_for("payment", 0, 12, colour=False) == "payment      | "
    assert "\033[" in prefix_for("payment", 0, 12, colour=True)


async def test_supervise_prefixes_output_and_stops_on_request(tmp_path: Path) -> None:
    stop = asyncio.Event()

    seen: set[str] = set()

    class Capture(io.StringIO):
        def write(self, text: str) -> int:
            if text.startswith("payment  | ready"):
                seen.add("payment ready")
            if text.startswith("checkout | exited"):
                seen.add("checkout exited")
            if seen == {"payment ready", "checkout exited"}:
                stop.set()  # both printed what they had to: ask the supervisor to stop
            return super().write(text)

    out = Capture()
    marker = tmp_path / "terminated"
    long_running = (
        "import signal, sys, time, pathlib\n"
        f"def bye(*_): pathlib.Path({str(marker)!r}).write_text('x'); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, bye)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    commands = {
        "payment": [sys.executable, "-c", long_running],
        "checkout": [sys.executable, "-c", "import os; print('port', os.environ['JG_X'])"],
    }

    async with asyncio.timeout(20):
        code = await supervise(
            commands, stop=stop, cwd=tmp_path, envs={"checkout": {"JG_X": "8001"}}, out=out
        )
    lines = out.getvalue().splitlines()
    assert "checkout | port 8001" in lines
    assert "checkout | exited with code 0" in lines
    assert "payment  | ready" in lines
    assert marker.exists()  # payment got SIGTERM when stop was set
    assert code == 0


async def test_supervise_reports_a_crashed_service(tmp_path: Path) -> None:
    out = io.StringIO()
    async with asyncio.timeout(20):
        code = await supervise(
            {"fulfillment": [sys.executable, "-c", "raise SystemExit('boom')"]},
            stop=asyncio.Event(),
            cwd=tmp_path,
            out=out,
        )
    assert code == 1
    assert "fulfillment | boom" in out.getvalue().splitlines()
    assert "fulfillment | exited with code 1" in out.getvalue().splitlines()


def test_pid_listens_on_tells_which_process_holds_the_port() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert pid_listens_on(os.getpid(), port) is True
        other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            assert pid_listens_on(other.pid, port) is False
        finally:
            other.kill()
            other.wait()
    assert pid_listens_on(os.getpid(), port) is False  # closed: nobody listens


async def test_mailpit_with_ui_already_built_is_not_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailpit = Mailpit(Paths(tmp_path))
    mailpit.binary.parent.mkdir(parents=True)
    mailpit.binary.write_text("built")
    wanted = f"{config.MAILPIT_MODULE}@{config.MAILPIT_VERSION}{MAILPIT_UI_STAMP}"
    (mailpit.binary.parent / "mailpit.version").write_text(wanted + "\n")

    async def no_build(*_: object) -> Path:
        raise AssertionError("rebuilt although the binary with UI is cached")

    monkeypatch.setattr(components, "build_mailpit_with_ui", no_build)
    monkeypatch.setattr(components, "go_install", no_build)
    await mailpit.install()
    assert mailpit.binary.read_text() == "built"


async def test_mailpit_ui_build_failure_falls_back_to_go_install_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """npm failing (offline, registry down) must not stop the stack, nor be retried each start."""
    tools = tmp_path / "tools"
    tools.mkdir()
    npm_calls = tmp_path / "npm-calls"
    scripts = {
        "npm": f"#!/bin/sh\necho \"$@\" >> {npm_calls}\necho 'npm error network'\nexit 1\n",
        "node": "#!/bin/sh\nexit 0\n",
        "go": "#!/bin/sh\nexit 0\n",
    }
    for name, script in scripts.items():
        (tools / name).write_text(script)
        (tools / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")
    # A read-only module source, like Go's module cache.
    source = tmp_path / "module"
    (source / "server").mkdir(parents=True)
    (source / "go.mod").write_text("module github.com/axllent/mailpit\n")
    (source / "package.json").write_text("{}\n")
    for entry in (source / "go.mod", source / "package.json", source / "server", source):
        entry.chmod(0o555)

    async def module_dir(*_: object) -> Path:
        return source

    installed: list[tuple[str, str]] = []

    async def go_install(paths: Paths, module: str, version: str, binary: str, log: Path) -> Path:
        installed.append((module, version))
        return paths.bin / binary

    monkeypatch.setattr(components, "go_module_dir", module_dir)
    monkeypatch.setattr(components, "go_install", go_install)
    mailpit = Mailpit(Paths(tmp_path / "repo"))
    try:
        await mailpit.install()  # no exception: the stack starts without the UI
        assert installed == [(config.MAILPIT_MODULE, config.MAILPIT_VERSION)]
        assert "web UI could not be built" in caplog.text
        assert "npm ci" in caplog.text
        assert "web UI could not be built" in mailpit.log.read_text()
        await mailpit.install()  # the next start does not spend minutes failing again
        assert len(npm_calls.read_text().splitlines()) == 1
        assert len(installed) == 2
    finally:
        source.chmod(0o755)
