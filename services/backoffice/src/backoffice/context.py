"""What routes, handlers and use cases share: the runtime, the settings, the services' client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from jg_messaging import ServiceRuntime, utcnow

from backoffice.clients import Services
from backoffice.letterbox import Letterbox
from backoffice.settings import BackofficeSettings

__all__ = ["SERVICE", "Context"]

SERVICE = "backoffice"


@dataclass(frozen=True)
class Context:
    """The console's runtime (pool), settings, the services' HTTP client and the clock.

    ``letterbox``: the dead-letter topics (copied into the database; a replay is sent back
    through it), started by the lifespan.
    """

    runtime: ServiceRuntime
    settings: BackofficeSettings
    services: Services
    letterbox: Letterbox
    clock: Callable[[], datetime] = utcnow
