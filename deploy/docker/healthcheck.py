"""Container healthcheck: GET http://127.0.0.1:<port>/health answers 200, else exit 1.

The port is the service's own setting, <SERVICE>_HTTP_PORT (SERVICE_MODULE names the service);
without it, the default of the service's settings class. Standard library only, so a check
costs a few milliseconds; it imports the service's settings only when the variable is unset.
"""

from __future__ import annotations

import importlib
import os
import sys
import urllib.request


def _port(service: str) -> int:
    value = os.environ.get(f"{service.upper()}_HTTP_PORT")
    if value:
        return int(value)
    module = importlib.import_module(f"{service}.settings")
    settings_cls = getattr(module, f"{service.capitalize()}Settings")
    return int(settings_cls.model_fields["http_port"].default)


def main() -> int:
    service = os.environ["SERVICE_MODULE"]
    url = f"http://127.0.0.1:{_port(service)}/health"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
