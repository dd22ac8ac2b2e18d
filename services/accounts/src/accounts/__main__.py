"""``python -m accounts``: structured logs, then uvicorn on create_app()."""

from __future__ import annotations

import jg_lean  # noqa: F401  # first: keeps development-only packages out (see its docstring)
from jg_messaging import serve

from accounts.app import create_app
from accounts.settings import AccountsSettings


def main() -> None:
    # accounts reads client addresses itself (ACCOUNTS_TRUSTED_PROXIES), not from uvicorn.
    serve("accounts", AccountsSettings, create_app, proxy_headers=False)


if __name__ == "__main__":
    main()
