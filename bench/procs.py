"""CPU time and resident memory of processes, from /proc (Linux)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from jg_devstack.proc import listening_inodes

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
PROC = Path("/proc")


def parse_stat(text: str) -> tuple[int, list[str]]:
    """``/proc/<pid>/stat`` as (ppid, fields after the command name); the name may hold spaces
    and parentheses, so the split is after its last ``)``."""
    rest = text[text.rindex(")") + 2 :].split()
    return int(rest[1]), rest


def cpu_ticks(fields: list[str], *, with_children: bool) -> int:
    """utime + stime (and cutime + cstime: reaped children) from the fields after the name."""
    # fields[0] is the state (field 3 of stat); utime is field 14, so index 11.
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks


def _stats() -> dict[int, tuple[int, list[str]]]:
    found: dict[int, tuple[int, list[str]]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError):
            found[int(entry.name)] = parse_stat((entry / "stat").read_text())
    return found


def tree_cpu_seconds(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds each root process and its live descendants used so far, plus what its reaped
    children used (a PostgreSQL backend that ended still counts)."""
    stats = _stats()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    result: dict[str, float] = {}
    for name, root in roots.items():
        if root not in stats:
            continue
        ticks = cpu_ticks(stats[root][1], with_children=True)
        todo = list(children.get(root, []))
        while todo:
            pid = todo.pop()
            ticks += cpu_ticks(stats[pid][1], with_children=True)
            todo.extend(children.get(pid, []))
        result[name] = ticks / CLOCK_TICKS
    return result


def rss_mb(pid: int) -> float | None:
    """Resident set size of one process in MB (VmRSS), None when it is gone."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def listener_pid(port: int) -> int | None:
    """The process listening on 127.0.0.1:``port`` (its oldest ancestor holding the socket)."""
    inodes = listening_inodes(port)
    if not inodes:
        return None
    wanted = {f"socket:[{i}]" for i in inodes}
    holders: list[int] = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in wanted:
                        holders.append(int(entry.name))
                        break
    return min(holders) if holders else None
