"""``python -m notifications``: structured logs, then uvicorn on create_app()."""

from __future__ import annotations

import jg_lean  # noqa: F401  # first: keeps development-only packages out (see its docstring)
from jg_messaging import serve

from notifications.app import create_app
from notifications.settings import NotificationsSettings


def main() -> None:
    serve("notifications", NotificationsSettings, create_app)


if __name__ == "__main__":
    main()
