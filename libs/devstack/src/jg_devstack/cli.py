"""``jg-stack``: up, down, status, run."""

from __future__ import annotations

import argparse
import sys
import time

from jg_devstack import config
from jg_devstack.components import StackError
from jg_devstack.config import HOST, Paths


def _cmd_up(paths: Paths) -> int:
    from jg_devstack.stack import ensure_up

    print(f"Starting the local stack ({paths.root})")
    try:
        ensure_up(paths, report=print)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _cmd_down(paths: Paths) -> int:
    from jg_devstack.stack import down

    print("Stopping the local stack")
    began = time.monotonic()
    clean = down(paths, report=print)
    print(f"done in {time.monotonic() - began:.1f}s")
    return 0 if clean else 1


def _cmd_status(paths: Paths) -> int:
    from jg_devstack.stack import status

    rows = status(paths)
    print(f"{'component':<12} {'ports':<16} {'pid':<8} state")
    for row in rows:
        ports = ",".join(str(port) for port in row.ports.values())
        pid = str(row.pid) if row.pid else "-"
        print(f"{row.name:<12} {ports:<16} {pid:<8} {row.state}")
    return 0


def _cmd_run(paths: Paths) -> int:
    from jg_devstack.supervisor import run

    try:
        return run(paths)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _cmd_urls(paths: Paths) -> int:
    from jg_devstack.stack import stack_urls

    for component, urls in stack_urls(paths).items():
        for label, url in urls.items():
            print(f"{component:<12} {label:<10} {url}")
    print(f"{'mailpit':<12} {'web UI':<10} http://{HOST}:{config.MAILPIT_HTTP_PORT}/")
    return 0


COMMANDS = {
    "up": (_cmd_up, "start every component not already answering; wait until all answer"),
    "down": (_cmd_down, "stop what jg-stack started"),
    "status": (_cmd_status, "print each component, its ports and its state"),
    "run": (_cmd_run, "up, then every service under services/ in the foreground"),
    "urls": (_cmd_urls, "print the stack's addresses"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jg-stack", description="The JapanGoodz local stack.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text)
    args = parser.parse_args(argv)
    paths = Paths(config.find_repo_root())
    handler, _ = COMMANDS[args.command]
    return handler(paths)


if __name__ == "__main__":
    sys.exit(main())
