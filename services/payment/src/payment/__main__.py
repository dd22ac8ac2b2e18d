"""``python -m payment``: structured logs, then uvicorn on create_app()."""

from __future__ import annotations

import jg_lean  # noqa: F401  # first: keeps development-only packages out (see its docstring)
from jg_messaging import serve

from payment.app import create_app
from payment.settings import PaymentSettings


def main() -> None:
    serve("payment", PaymentSettings, create_app)


if __name__ == "__main__":
    main()
