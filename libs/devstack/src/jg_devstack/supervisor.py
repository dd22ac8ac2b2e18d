"""``jg-stack run``: the stack plus every service under services/, in the foreground."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from jg_devstack import config, traces
from jg_devstack.components import StackError, all_components
from jg_devstack.config import HOST, Paths
from jg_devstack.proc import pid_alive, read_pid, reap
from jg_devstack.stack import Endpoints, stack_urls, start_component, up_async

_COLOURS = ("36", "33", "35", "32", "34", "31")


def discover_services(root: Path) -> list[str]:
    """Names of the services under ``root/services`` (each folder with a pyproject.toml)."""
    services_dir = root / "services"
    if not services_dir.is_dir():
        return []
    return sorted(
        child.name
        for child in services_dir.iterdir()
        if child.is_dir() and (child / "pyproject.toml").is_file()
    )


# `make run` is for watching orders flow: a 30-second modification window instead of
# production's 5 minutes, and payment reading back 3-D Secure outcomes every 2 seconds.
# A variable already set in the environment wins.
DEVELOPMENT_TIMINGS: dict[str, dict[str, str]] = {
    "checkout": {"CHECKOUT_RELEASE_DELAY_SECONDS": "30"},
    "payment": {"PAYMENT_STRIPE_SYNC_INTERVAL": "2"},
}


def development_env(name: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The development timings of service ``name`` not already set in ``environ``."""
    environ = dict(os.environ) if environ is None else environ
    return {k: v for k, v in DEVELOPMENT_TIMINGS.get(name, {}).items() if k not in environ}


def service_command(name: str) -> list[str]:
    uv = shutil.which("uv")
    if uv:
        return [uv, "run", "--frozen", "python", "-m", name]
    return [sys.executable, "-m", name]


def prefix_for(name: str, index: int, width: int, colour: bool) -> str:
    label = f"{name:<{width}} |"
    if not colour:
        return label + " "
    return f"\033[{_COLOURS[index % len(_COLOURS)]}m{label}\033[0m "


@dataclass
class Running:
    name: str
    process: asyncio.subprocess.Process
    prefix: str


async def _pump(running: Running, out: TextIO) -> None:
    assert running.process.stdout is not None
    async for raw in running.process.stdout:
        line = raw.decode(errors="replace").rstrip("\n")
        out.write(f"{running.prefix}{line}\n")
        out.flush()


def _print_urls(paths: Paths, services: list[str]) -> None:
    print("Local stack:")
    for component, urls in stack_urls(paths).items():
        for label, url in urls.items():
            print(f"  {component:<12} {label:<10} {url}")
    print(f"  {'mailpit':<12} {'web UI':<10} http://{HOST}:{config.MAILPIT_HTTP_PORT}/")
    if services:
        print("Services:")
        for name in services:
            port = config.SERVICE_HTTP_PORTS.get(name)
            where = f"http://{HOST}:{port}" if port else "(no known HTTP port)"
            print(f"  {name:<12} {where}")
    if "backoffice" in services:
        port = config.SERVICE_HTTP_PORTS["backoffice"]
        print(
            f"Customer-service console: http://{HOST}:{port}/ (development sign-in: "
            "manager@japangoodz.test / dev-only-staff-password; agent@japangoodz.test for an agent)"
        )
    sys.stdout.flush()


async def _stop_all(running: list[Running], grace: float = 10.0) -> None:
    for item in running:
        if item.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(item.process.pid, signal.SIGTERM)
    waits = [item.process.wait() for item in running]
    try:
        await asyncio.wait_for(asyncio.gather(*waits), grace)
    except TimeoutError:
        for item in running:
            if item.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(item.process.pid, signal.SIGKILL)
        await asyncio.gather(*(item.process.wait() for item in running))


@dataclass(frozen=True)
class Restart:
    """Start a command again when it exits by itself: after ``first`` s, doubling to ``maximum``
    (back to ``first`` once it has run ``settled`` s)."""

    first: float = 1.0
    maximum: float = 30.0
    settled: float = 60.0


