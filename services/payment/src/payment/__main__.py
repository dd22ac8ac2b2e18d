"""``python -m payment``: structured logs, then uvicorn on create_app()."""

from __future__ import annotations

import sys

# Packages of the development venv only (not in the images) that libraries import when they
# find them: rich (jg-devstack; structlog and httpx take it, ~4.6 MB resident; tracebacks
# are then plain, see jg_messaging.logs), its pygments (httpx's CLI, ~0.5 MB) and trio
# (selenium; httpcore takes it, ~4 MB; the services run on asyncio). Kept out of the
# service process, before any other import.
for _unused in ("rich", "pygments", "trio"):
    sys.modules.setdefault(_unused, None)  # type: ignore[arg-type]  # None: `import` fails

from jg_messaging import serve  # noqa: E402

from payment.app import create_app  # noqa: E402
from payment.settings import PaymentSettings  # noqa: E402


def main() -> None:
    serve("payment", PaymentSettings, create_app)


if __name__ == "__main__":
    main()
