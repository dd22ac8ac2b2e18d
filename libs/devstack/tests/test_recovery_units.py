"""The local stack recovers from a crashed part: stale PostgreSQL locks, zombies, restarts."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jg_devstack import config
from jg_devstack.components import Postgres
from jg_devstack.config import Paths
from jg_devstack.proc import pid_alive, reap
from jg_devstack.supervisor import Restart, supervise

pytestmark = pytest.mark.unit


def _postgres(tmp_path: Path) -> Postgres:
    pg = Postgres(Paths(tmp_path))
    pg.data = tmp_path / "data"
    pg.socket_dir = tmp_path / "socket"
    pg.data.mkdir()
    pg.socket_dir.mkdir()
    return pg


def _write_lock(path: Path, pid: int) -> None:
    path.write_text(f"{pid}\n/some/data\n1700000000\n55432\n", encoding="ascii")


def test_the_durable_cluster_acknowledges_a_commit_only_once_written() -> None:
    settings = config.postgres_settings(Path("/tmp/socket"))
    assert settings["synchronous_commit"] == "on"


def test_a_zombie_postmasters_lock_is_removed(tmp_path: Path) -> None:
    pg = _postgres(tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # exits; never waited for: a zombie
    for _ in range(200):
        state = Path(f"/proc/{dead.pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        if state == "Z":
            break
        time.sleep(0.01)
    assert state == "Z"
    _write_lock(pg.data / "postmaster.pid", dead.pid)
    _write_lock(pg.socket_dir / ".s.PGSQL.55432.lock", dead.pid)

    removed = pg.clear_stale_locks()

    assert sorted(p.name for p in removed) == [".s.PGSQL.55432.lock", "postmaster.pid"]
    assert not (pg.data / "postmaster.pid").exists()
    assert not pid_alive(dead.pid)
    assert reap(dead.pid) is None  # already collected by clear_stale_locks


def test_a_dead_postmasters_lock_is_removed_and_a_live_ones_kept(tmp_path: Path) -> None:
    pg = _postgres(tmp_path)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _write_lock(pg.data / "postmaster.pid", gone.pid)
    assert [p.name for p in pg.clear_stale_locks()] == ["postmaster.pid"]

    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _write_lock(pg.data / "postmaster.pid", alive.pid)
        assert pg.clear_stale_locks() == []
        assert (pg.data / "postmaster.pid").exists()  # a running server keeps its lock
    finally:
        alive.kill()
        alive.wait()


async def test_a_service_that_crashes_is_started_again(tmp_path: Path) -> None:
    marker = tmp_path / "crashed-once"
    script = (
        "import pathlib, sys, time\n"
        f"marker = pathlib.Path({str(marker)!r})\n"
        "if not marker.exists():\n"
        "    marker.write_text('x'); print('crashing', flush=True); sys.exit(3)\n"
        "print('serving again', flush=True)\n"
        "time.sleep(60)\n"
    )
    stop = asyncio.Event()

    class Capture(io.StringIO):
        def write(self, text: str) -> int:
            if "serving again" in text:
                stop.set()
            return super().write(text)

    out = Capture()
    async with asyncio.timeout(20):
        code = await supervise(
            {"payment": [sys.executable, "-c", script]},
            stop=stop,
            cwd=tmp_path,
            out=out,
            restart=Restart(first=0.1),
        )
    lines = out.getvalue().splitlines()
    assert lines[:4] == [
        "payment | crashing",
        "payment | exited with code 3",
        "payment | restarting in 0 s",
        "payment | serving again",
    ]
    assert code == 1  # it did crash once
