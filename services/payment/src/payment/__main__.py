"""`python -m payment`: structured logs, then uvicorn on create_app()."""

from __future__ import annotations

import uvicorn
from jg_messaging import configure_logging

from payment.app import create_app
from payment.settings import PaymentSettings


def main() -> None:
    settings = PaymentSettings()
    configure_logging("payment", level=settings.platform.log_level, json=settings.platform.log_json)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
