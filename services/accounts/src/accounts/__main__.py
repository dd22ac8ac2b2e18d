"""``python -m accounts``: structured logs, then uvicorn on create_app()."""

from __future__ import annotations

import sys

# rich is in the development venv (jg-devstack's live tables) but no service renders with it;
# structlog and httpx import it when they find it (~5 MB resident). Kept out of the service
# process: its tracebacks are plain (jg_messaging.logs). Before any other import.
sys.modules.setdefault("rich", None)

from jg_messaging import serve  # noqa: E402

from accounts.app import create_app  # noqa: E402
from accounts.settings import AccountsSettings  # noqa: E402


def main() -> None:
    # accounts reads client addresses itself (ACCOUNTS_TRUSTED_PROXIES), not from uvicorn.
    serve("accounts", AccountsSettings, create_app, proxy_headers=False)


if __name__ == "__main__":
    main()
