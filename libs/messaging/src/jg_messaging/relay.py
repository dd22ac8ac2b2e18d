"""Outbox relay: publishes committed outbox rows to Kafka, in order per key, then marks them sent.

Several relays may run against one database: rows are claimed with `FOR UPDATE SKIP LOCKED`, so
no row is published by two relays at once, and a row whose key has an earlier pending row held by
another relay waits for it, so one order's events keep their order. The relay wakes on commit
(LISTEN/NOTIFY from the outbox trigger) and polls only as a fallback. A row that fails to publish
stays pending and is retried with backoff; its attempts and last error are recorded.

Delivery is at least once: a relay that dies after publishing but before marking publishes the
row again on restart, and consumers' inboxes absorb the duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer

log = structlog.get_logger(__name__)

CHANNEL = "messaging_outbox"


def idempotent_producer(
    bootstrap_servers: str, client_id: str, **client_options: Any
) -> AIOKafkaProducer:
    """A producer that neither loses nor duplicates on retry, and keeps order per partition.

    `client_options` carry the connection's security (see `jg_messaging.kafka.client_options`).
    """
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        **client_options,
    )


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 200,
        poll_interval: float = 2.0,
        max_backoff: float = 30.0,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._retention = retention
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncpg.Connection | None = None

    async def start(self) -> None:
        await self._producer.start()
        self._listener = await self._pool.acquire()
        await self._listener.add_listener(CHANNEL, self._on_notify)
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.remove_listener(CHANNEL, self._on_notify)
            await self._pool.release(self._listener)
            self._listener = None
        await self._producer.stop()

    def _on_notify(self, *_: Any) -> None:
        self._wake.set()

    async def _run(self) -> None:
        backoff = 0.0
        rounds = 0
        while True:
            self._wake.clear()
            try:
                sent = await self.relay_once()
                backoff = 0.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a broken broker or database must not kill the relay
                backoff = min(self._max_backoff, max(0.2, backoff * 2))
                log.warning("outbox_relay_failed", error=repr(exc), retry_in=backoff)
                await asyncio.sleep(backoff)
                continue
            rounds += 1
            if rounds % 500 == 0:
                await self.purge_sent()
            if sent >= self._batch_size:
                continue  # more is waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval)

    async def relay_once(self) -> int:
        """Publish one batch of pending rows. Returns how many rows were published."""
        attempted: list[int] = []
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch(
                    """SELECT id, topic, message_key, headers, body FROM messaging_outbox
                       WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED""",
                    self._batch_size,
                )
                ready = await self._in_key_order(conn, rows) if rows else []
                if not ready:
                    return 0
                attempted = [r["id"] for r in ready]
                await self._publish(ready)
                await self._mark_sent(conn, attempted)
        except Exception as exc:
            # The claim is rolled back; record the failure once the row locks are released.
            if attempted:
                await self._record_failure(attempted, exc)
            raise
        log.debug("outbox_relayed", count=len(attempted))
        return len(attempted)

    async def _in_key_order(
        self, conn: asyncpg.Connection, rows: list[asyncpg.Record]
    ) -> list[asyncpg.Record]:
        """Drop rows that an earlier pending row of the same key, held elsewhere, must precede."""
        ids = [r["id"] for r in rows]
        keys = list({r["message_key"] for r in rows})
        held = await conn.fetch(
            """SELECT message_key, min(id) AS first_id FROM messaging_outbox
               WHERE sent_at IS NULL AND message_key = ANY($1::text[])
                 AND NOT id = ANY($2::bigint[])
               GROUP BY message_key""",
            keys,
            ids,
        )
        first_held = {r["message_key"]: r["first_id"] for r in held}
        return [r for r in rows if r["id"] < first_held.get(r["message_key"], r["id"] + 1)]

    async def _publish(self, rows: list[asyncpg.Record]) -> None:
        pending = []
        for row in rows:
            headers = [(k, v.encode()) for k, v in json.loads(row["headers"]).items()]
            pending.append(
                await self._producer.send(
                    row["topic"],
                    value=bytes(row["body"]),
                    key=row["message_key"].encode(),
                    headers=headers,
                )
            )
        await asyncio.gather(*pending)

    async def _mark_sent(self, conn: asyncpg.Connection, ids: list[int]) -> None:
        await conn.execute(
            """UPDATE messaging_outbox SET sent_at = now(), attempts = attempts + 1
               WHERE id = ANY($1::bigint[])""",
            ids,
        )

    async def _record_failure(self, ids: list[int], exc: BaseException) -> None:
        with contextlib.suppress(Exception):
            await self._pool.execute(
                """UPDATE messaging_outbox SET attempts = attempts + 1, last_error = $2
                   WHERE id = ANY($1::bigint[])""",
                ids,
                repr(exc)[:2000],
            )

    async def purge_sent(self) -> int:
        """Delete rows sent longer ago than the retention period."""
        status = await self._pool.execute(
            "DELETE FROM messaging_outbox WHERE sent_at < now() - $1::interval",
            self._retention,
        )
        return int(status.split()[-1])

    async def pending_count(self) -> int:
        return int(
            await self._pool.fetchval("SELECT count(*) FROM messaging_outbox WHERE sent_at IS NULL")
        )
