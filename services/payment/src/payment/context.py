"""What handlers, routes and use cases share: the runtime, the settings and the Stripe client."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import asyncpg
from jg_messaging import ServiceRuntime, UnitOfWork

from payment.settings import PaymentSettings
from payment.stripe_gateway import StripeGateway

SERVICE = "payment"


class GatewayHolder:
    """Holds the Stripe client, created when the service starts and closed when it stops."""

    def __init__(self) -> None:
        self.gateway: StripeGateway | None = None

    def __call__(self) -> StripeGateway:
        if self.gateway is None:
            raise RuntimeError("the service is not started")
        return self.gateway


@dataclass(frozen=True)
class Context:
    """The service's runtime (pool, messaging), its settings and its Stripe gateway."""

    runtime: ServiceRuntime
    settings: PaymentSettings
    stripe: GatewayHolder = field(default_factory=GatewayHolder)

    @property
    def pool(self) -> asyncpg.Pool:
        return self.runtime.pool

    @property
    def gateway(self) -> StripeGateway:
        return self.stripe()

    def unit_of_work(
        self, conn: asyncpg.Connection, correlation_id: str, causation_id: str | None
    ) -> UnitOfWork:
        """Publish in ``conn``'s transaction under an event's correlation (work not started by
        an incoming event: Stripe's answers, the synchronisation pass)."""
        return UnitOfWork(
            conn=conn,
            topic_prefix=self.settings.platform.topic_prefix,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )

    def local_date(self, moment: datetime) -> date:
        """The shop's calendar day of a moment (invoices' dates)."""
        return moment.astimezone(ZoneInfo(self.settings.timezone)).date()
