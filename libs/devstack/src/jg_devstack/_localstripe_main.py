"""Runs localstripe bound to one address, with its state file under .stack.

Executed by the interpreter of localstripe's own virtualenv (.cache/tools/localstripe), never
imported by jg_devstack. Upstream's ``localstripe`` command binds every interface ("::") and
keeps its state in /tmp/localstripe.pickle; this launcher keeps the same server but binds only
--host and stores the state in --state.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import pickle
import socket
import time
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--from-scratch", action="store_true")
    args = parser.parse_args()

    from aiohttp import web
    from localstripe import resources, webhooks  # type: ignore[import-not-found]
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

    def write(store: Any) -> None:
        tmp = state.with_suffix(".tmp")
        with tmp.open("wb") as handle:
            pickle.dump(store, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(state)

    # Upstream pickles the whole store on every write: with a few thousand objects that is
    # most of its CPU, and a backlog after a restart starves every answer. The state is written
    # at most once a second instead, and at shutdown (SIGTERM). A write grows with the store
    # (about 100 ms for the 14,000 objects of 2,000 orders) and holds the event loop: the next
    # write waits at least twenty times as long as the last one took, so writing never takes
    # more than 5 % of the time. A kill -9 loses at most the last second (the last 2 s at
    # 2,000 orders).
    dirty: dict[str, Any] = {"store": None}

    def dump_to_disk(self: Any) -> None:
        dirty["store"] = self

    async def flush_every_second(_: Any) -> Any:
        async def loop() -> None:
            pause = 1.0
            while True:
                await asyncio.sleep(pause)
                began = time.perf_counter()
                flush()
                pause = max(1.0, 20 * (time.perf_counter() - began))

        task = asyncio.create_task(loop())
        yield
        task.cancel()
        flush()

    def flush() -> None:
        store, dirty["store"] = dirty["store"], None
        if store is not None:
            write(store)

    resources.Store.try_load_from_disk = try_load_from_disk
    resources.Store.dump_to_disk = dump_to_disk
    app.cleanup_ctx.append(flush_every_second)
    index_by_kind(resources)
    skip_unwatched_events(webhooks)

    # JG_STRIPE_STANDIN_LATENCY_MS plays the real Stripe API's latency: every answer waits.
    latency = float(os.environ.get("JG_STRIPE_STANDIN_LATENCY_MS", "0") or 0) / 1000

    @web.middleware
    async def slow(request: Any, handler: Any) -> Any:
        await asyncio.sleep(latency)
        return await handler(request)

    if latency > 0:
        app.middlewares.append(slow)

    if not args.from_scratch:
        resources.store.try_load_from_disk()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))

    logging.basicConfig(level=logging.INFO)
    print(f"localstripe listening on http://{args.host}:{args.port}", flush=True)
    web.run_app(app, sock=sock, access_log=logging.getLogger("aiohttp.access"), print=None)


def index_by_kind(resources: Any) -> None:
    """Upstream lists objects of one kind by scanning the whole store, and does so inside every
    Customer (its subscriptions) and Charge (its refunds, twice) it returns: each answer's cost
    grew with the number of orders ever paid (a card order's calls, 10 at a time: 11 ms of CPU
    on a fresh store, 56 ms after 2,000). The store keeps an index by kind, in insertion order
    like the scan's: 4–6 ms, flat. Only the live store is indexed (unpickling the state file
    builds another Store, item by item, which may fail half-way)."""
    kinds: dict[str, dict[str, Any]] = {}
    store_class = resources.Store
    set_item, del_item = store_class.__setitem__, store_class.__delitem__

    def kind_of(key: str) -> str | None:
        kind, colon, _ = key.partition(":")
        return kind if colon else None

    def add(key: str, value: Any) -> None:
        kind = kind_of(key)
        if kind is not None:
            kinds.setdefault(kind, {})[key] = value

    def setitem(self: Any, key: str, value: Any) -> None:
        set_item(self, key, value)
        if self is resources.store:
            add(key, value)

    def delitem(self: Any, key: str) -> None:
        del_item(self, key)
        kind = kind_of(key)
        if self is resources.store and kind is not None:
            kinds.get(kind, {}).pop(key, None)

    def clear(self: Any) -> None:
        dict.clear(self)
        if self is resources.store:
            kinds.clear()

    def update(self: Any, other: Any) -> None:
        dict.update(self, other)
        if self is resources.store:
            for key, value in dict(other).items():
                add(key, value)

    def list_all(
        cls: Any, /, url: str, limit: Any = None, starting_after: Any = None, **kwargs: Any
    ) -> Any:
        if kwargs:
            raise resources.UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        listed = resources.List(url, limit=limit, starting_after=starting_after)
        listed._list = list(kinds.get(cls.object, {}).values())
        return listed

    store_class.__setitem__, store_class.__delitem__ = setitem, delitem
    store_class.clear, store_class.update = clear, update
    resources.StripeObject._api_list_all = classmethod(list_all)
    for key, value in dict(resources.store).items():
        add(key, value)


def skip_unwatched_events(webhooks: Any) -> None:
    """Upstream encodes every event as indented JSON (Python's slow encoder) before it looks for
    a webhook to send it to, a second later; with no webhook registered that is CPU spent for
    nothing (about 0.5 ms of the stand-in's 5 ms of CPU per order once the store is indexed). The
    event waits its second first, then is encoded and sent only if a webhook is registered by
    then: a webhook registered within that second still gets it, one second later than
    upstream would send it (Stripe's own deliveries are not timed either)."""
    send = webhooks._send_webhook

    async def send_if_watched(event: Any) -> None:
        await asyncio.sleep(1)
        if webhooks._webhooks:
            await send(event)

    webhooks._send_webhook = send_if_watched


if __name__ == "__main__":
    main()
