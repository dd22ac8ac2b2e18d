"""localstripe on 0.0.0.0:8420 (IPv4): upstream's command binds "::" only, which fails where a
container has no IPv6. State stays in localstripe's own file under /tmp."""

from __future__ import annotations

from aiohttp import web  # type: ignore[import-not-found]
from localstripe.resources import store  # type: ignore[import-not-found]
from localstripe.server import app  # type: ignore[import-not-found]

if __name__ == "__main__":
    store.try_load_from_disk()
    web.run_app(app, host="0.0.0.0", port=8420)
