"""Claim uploads against a real fulfillment process: capped on the bytes, a bounded number at once.

fulfillment runs as ``python -m fulfillment`` (uvicorn and h11, as in production), with small
photo limits (2 photos of 1 MiB: a claim body of at most 2 MiB + 64 KiB), one upload slot and
its own scratch directory (``TMPDIR``, the pod's /tmp). The tests are hostile clients on a raw
socket. Before jg_web's BodyLimit, the upload guard trusted ``Content-Length``: a chunked body
beside a small ``Content-Length`` was read whole and spooled to /tmp.
"""

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from jg_devstack import Endpoints
from jg_devstack.launcher import (
    SERVICES,
    PlatformConfig,
    ServiceProcess,
    ServiceProcesses,
    free_port,
)
from jg_devstack.probes import raw_request

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
PHOTO_MAX = MIB
CAP = 2 * PHOTO_MAX + 64 * 1024  # FULFILLMENT_CLAIM_PHOTO_MAX_COUNT=2 x 1 MiB + the form
WAIT = 1.0  # FULFILLMENT_UPLOAD_WAIT_SECONDS
BOUNDARY = "jgboundary"


@pytest.fixture
def fulfillment_process(
    stack: Endpoints,
    fresh_database: Callable[..., str],
    topic_prefix: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[ServiceProcess, Path]]:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    for name, value in {
        "TMPDIR": str(scratch),
        "FULFILLMENT_CLAIM_PHOTO_MAX_BYTES": str(PHOTO_MAX),
        "FULFILLMENT_CLAIM_PHOTO_MAX_COUNT": "2",
        "FULFILLMENT_UPLOAD_CONCURRENCY": "1",
        "FULFILLMENT_UPLOAD_WAIT_SECONDS": str(WAIT),
        "FULFILLMENT_UPLOAD_SCRATCH_BYTES": str(4 * MIB),
    }.items():
        monkeypatch.setenv(name, value)  # the process inherits the test's environment
    config = PlatformConfig(
        ports={name: free_port() for name in SERVICES},
        databases={"fulfillment": fresh_database()},
        topic_prefix=topic_prefix,
        environment="test",
        endpoints=stack,
    )
    processes = ServiceProcesses(config, tmp_path, services=("fulfillment",))
    try:
        processes.start()
        processes.wait_ready(timeout=90)
        yield processes.running["fulfillment"], scratch
    finally:
        processes.stop()


def where(service: ServiceProcess) -> tuple[str, int]:
    url = httpx.URL(service.url)
    assert url.port is not None
    return url.host, url.port


def claim_path() -> str:
    return f"/orders/{uuid.uuid4()}/claims"


HEADERS = [("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")]
PHOTO_HEAD = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="photos"; filename="colis.jpg"\r\n'
    "Content-Type: image/jpeg\r\n\r\n"
).encode()
FORM_TAIL = (
    f'\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nmissing_item'
    f"\r\n--{BOUNDARY}--\r\n"
).encode()


async def endless_photo(total: int) -> AsyncIterator[bytes]:
    """A multipart body whose one photo is ``total`` bytes long (one reused chunk)."""
    yield PHOTO_HEAD
    chunk = b"\xff" * (64 * 1024)
    for _ in range(total // len(chunk)):
        yield chunk
    yield FORM_TAIL


def scratch_in_use(pid: int, scratch: Path) -> int:
    """Bytes of the files the process holds open in its scratch directory (spooled uploads
    are unlinked at once, so only their descriptors show them)."""
    used = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            if os.readlink(fd).startswith(str(scratch)):
                used += fd.stat().st_size
    return used


async def test_a_chunked_upload_with_a_lying_content_length_is_refused_on_its_bytes(
    fulfillment_process: tuple[ServiceProcess, Path],
) -> None:
    service, scratch = fulfillment_process
    host, port = where(service)
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, scratch_in_use(service.process.pid, scratch))
            await asyncio.sleep(0.002)

    watcher = asyncio.create_task(watch())
    try:
        answer = await raw_request(
            host,
            port,
            "POST",
            claim_path(),
            headers=[*HEADERS, ("Content-Length", "100")],  # the lie: h11 reads the chunks
            body=endless_photo(256 * MIB),
            chunked=True,
        )
        await asyncio.sleep(0.2)
    finally:
        watcher.cancel()
    assert answer.status == 413, answer
    assert answer.json()["code"] == "upload_too_large"
    assert "2 photos de 1 Mo au plus" in answer.json()["message"]
    assert answer.elapsed < 5.0
    assert answer.sent < CAP + 16 * MIB  # the cap, plus what the sockets' buffers took
    assert 0 < peak <= CAP  # the photo was spooling, and stopped at the cap
    assert scratch_in_use(service.process.pid, scratch) == 0  # and its file was let go
    print(
        f"\n256 MiB chunked claim, Content-Length: 100: 413 after {answer.elapsed * 1000:.0f} "
        f"ms, {answer.sent // 1024} KiB sent, scratch peak {peak // 1024} KiB (cap {CAP // 1024})"
    )


async def test_an_upload_beyond_the_slots_waits_then_gets_503(
    fulfillment_process: tuple[ServiceProcess, Path],
) -> None:
    service, _ = fulfillment_process
    host, port = where(service)
    holding = asyncio.Event()
    release = asyncio.Event()

    async def slow_photo() -> AsyncIterator[bytes]:
        yield PHOTO_HEAD + b"\xff" * 1024
        holding.set()
        await release.wait()
        yield FORM_TAIL

    first = asyncio.create_task(
        raw_request(
            host, port, "POST", claim_path(), headers=HEADERS, body=slow_photo(), chunked=True
        )
    )
    await asyncio.wait_for(holding.wait(), 10)
    await asyncio.sleep(0.2)  # the first upload is being read: it holds the only slot

    second = await raw_request(
        host, port, "POST", claim_path(), headers=HEADERS, body=endless_photo(MIB), chunked=True
    )
    assert second.status == 503, second
    assert second.json()["code"] == "uploads_busy"
    assert second.headers["retry-after"] == "5"
    assert WAIT * 0.9 <= second.elapsed < WAIT + 3  # it waited for a slot, then gave up

    release.set()
    first_answer = await first
    # the first upload was read whole and went on to the route (which wants a bearer token)
    assert first_answer.status == 401, first_answer

    third = await raw_request(
        host, port, "POST", claim_path(), headers=HEADERS, body=endless_photo(MIB), chunked=True
    )
    assert third.status == 401, third  # the slot is free again


async def test_an_upload_that_waits_gets_the_slot_when_it_frees(
    fulfillment_process: tuple[ServiceProcess, Path],
) -> None:
    service, _ = fulfillment_process
    host, port = where(service)
    holding = asyncio.Event()

    async def brief_photo() -> AsyncIterator[bytes]:
        yield PHOTO_HEAD + b"\xff" * 1024
        holding.set()
        await asyncio.sleep(WAIT / 3)
        yield FORM_TAIL

    first = asyncio.create_task(
        raw_request(
            host, port, "POST", claim_path(), headers=HEADERS, body=brief_photo(), chunked=True
        )
    )
    await asyncio.wait_for(holding.wait(), 10)
    second = await raw_request(
        host, port, "POST", claim_path(), headers=HEADERS, body=endless_photo(MIB), chunked=True
    )
    assert (await first).status == 401
    assert second.status == 401, second  # it waited less than WAIT, then went through
