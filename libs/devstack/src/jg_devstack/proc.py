"""Process, pid-file and port helpers (Linux /proc based)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Iterable
from pathlib import Path


def read_pid(pid_file: Path) -> int | None:
    """The pid stored in ``pid_file``, or None when missing or not a positive integer."""
    try:
        text = pid_file.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.isdigit():
        return None
    pid = int(text)
    return pid if pid > 0 else None


def write_pid(pid_file: Path, pid: int) -> None:
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = pid_file.with_suffix(".tmp")
    tmp.write_text(f"{pid}\n", encoding="ascii")
    tmp.replace(pid_file)


def pid_alive(pid: int) -> bool:
    """True when the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    # Field 3 (after the parenthesised command name) is the state.
    state = stat.rsplit(")", 1)[-1].split()[0] if ")" in stat else "?"
    return state not in {"Z", "X"}


def cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def cmdline_matches(pid: int, markers: Iterable[str]) -> bool:
    """True when the live process ``pid`` has every marker somewhere in its command line."""
    if not pid_alive(pid):
        return False
    args = cmdline(pid)
    if not args:
        return False
    joined = " ".join(args)
    return all(marker in joined for marker in markers)


def owned_pid(pid_file: Path, markers: Iterable[str]) -> int | None:
    """The pid from ``pid_file`` if that process is alive and is the one we started."""
    pid = read_pid(pid_file)
    if pid is None:
        return None
    return pid if cmdline_matches(pid, list(markers)) else None


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect((host, port))
        except OSError:
            return False
        return True


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a text file ('' when missing)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            data = handle.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def terminate(pid: int, sig: signal.Signals, timeout: float) -> bool:
    """Send ``sig`` to ``pid``, wait up to ``timeout`` s, then SIGKILL its process group.

    Returns True when the process is gone at the end.
    """
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            _reap(pid)
            return True
        time.sleep(0.1)
    # We started it with start_new_session=True, so its process group id is its pid.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            _reap(pid)
            return True
        time.sleep(0.1)
    return False


def _reap(pid: int) -> None:
    """Collect the exit status if ``pid`` is our own child (no-op otherwise)."""
    reap(pid)


def reap(pid: int) -> int | None:
    """Collect ``pid``'s exit status if it is our own child and has ended (no-op otherwise).

    A child that died and was never waited for stays a zombie: its pid still "exists", so a
    program checking it (PostgreSQL's lock file, our own pid files) thinks it still runs.
    Returns the exit status when one was collected.
    """
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except (ChildProcessError, OSError):
        return None
    return status if done == pid else None


def kill_group(pid: int, sig: signal.Signals = signal.SIGKILL) -> None:
    """Send ``sig`` to ``pid``'s process group (and to ``pid``); ignore what is already gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def listening_inodes(port: int) -> set[int]:
    """Socket inodes of the TCP listeners on ``port`` (any address, IPv4 or IPv6)."""
    inodes: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) < 10 or fields[3] != "0A":  # 0A = LISTEN
                continue
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(int(fields[9]))
    return inodes


def pid_listens_on(pid: int, port: int) -> bool | None:
    """True when ``pid`` holds a listening socket on ``port``; None when that cannot be told."""
    inodes = listening_inodes(port)
    if not inodes:
        return False
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and int(target[8:-1]) in inodes:
            return True
    return False
