"""``python -m backoffice``: structured logs, then uvicorn on create_app()."""

from __future__ import annotations

import jg_lean  # noqa: F401  # first: keeps development-only packages out (see its docstring)
from jg_messaging import serve

from backoffice.app import create_app
from backoffice.settings import BackofficeSettings


def main() -> None:
    serve("backoffice", BackofficeSettings, create_app)


if __name__ == "__main__":
    main()
