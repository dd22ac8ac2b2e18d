"""Bring the whole stack up, down, or report on it."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from jg_devstack import config
from jg_devstack.components import Component, StackError, all_components
from jg_devstack.config import HOST, Paths
from jg_devstack.proc import (
    kill_group,
    owned_pid,
    pid_alive,
    pid_listens_on,
    port_open,
    read_pid,
    reap,
    tail,
    terminate,
    write_pid,
)

T = TypeVar("T")
Report = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class Endpoints:
    """Where the stack answers; what tests and services connect to."""

    kafka_bootstrap: str = f"{HOST}:{config.KAFKA_PORT}"
    postgres_host: str = HOST
    postgres_port: int = config.POSTGRES_PORT
    pg_admin_dsn: str = config.postgres_dsn("postgres")
    localstripe_url: str = f"http://{HOST}:{config.LOCALSTRIPE_PORT}"
    stripe_mock_url: str = f"http://{HOST}:{config.STRIPE_MOCK_PORT}"
    stripe_api_key: str = config.STRIPE_TEST_KEY
    mailpit_smtp_host: str = HOST
    mailpit_smtp_port: int = config.MAILPIT_SMTP_PORT
    mailpit_api_url: str = f"http://{HOST}:{config.MAILPIT_HTTP_PORT}"

    def service_dsn(self, service: str) -> str:
        """DSN of a service's own database, as its own role (password = role name)."""
        if service not in config.SERVICE_NAMES:
            raise ValueError(
                f"unknown service {service!r}; known: {', '.join(config.SERVICE_NAMES)}"
            )
        return config.postgres_dsn(service, user=service)

    def service_env(self, service: str) -> dict[str, str]:
        """Environment handed to a service started by ``jg-stack run``.

        Platform-wide settings use the ``JG_`` prefix; a service's own use its name
        (``CHECKOUT_DATABASE_URL``...). Everything else keeps the service's development defaults,
        which point at this stack.
        """
        env = {
            "JG_ENVIRONMENT": "development",
            "JG_KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
        }
        if service in config.SERVICE_NAMES:
            prefix = service.upper()
            env[f"{prefix}_DATABASE_URL"] = self.service_dsn(service)
            env[f"{prefix}_HTTP_PORT"] = str(config.SERVICE_HTTP_PORTS[service])
        return env


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    ports: dict[str, int]
    pid: int | None  # our pid, when the process we started is alive
    answering: bool

    @property
    def state(self) -> str:
        if self.answering and self.pid is not None:
            return "up"
        if self.answering:
            return "up (not started by jg-stack)"
        if self.pid is not None:
            return "not answering (process alive)"
        if any(port_open(port) for port in self.ports.values()):
            return "port taken by another process"
        return "down"


