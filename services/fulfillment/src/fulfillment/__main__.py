"""``python -m fulfillment``: structured logs, then uvicorn on create_app()."""

from __future__ import annotations

import jg_lean  # noqa: F401  # first: keeps development-only packages out (see its docstring)
from jg_messaging import serve

from fulfillment.app import create_app
from fulfillment.settings import FulfillmentSettings


def main() -> None:
    serve("fulfillment", FulfillmentSettings, create_app)


if __name__ == "__main__":
    main()
