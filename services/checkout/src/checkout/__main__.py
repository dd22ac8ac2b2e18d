"""``python -m checkout``: structured logs, then uvicorn on create_app()."""

from __future__ import annotations

import jg_lean  # noqa: F401  # first: keeps development-only packages out (see its docstring)
from jg_messaging import serve

from checkout.app import create_app
from checkout.settings import CheckoutSettings


def main() -> None:
    serve("checkout", CheckoutSettings, create_app)


if __name__ == "__main__":
    main()
