"""What handlers, routes and use cases share: the runtime, the settings and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from jg_messaging import ServiceRuntime

from checkout import domain
from checkout.settings import CheckoutSettings

SERVICE = "checkout"


@dataclass(frozen=True)
class Context:
    """The service's runtime (pool, messaging), its settings and its clock."""

    runtime: ServiceRuntime
    settings: CheckoutSettings
    clock: Callable[[], datetime]

    @property
    def shipping_options(self) -> dict[str, domain.ShippingOption]:
        return self.settings.shipping_options()

    @property
    def limits(self) -> domain.Limits:
        return self.settings.limits()

    @property
    def release_delay(self) -> timedelta:
        """The modification window: from the payment's authorisation to the release."""
        return timedelta(seconds=self.settings.release_delay_seconds)

    @property
    def delivery_days(self) -> tuple[int, int]:
        return (self.settings.delivery_business_days_min, self.settings.delivery_business_days_max)
