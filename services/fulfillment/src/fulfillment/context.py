"""What handlers, routes and use cases share: the runtime, the policies and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from jg_messaging import ServiceRuntime

from fulfillment import domain
from fulfillment.settings import FulfillmentSettings

SERVICE = "fulfillment"


@dataclass(frozen=True)
class Context:
    """The service's runtime (pool, messaging), its settings and its clock."""

    runtime: ServiceRuntime
    settings: FulfillmentSettings
    clock: Callable[[], datetime]

    @property
    def estimates(self) -> domain.EstimatePolicy:
        return self.settings.estimate_policy()

    @property
    def returns(self) -> domain.ReturnPolicy:
        return self.settings.return_policy()
