"""``python -m notifications``: structured logs, then uvicorn on create_app()."""

from __future__ import annotations

import sys

# rich is in the development venv (jg-devstack's live tables) but no service renders with it;
# structlog and httpx import it when they find it (~5 MB resident). Kept out of the service
# process: its tracebacks are plain (jg_messaging.logs). Before any other import.
sys.modules.setdefault("rich", None)

from jg_messaging import serve  # noqa: E402

from notifications.app import create_app  # noqa: E402
from notifications.settings import NotificationsSettings  # noqa: E402


def main() -> None:
    serve("notifications", NotificationsSettings, create_app)


if __name__ == "__main__":
    main()
