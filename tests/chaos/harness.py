"""The chaos run's moving parts: two instances of every service, clients that behave like the
real outside world during an outage (retry with the same idempotency key, on the other
instance), and the faults, injected for real through the devstack."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from jg_devstack.launcher import SERVICES, ServiceProcesses
from jg_devstack.stack import crash, start_component, stop_component

JsonDict = dict[str, Any]

INSTANCES = ("a", "b")


@dataclass
class Fleet:
    """The five services, twice: ``processes["a"]`` and ``processes["b"]``."""

    processes: dict[str, ServiceProcesses]

    def urls(self, service: str) -> list[str]:
        return [self.processes[i].platform.url(service) for i in INSTANCES]

    def instances(self) -> list[tuple[str, str]]:
        return [(i, name) for name in SERVICES for i in INSTANCES]

    def crash(self, instance: str, service: str) -> None:
        self.processes[instance].crash(service)

    def restart(self, instance: str, service: str) -> None:
        self.processes[instance].start_one(service)

    def wait_ready(self, instance: str, service: str, timeout: float = 90) -> None:
        self.processes[instance].wait_ready(timeout, names={service})


class UnavailableError(Exception):
    """Still no answer at the deadline (every instance away for too long)."""


class Resilient:
    """An HTTP API behind a load balancer: a connection error or a 5xx is tried again, on the
    next instance, until an answer (2xx, 3xx or 4xx) or the deadline."""

    def __init__(
        self, base_urls: list[str], token: str | None = None, *, patience: float = 240.0
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.clients = [
            httpx.AsyncClient(base_url=u, timeout=10.0, headers=headers) for u in base_urls
        ]
        self.patience = patience
        self._next = 0
        self.retries = 0

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        deadline = time.monotonic() + self.patience
        last = "no attempt"
        while True:
            client = self.clients[self._next % len(self.clients)]
            self._next += 1
            try:
                response = await client.request(method, path, **kwargs)
                if response.status_code < 500:
                    return response
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            self.retries += 1
            if time.monotonic() > deadline:
                raise UnavailableError(f"{method} {path}: {last}")
            await asyncio.sleep(0.5)

    async def json(self, method: str, path: str, **kwargs: Any) -> JsonDict:
        response = await self.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
        result: JsonDict = response.json()
        return result


async def patiently(
    probe: Callable[[], Awaitable[Any]],
    until: Callable[[Any], bool],
    what: str,
    *,
    timeout: float = 240.0,
    interval: float = 0.5,
) -> Any:
    """``probe()`` until ``until(value)``; errors of an away dependency are waited out."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = await probe()
            if until(last):
                return last
        except (httpx.HTTPError, UnavailableError, OSError) as exc:
            last = repr(exc)
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}"
            )
        await asyncio.sleep(interval)


@dataclass
class FaultLog:
    """What was done to the platform, when (seconds since the start of the run)."""

    began: float = field(default_factory=time.monotonic)
    rows: list[tuple[float, float, str]] = field(default_factory=list)

    progress: Any = None  # a callable(text) telling the run's progress log

    def note(self, what: str) -> None:
        if self.progress is not None:
            self.progress(what)

    def add(self, started: float, what: str) -> None:
        now = time.monotonic()
        self.rows.append((started - self.began, now - started, what))


async def injure_and_heal(
    fleet: Fleet, log: FaultLog, pause: float = 3.0, *, services: bool = True, stack: bool = True
) -> None:
    """One fault after another, each healed before the next (the issue's list)."""
    loop = asyncio.get_running_loop()
    for instance, service in fleet.instances() if services else []:
        began = time.monotonic()
        await loop.run_in_executor(None, fleet.crash, instance, service)
        await asyncio.sleep(2.0)
        await loop.run_in_executor(None, fleet.restart, instance, service)
        await loop.run_in_executor(None, fleet.wait_ready, instance, service)
        log.add(began, f"kill -9 {service}-{instance}, restarted")
        log.note(f"kill -9 {service}-{instance}, restarted")
        await asyncio.sleep(pause)
    stack_faults = (
        ("kafka", 20.0, True),
        ("postgres", 20.0, True),
        ("mailpit", 30.0, False),
        ("localstripe", 20.0, False),
    )
    for component, down, kill in stack_faults if stack else ():
        began = time.monotonic()
        if kill:
            await loop.run_in_executor(None, crash, component)
        else:
            await loop.run_in_executor(None, stop_component, component)
        await asyncio.sleep(down)
        await start_component(component)
        verb = "kill -9" if kill else "stopped"
        log.add(began, f"{verb} {component}, down {down:.0f} s, started again")
        log.note(f"{verb} {component}, down {down:.0f} s, started again")
        await asyncio.sleep(pause)


def new_key() -> str:
    return str(uuid.uuid4())


async def gather_limited(tasks: list[Awaitable[Any]], limit: int) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(task: Awaitable[Any]) -> Any:
        async with semaphore:
            return await task

    return await asyncio.gather(*(one(t) for t in tasks))


@contextlib.asynccontextmanager
async def closing(*clients: Resilient) -> Any:
    try:
        yield
    finally:
        for client in clients:
            await client.close()
