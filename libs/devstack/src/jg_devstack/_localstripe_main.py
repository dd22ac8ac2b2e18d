"""Runs localstripe bound to one address, with its state file under .stack.

Executed by the interpreter of localstripe's own virtualenv (.cache/tools/localstripe), never
imported by jg_devstack. Upstream's ``localstripe`` command binds every interface ("::") and
keeps its state in /tmp/localstripe.pickle; this launcher keeps the same server but binds only
--host and stores the state in --state.
"""

from __future__ import annotations

import argparse
import logging
import pickle
import socket
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--from-scratch", action="store_true")
    args = parser.parse_args()

    from aiohttp import web  # type: ignore[import-not-found]
    from localstripe import resources  # type: ignore[import-not-found]
    from localstripe.server import app  # type: ignore[import-not-found]

    state: Path = args.state
    state.parent.mkdir(parents=True, exist_ok=True)

    def try_load_from_disk(self: Any) -> None:
        try:
            with state.open("rb") as handle:
                old = pickle.load(handle)  # noqa: S301 - our own state file
        except (FileNotFoundError, EOFError, pickle.UnpicklingError):
            return
        self.clear()
        self.update(old)

    def dump_to_disk(self: Any) -> None:
        tmp = state.with_suffix(".tmp")
        with tmp.open("wb") as handle:
            pickle.dump(self, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(state)

    resources.Store.try_load_from_disk = try_load_from_disk
    resources.Store.dump_to_disk = dump_to_disk

    if not args.from_scratch:
        resources.store.try_load_from_disk()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))

    logging.basicConfig(level=logging.INFO)
    print(f"localstripe listening on http://{args.host}:{args.port}", flush=True)
    web.run_app(app, sock=sock, access_log=logging.getLogger("aiohttp.access"), print=None)


if __name__ == "__main__":
    main()
