"""Probes for tests that attack a running service from outside, as a hostile client would.

- :func:`raw_request`: an HTTP/1.1 request written by hand on a TCP socket, its body streamed
  from an iterable or an async iterable (never built whole), chunked or not, with whatever
  ``Content-Length`` the test claims (true, false, or none). The answer is read while the body
  is still being sent, so an early refusal is seen when it arrives, with the number of body
  bytes the client had pushed by then.
- :class:`ProcessMemory`: a process's resident memory and its peak, from Linux's ``/proc``;
  the peak can be reset, so a test measures what one request cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ProcessMemory", "RawAnswer", "raw_request"]


@dataclass
class RawAnswer:
    """What came back: ``status`` None when the server closed without answering."""

    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    sent: int = 0  # body bytes written to the socket before the answer (or the close)
    elapsed: float = 0.0  # seconds from the first byte sent to the whole answer read

    def json(self) -> Any:
        return json.loads(self.body)


async def _read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    loop = asyncio.get_running_loop()
    data = b""
    while b"\r\n\r\n" not in data:
        piece = await loop.sock_recv(sock, 65536)
        if not piece:
            raise ConnectionResetError("closed before the answer's headers")
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        piece = await loop.sock_recv(sock, 65536)
        if not piece:
            raise ConnectionResetError("closed in the middle of the answer's body")
        rest += piece
    return int(status_line.split()[1]), headers, rest[:length]


async def _chunks(body: Iterable[bytes] | AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    if isinstance(body, AsyncIterable):
        async for chunk in body:
            yield chunk
    else:
        for chunk in body:
            yield chunk


async def raw_request(
    host: str,
    port: int,
    method: str,
    path: str,
    *,
    headers: Sequence[tuple[str, str]] = (),
    body: Iterable[bytes] | AsyncIterable[bytes] = (),
    chunked: bool = False,
    timeout: float = 60.0,
) -> RawAnswer:
    """Send one request on a new connection; ``headers`` go out exactly as given (a
    ``Content-Length`` among them is the test's claim), plus ``Transfer-Encoding: chunked``
    when ``chunked``.

    A plain socket, not asyncio's streams: when the server refuses early and closes, sending
    fails (reset) while its answer still waits in the socket to be read; a stream transport
    would drop it with the connection.
    """
    loop = asyncio.get_running_loop()
    sock = socket.create_connection((host, port))
    sock.setblocking(False)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    sent = 0
    started = loop.time()

    async def send_body() -> None:
        nonlocal sent
        with contextlib.suppress(ConnectionError, OSError):
            await loop.sock_sendall(sock, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            async for chunk in _chunks(body):
                framed = b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk
                await loop.sock_sendall(sock, framed)
                sent += len(chunk)
            if chunked:
                await loop.sock_sendall(sock, b"0\r\n\r\n")

    sender = asyncio.create_task(send_body())
    try:
        async with asyncio.timeout(timeout):
            status, answer_headers, answer_body = await _read_answer(sock)
        return RawAnswer(status, answer_headers, answer_body, sent, loop.time() - started)
    except ConnectionError:
        return RawAnswer(None, sent=sent, elapsed=loop.time() - started)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        sock.close()


@dataclass(frozen=True)
class ProcessMemory:
    """Resident memory of process ``pid`` (Linux), in KiB."""

    pid: int

    def _field(self, name: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1])
        raise LookupError(f"no {name} for process {self.pid}")

    @property
    def rss_kib(self) -> int:
        return self._field("VmRSS")

    @property
    def peak_kib(self) -> int:
        """The highest resident memory since the start or the last :meth:`reset_peak`."""
        return self._field("VmHWM")

    def reset_peak(self) -> None:
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")