def run_sync(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, even when called inside an event loop."""

    async def runner() -> T:
        return await factory()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(runner())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, runner()).result()


@contextlib.contextmanager
def _stack_lock(paths: Paths) -> Iterator[None]:
    """Serialise up/down between processes: two pytest runs, two terminals, two checkouts.

    The ports are the machine's, so the lock is too (not per checkout).
    """
    paths.run.mkdir(parents=True, exist_ok=True)
    lock_file = Path(tempfile.gettempdir()) / "jg-devstack-stack.lock"
    with lock_file.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _spawn(component: Component) -> subprocess.Popen[bytes]:
    component.log.parent.mkdir(parents=True, exist_ok=True)
    cmd = component.command()
    with component.log.open("ab") as out:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        out.write(f"\n=== jg-stack {stamp}: starting {component.name}: {' '.join(cmd)}\n".encode())
        out.flush()
        kwargs = component.popen_kwargs()
        return subprocess.Popen(  # noqa: S603 - fixed commands built by the components
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the CLI; its own process group for `down`
            close_fds=True,
            **kwargs,
        )


def _owns_ports(component: Component, pid: int) -> bool:
    """False when one of the component's ports is held by a process other than ``pid``."""
    return all(pid_listens_on(pid, port) is not False for port in component.ports.values())


async def _wait_ready(
    component: Component, deadline: float, proc: subprocess.Popen[bytes] | None, pid: int
) -> None:
    """Poll until the component answers from the process ``pid`` we started, or fail."""
    while True:
        if proc is not None and proc.poll() is not None:
            raise StackError(
                f"{component.name} exited with code {proc.returncode} before answering; "
                f"log {component.log}:\n{tail(component.log)}"
            )
        if proc is None and owned_pid(component.pid_file, component.markers()) is None:
            raise StackError(
                f"{component.name} (pid {pid}) died before answering:\n{tail(component.log)}"
            )
        # It must answer, and from our process: not from another one holding the port.
        if await component.probe() and _owns_ports(component, pid):
            return
        if time.monotonic() > deadline:
            raise StackError(
                f"{component.name} did not answer within {config.START_TIMEOUT:.0f}s"
                f" (or another process holds one of its ports {list(component.ports.values())});"
                f" log {component.log}:\n{tail(component.log)}"
            )
        await asyncio.sleep(0.25)


async def _start(component: Component, report: Report) -> str:
    began = time.monotonic()
    recorded = read_pid(component.pid_file)
    if recorded is not None:
        reap(recorded)  # a child of ours that crashed: collect it, or it lingers as a zombie
    pid = owned_pid(component.pid_file, component.markers())
    if component.any_port_open() and await component.probe():
        await component.after_ready()
        outcome = (
            f"already running (pid {pid})" if pid else "already answering (not started by jg-stack)"
        )
        return outcome
    if pid is not None:
        # Ours and alive but not answering yet: probably still starting.
        await _wait_ready(component, time.monotonic() + config.START_TIMEOUT, None, pid)
        await component.after_ready()
        return f"was starting, now answering (pid {pid})"
    busy = [f"{label} {port}" for label, port in component.ports.items() if port_open(port)]
    if busy:
        raise StackError(
            f"port(s) {', '.join(busy)} taken by a process jg-stack did not "
            "start and that does not answer like it (see `ss -ltnp`)"
        )
    component.pid_file.unlink(missing_ok=True)
    await component.install()
    await component.prepare()
    proc = _spawn(component)
    write_pid(component.pid_file, proc.pid)
    report(f"  {component.name:<12} starting (pid {proc.pid})")
    try:
        await _wait_ready(component, time.monotonic() + config.START_TIMEOUT, proc, proc.pid)
    except BaseException:
        # Do not leave a half-started process behind.
        await asyncio.to_thread(terminate, proc.pid, component.stop_signal, component.stop_timeout)
        component.pid_file.unlink(missing_ok=True)
        raise
    await component.after_ready()
    return f"started (pid {proc.pid}) in {time.monotonic() - began:.1f}s"


def _component(paths: Paths, name: str) -> Component:
    for component in all_components(paths):
        if component.name == name:
            return component
    known = ", ".join(c.name for c in all_components(paths))
    raise StackError(f"no stack component {name!r} (known: {known})")


def crash(name: str, paths: Paths | None = None) -> int | None:
    """``kill -9`` a component and every process of its group, as a crash would.

    Its pid file stays, as after a real crash; ``up`` (or :func:`start_component`) starts it
    again. Returns the pid killed (None when it was not running).
    """
    paths = paths or Paths(config.find_repo_root())
    component = _component(paths, name)
    pid = owned_pid(component.pid_file, component.markers())
    if pid is None:
        return None
    kill_group(pid)
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    reap(pid)
    return pid


def stop_component(name: str, paths: Paths | None = None) -> str:
    """Stop one component cleanly (its stop signal, then SIGKILL after its timeout)."""
    paths = paths or Paths(config.find_repo_root())
    component = _component(paths, name)
    with _stack_lock(paths):
        return _stop(component)


async def start_component(name: str, paths: Paths | None = None, report: Report = _quiet) -> str:
    """Start one component again (after a crash or a stop) and wait until it answers."""
    paths = paths or Paths(config.find_repo_root())
    component = _component(paths, name)
    with _stack_lock(paths):
        return await _start(component, report)


def _describe(component: Component) -> str:
    return ", ".join(f"{port}" for port in component.ports.values())


async def up_async(paths: Paths | None = None, report: Report = _quiet) -> Endpoints:
    """Start every component that is not already answering; wait until all answer."""
    paths = paths or Paths(config.find_repo_root())
    for folder in (paths.logs, paths.run, paths.cache):
        folder.mkdir(parents=True, exist_ok=True)
    components = all_components(paths)
    began = time.monotonic()
    with _stack_lock(paths):
        results = await asyncio.gather(
            *(_start(component, report) for component in components), return_exceptions=True
        )
    errors: list[str] = []
    for component, result in zip(components, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, StackError | OSError):
                raise result
            errors.append(f"{component.name}: {result}")
            report(f"  {component.name:<12} {HOST}:{_describe(component):<11} FAILED")
        else:
            report(f"  {component.name:<12} {HOST}:{_describe(component):<11} {result}")
    if errors:
        raise StackError("the local stack could not start:\n" + "\n\n".join(errors))
    report(f"stack ready in {time.monotonic() - began:.1f}s (logs in {paths.logs})")
    return Endpoints()


def ensure_up(paths: Paths | None = None, report: Report = _quiet) -> Endpoints:
    """Make sure the whole stack answers, starting what is missing; return its endpoints."""
    return run_sync(lambda: up_async(paths, report))


def _stop(component: Component) -> str:
    pid_file = component.pid_file
    recorded = read_pid(pid_file)
    pid = owned_pid(pid_file, component.markers())
    if pid is None:
        pid_file.unlink(missing_ok=True)
        if recorded is not None:
            return f"not running (removed stale pid file for {recorded})"
        return "not started by jg-stack"
    gone = terminate(pid, component.stop_signal, component.stop_timeout)
    if not gone:
        return f"pid {pid} did not stop"
    pid_file.unlink(missing_ok=True)
    return f"stopped (pid {pid})"


async def _ports_still_open(components: Sequence[Component], grace: float = 15.0) -> list[str]:
    """The stack ports still listening after the processes are gone. A port may stay bound a
    moment after its process died (the kernel closes it when the last descendant exits): give
    it ``grace`` seconds before calling it someone else's."""
    deadline = time.monotonic() + grace
    while True:
        still = [
            f"{component.name} {port}"
            for component in components
            for port in component.ports.values()
            if port_open(port)
        ]
        if not still or time.monotonic() > deadline:
            return still
        await asyncio.sleep(0.25)


async def down_async(paths: Paths | None = None, report: Report = print) -> bool:
    """Stop what jg-stack started; True when no stack port is still listening."""
    paths = paths or Paths(config.find_repo_root())
    components = all_components(paths)
    with _stack_lock(paths):
        results = await asyncio.gather(*(asyncio.to_thread(_stop, c) for c in components))
    for component, result in zip(components, results, strict=True):
        report(f"  {component.name:<12} {result}")
    still = await _ports_still_open(components)
    if still:
        report("still listening (not started by jg-stack, left alone): " + ", ".join(still))
        return False
    return True


def down(paths: Paths | None = None, report: Report = print) -> bool:
    return run_sync(lambda: down_async(paths, report))


async def status_async(paths: Paths | None = None) -> list[ComponentStatus]:
    paths = paths or Paths(config.find_repo_root())
    components = all_components(paths)

    async def one(component: Component) -> ComponentStatus:
        pid = owned_pid(component.pid_file, component.markers())
        answering = component.any_port_open() and await component.probe()
        return ComponentStatus(component.name, component.ports, pid, answering)

    return list(await asyncio.gather(*(one(c) for c in components)))


def status(paths: Paths | None = None) -> list[ComponentStatus]:
    return run_sync(lambda: status_async(paths))


def stack_pids(paths: Paths | None = None) -> dict[str, int | None]:
    """The pid of each component jg-stack started and that is alive (None otherwise)."""
    paths = paths or Paths(config.find_repo_root())
    return {c.name: owned_pid(c.pid_file, c.markers()) for c in all_components(paths)}


def stack_urls(paths: Paths | None = None) -> dict[str, dict[str, str]]:
    paths = paths or Paths(config.find_repo_root())
    return {c.name: c.urls for c in all_components(paths)}


__all__ = [
    "ComponentStatus",
    "Endpoints",
    "StackError",
    "crash",
    "down",
    "down_async",
    "ensure_up",
    "stack_pids",
    "stack_urls",
    "start_component",
    "status",
    "status_async",
    "stop_component",
    "up_async",
]
