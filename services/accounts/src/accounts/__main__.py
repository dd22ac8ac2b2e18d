"""``python -m accounts``: structured logs, then uvicorn on create_app()."""

from __future__ import annotations

import uvicorn
from jg_messaging import configure_logging

from accounts.app import create_app
from accounts.settings import AccountsSettings


def main() -> None:
    settings = AccountsSettings()
    configure_logging(
        "accounts", level=settings.platform.log_level, json=settings.platform.log_json
    )
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