async def _spawn(
    name: str, command: list[str], cwd: Path, env: dict[str, str]
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *command,
        cwd=str(cwd),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def supervise(
    commands: dict[str, list[str]],
    *,
    stop: asyncio.Event,
    cwd: Path,
    envs: dict[str, dict[str, str]] | None = None,
    out: TextIO = sys.stdout,
    colour: bool = False,
    grace: float = 10.0,
    restart: Restart | None = None,
) -> int:
    """Run each command, its output prefixed by its name, until ``stop`` is set or all exit.

    Each runs in its own process group; on stop they get SIGTERM, then SIGKILL after ``grace``
    seconds. With ``restart``, a command that exits by itself (a crash, kill -9) is said so and
    started again after a pause; without, it stays down. Returns 1 when a command exited with a
    non-zero code by itself, else 0.
    """
    width = max(len(name) for name in commands)
    running: dict[str, Running] = {}
    code = 0

    async def keep(index: int, name: str, command: list[str]) -> None:
        nonlocal code
        env = {**os.environ, **(envs or {}).get(name, {}), "PYTHONUNBUFFERED": "1"}
        delay = restart.first if restart else 0.0
        while not stop.is_set():
            began = time.monotonic()
            process = await _spawn(name, command, cwd, env)
            item = Running(name, process, prefix_for(name, index, width, colour))
            running[name] = item
            pump = asyncio.create_task(_pump(item, out))
            returncode = await process.wait()
            await asyncio.wait({pump}, timeout=2)  # its last lines before saying it exited
            if stop.is_set():
                return
            out.write(f"{item.prefix}exited with code {returncode}\n")
            if returncode != 0:
                code = 1
            if restart is None:
                out.flush()
                return
            if time.monotonic() - began >= restart.settled:
                delay = restart.first
            out.write(f"{item.prefix}restarting in {delay:.0f} s\n")
            out.flush()
            await _sleep_unless(stop, delay)
            delay = min(restart.maximum, delay * 2)

    keepers = [
        asyncio.create_task(keep(index, name, command))
        for index, (name, command) in enumerate(commands.items())
    ]
    stopper = asyncio.create_task(stop.wait())
    all_done: asyncio.Future[Any] = asyncio.gather(*keepers)
    await asyncio.wait({stopper, all_done}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    await _stop_all(list(running.values()), grace)
    await asyncio.gather(all_done, return_exceptions=True)
    return code


async def watch_stack(
    paths: Paths, stop: asyncio.Event, out: TextIO = sys.stdout, interval: float = 2.0
) -> None:
    """Notice a stack component that died (reaping it if it was our child), say so, start it
    again. A component stopped on purpose (``jg-stack down`` removes its pid file) stays down."""
    components = all_components(paths)
    while not stop.is_set():
        await _sleep_unless(stop, interval)
        for component in components:
            pid = read_pid(component.pid_file)
            if pid is None or stop.is_set():
                continue
            reap(pid)
            if pid_alive(pid):
                continue
            out.write(f"stack: {component.name} (pid {pid}) died; starting it again\n")
            out.flush()
            try:
                result = await start_component(component.name, paths)
            except (StackError, OSError) as exc:
                out.write(f"stack: {component.name} could not start again: {exc}\n")
            else:
                out.write(f"stack: {component.name} {result}\n")
            out.flush()


async def run_async(paths: Paths | None = None) -> int:
    paths = paths or Paths(config.find_repo_root())
    endpoints: Endpoints = await up_async(paths, report=print)
    services = discover_services(paths.root)
    _print_urls(paths, services)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    if not services:
        print(
            "No service under services/ yet: the stack is up. Ctrl-C to leave "
            "(the stack keeps running; `make down` stops it).",
            flush=True,
        )
        await stop.wait()
        return 0

    print(f"Starting {len(services)} service(s); Ctrl-C stops them.", flush=True)
    watcher = asyncio.create_task(watch_stack(paths, stop))
    commands, tracing_env = traces.run_receiver(services, service_command)
    code = await supervise(
        commands,
        stop=stop,
        cwd=paths.root,
        envs={
            name: development_env(name) | endpoints.service_env(name) | tracing_env
            for name in services
        },
        colour=sys.stdout.isatty(),
        restart=Restart(),
    )
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    print("Services stopped; the stack keeps running (`make down` stops it).", flush=True)
    return code


def run(paths: Paths | None = None) -> int:
    return asyncio.run(run_async(paths))
