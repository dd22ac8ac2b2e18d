"""``python -m notifications``: configure logs, then serve create_app() with uvicorn."""

from __future__ import annotations

import uvicorn
from jg_messaging import configure_logging

from notifications.app import create_app
from notifications.settings import NotificationsSettings


def main() -> None:
    settings = NotificationsSettings()
    configure_logging(
        "notifications", level=settings.platform.log_level, json=settings.platform.log_json
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
