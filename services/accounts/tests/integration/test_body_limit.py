"""A huge body never costs accounts memory or a password hash: 413 as the bytes arrive.

accounts runs as a real process (``python -m accounts``: uvicorn and h11, as in production)
with production argon2 costs (64 MiB per hash), on a fresh database; the test is a hostile
client on a raw socket. Before the body limit, ``POST /login`` read a body of any size into
memory before looking at it.
"""

import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
from jg_devstack.probes import ProcessMemory, raw_request

pytestmark = pytest.mark.integration

GIB = 1024 * 1024 * 1024
CHUNK = 64 * 1024
LIMIT = 64 * 1024  # ACCOUNTS_MAX_BODY_BYTES, the default
MIB = 1024
ARGON2_KIB = 65536  # production's argon2 memory cost: what one hash adds to the peak


@pytest.fixture
def accounts_process(
    stack: Endpoints,
    fresh_database: Callable[..., str],
    topic_prefix: str,
    tmp_path: Path,
) -> Iterator[ServiceProcess]:
    config = PlatformConfig(
        ports={name: free_port() for name in SERVICES},
        databases={"accounts": fresh_database()},
        topic_prefix=topic_prefix,
        environment="test",
        endpoints=stack,
    )
    processes = ServiceProcesses(config, tmp_path, services=("accounts",))
    try:
        processes.start()
        processes.wait_ready(timeout=90)
        yield processes.running["accounts"]
    finally:
        processes.stop()


def login_body(total: int) -> Iterator[bytes]:
    """``total`` bytes of a login whose password never ends, one reused chunk at a time."""
    head = b'{"email": "camille.durand@example.fr", "password": "'
    filler = b"x" * CHUNK
    yield head
    yield from itertools.repeat(filler, (total - len(head)) // CHUNK)


def where(service: ServiceProcess) -> tuple[str, int]:
    url = httpx.URL(service.url)
    assert url.port is not None
    return url.host, url.port


@pytest.mark.parametrize("announced", [False, True], ids=["chunked", "content-length"])
async def test_a_1_gib_login_is_refused_at_once_without_memory_or_hashing(
    accounts_process: ServiceProcess, announced: bool
) -> None:
    host, port = where(accounts_process)
    memory = ProcessMemory(accounts_process.process.pid)

    # The measurement sees a hash: a login of an unknown email hashes against a dummy.
    memory.reset_peak()
    before = memory.rss_kib
    async with httpx.AsyncClient(base_url=accounts_process.url) as http:
        small = await http.post("/login", json={"email": "x@example.fr", "password": "nope"})
    assert small.status_code == 401
    assert memory.peak_kib - before > ARGON2_KIB * 3 // 4

    memory.reset_peak()
    before = memory.rss_kib
    headers = [("Content-Type", "application/json")]
    if announced:
        headers.append(("Content-Length", str(GIB)))
    answer = await raw_request(
        host,
        port,
        "POST",
        "/login",
        headers=headers,
        body=login_body(GIB),
        chunked=not announced,
        timeout=30,
    )

    assert answer.status == 413, answer
    assert answer.json()["code"] == "payload_too_large"
    assert answer.headers["connection"] == "close"
    assert answer.elapsed < 5.0
    # the client could push a few MiB into the sockets' buffers, never the gigabyte
    assert answer.sent < 32 * 1024 * 1024
    growth = memory.peak_kib - before
    assert growth < 16 * MIB, f"the peak grew by {growth} KiB"  # no hash, no buffered body
    print(
        f"\n1 GiB login ({'announced' if announced else 'chunked'}): 413 after "
        f"{answer.elapsed * 1000:.0f} ms, {answer.sent / 1024:.0f} KiB sent, peak RSS "
        f"+{growth} KiB (a hash: +{ARGON2_KIB} KiB)"
    )

    # the service is unharmed and answers the next customer
    async with httpx.AsyncClient(base_url=accounts_process.url) as http:
        email = f"camille.{uuid.uuid4().hex[:8]}@example.fr"
        signed_up = await http.post(
            "/customers",
            json={
                "email": email,
                "password": "Kintsugi-Tasse-42",
                "first_name": "Camille",
                "last_name": "Durand",
            },
        )
        assert signed_up.status_code == 201, signed_up.text
        logged_in = await http.post(
            "/login", json={"email": email, "password": "Kintsugi-Tasse-42"}
        )
        assert logged_in.status_code == 200


async def test_a_body_just_over_the_limit_is_refused_and_one_within_it_is_read(
    accounts_process: ServiceProcess,
) -> None:
    host, port = where(accounts_process)
    padding = "x" * (LIMIT - 60)
    within: Any = json.dumps({"email": "camille@example.fr", "password": padding}).encode()
    assert len(within) <= LIMIT
    answer = await raw_request(
        host,
        port,
        "POST",
        "/login",
        headers=[("Content-Type", "application/json")],
        body=[within],
        chunked=True,
    )
    # read whole, parsed and judged: the password is longer than any password may be
    assert answer.status == 422
    assert answer.json()["details"][0]["field"] == "password"
    over = within + b" " * (LIMIT - len(within) + 1)
    answer = await raw_request(
        host,
        port,
        "POST",
        "/login",
        # h11 reads a chunked body whatever Content-Length claims beside it
        headers=[("Content-Type", "application/json"), ("Content-Length", "100")],
        body=[over],
        chunked=True,
    )
    assert answer.status == 413  # the bytes are counted, the claim is not believed
