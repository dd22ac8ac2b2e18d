"""Wires a service's database, broker, outbox relay and health endpoints (from create_app)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from fastapi import APIRouter, FastAPI, Request, Response, status
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from jg_events import Event, Topic, events_on, topic_message_type, topic_name

from . import metrics
from .consumer import ConsumerHealth, RetryPolicy, create_broker
from .db import create_pool, migrate
from .kafka import client_options, kafka_security
from .relay import OutboxRelay, idempotent_producer
from .settings import ServiceSettings
from .unit_of_work import Messaging

log = structlog.get_logger(__name__)


class ServiceRuntime:
    """Everything with a connection; built by create_app, opened in FastAPI's lifespan."""

    def __init__(self, service: str, settings: ServiceSettings, migrations: Path | None) -> None:
        self.service = service
        self.settings = settings
        self.migrations = migrations
        self.consumers = ConsumerHealth()
        self.broker: KafkaBroker = create_broker(
            settings.platform.kafka_bootstrap_servers,
            service=service,
            topic_prefix=settings.platform.topic_prefix,
            policy=RetryPolicy(attempts=settings.retry_attempts),
            security=kafka_security(settings.platform),
            health=self.consumers,
            probe=self.database_answers,
        )
        self._pool: asyncpg.Pool | None = None
        self._relay: OutboxRelay | None = None
        self.metrics = metrics.MetricsProbes()
        self.metrics.add("outbox", self._outbox_metrics)
        self.metrics.add("consumer_lag", self._consumer_lag)
        self.metrics.add("readiness", self._readiness_metrics)

    def add_metrics_probe(
        self, name: str, probe: metrics.Probe, *, every: float | None = None
    ) -> None:
        """An async function run before a scrape of ``/metrics`` (sets the service's gauges),
        at most once per ``every`` seconds (default: `MetricsProbes.min_interval`)."""
        self.metrics.add(name, probe, every=every)

    async def _outbox_metrics(self) -> None:
        if self._relay is not None:
            outbox = await self._relay.status()
            metrics.set_outbox(outbox.pending, outbox.parked, outbox.oldest_pending_seconds)

    async def _readiness_metrics(self) -> None:
        metrics.set_readiness(await self.readiness())

    async def _consumer_lag(self) -> None:
        await metrics.update_consumer_lag(
            getattr(sub, "consumer", None) for sub in self.broker.subscribers
        )

    def declare_publications(self, *topics: Topic) -> None:
        """Document the topics this service writes (through its outbox) in its AsyncAPI document.

        Publishing itself goes through the outbox relay, not through these FastStream publishers.
        """
        prefix = self.settings.platform.topic_prefix
        for topic in topics:
            events: list[type[Event]] = list(events_on(topic))
            self.broker.publisher(
                topic_name(topic, prefix),
                title=f"{topic_name(topic, prefix)}:publish",
                description=f"{self.service} publishes "
                + ", ".join(e.event_type for e in events)
                + " (through its transactional outbox).",
                schema=topic_message_type(topic),
            )

    def asyncapi(self) -> dict[str, Any]:
        """The AsyncAPI document of the service, generated from its subscribers and publishers."""
        spec = AsyncAPI(
            self.broker,
            title=f"JapanGoodz {self.service}",
            description=f"Events the {self.service} service consumes and publishes.",
        )
        document: dict[str, Any] = spec.to_specification().to_jsonable()
        return document

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the service is not started")
        return self._pool

    @property
    def messaging(self) -> Messaging:
        return Messaging(self.pool, self.service, self.settings.platform.topic_prefix)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ServiceRuntime]:
        """Open the pool, migrate, start the relay and the consumers; close all on exit."""
        self._pool = await create_pool(self.settings.database_url.get_secret_value())
        try:
            async with self._pool.acquire() as conn:
                await migrate(conn, self.migrations, namespace=self.service)
            self._relay = OutboxRelay(
                self._pool,
                functools.partial(  # a factory: the relay replaces a producer whose state broke
                    idempotent_producer,
                    self.settings.platform.kafka_bootstrap_servers,
                    f"{self.service}-outbox",
                    **client_options(self.settings.platform),
                ),
                batch_size=self.settings.outbox_batch_size,
                poll_interval=self.settings.outbox_poll_interval,
                park_after_attempts=self.settings.outbox_park_after_attempts,
            )
            await self._relay.start()
            await self.broker.start()
            log.info("service_started", port=self.settings.http_port)
            yield self
        finally:
            await self.broker.stop()
            if self._relay is not None:
                await self._relay.stop()
            await self._pool.close()
            self._pool = None
            log.info("service_stopped")

    async def database_answers(self) -> bool:
        """True when the service's database answers a ping within two seconds."""
        if self._pool is None:
            return False
        try:
            await asyncio.wait_for(self._pool.fetchval("SELECT 1"), timeout=2.0)
        except Exception:
            return False
        return True

    async def readiness(self) -> dict[str, Any]:
        """Each dependency: "ok" or what is wrong (never an exception's text)."""
        checks: dict[str, Any] = {}
        checks["database"] = "ok" if await self.database_answers() else "unavailable"
        checks["kafka"] = "ok" if await self.broker.ping(timeout=2.0) else "unavailable"
        checks["consumers"] = self.consumers.describe() or "ok"
        if self._relay is not None:  # a detail, not a gate: parked rows do not make it unready
            try:
                outbox = (await self._relay.status()).as_dict()
                if outbox.get("relay_error"):  # the kind of error, not its text (addresses...)
                    outbox["relay_error"] = str(outbox["relay_error"]).split(":", 1)[0]
                checks["outbox"] = outbox
            except Exception as exc:
                checks["outbox"] = {"error": type(exc).__name__}
        return checks


def health_router(runtime: ServiceRuntime) -> APIRouter:
    """Operational routes every service serves: /health, /ready, /metrics and /asyncapi.json.

    ``/metrics`` is Prometheus' text exposition, without authentication: the network policies
    let the monitoring namespace reach the service port, and a request that came through a proxy
    (the ingress controller adds ``X-Forwarded-For``) gets 404, whatever the Ingress routes.
    """
    router = APIRouter(tags=["operations"])

    @router.get("/health", summary="The process is alive")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": runtime.service}

    @router.get("/asyncapi.json", summary="AsyncAPI document of the topics and events")
    async def asyncapi() -> dict[str, Any]:
        return runtime.asyncapi()

    @router.get(
        "/metrics",
        summary="Prometheus metrics (text exposition)",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def prometheus_metrics(request: Request) -> Response:
        if metrics.through_a_proxy(request.headers):  # the ingress controller: not for the public
            return Response(status_code=status.HTTP_404_NOT_FOUND)
        await runtime.metrics.refresh()
        return Response(metrics.render(), media_type=metrics.CONTENT_TYPE_LATEST)

    @router.get("/ready", summary="Kafka and the service's database are reachable")
    async def ready(response: Response) -> dict[str, Any]:
        checks = await runtime.readiness()
        ok = metrics.set_readiness(checks)  # all the strings "ok"; dicts are details
        if not ok:
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "ready" if ok else "not_ready", "checks": checks}

    return router


def lifespan(runtime: ServiceRuntime) -> Any:
    @contextlib.asynccontextmanager
    async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            yield

    return _lifespan
