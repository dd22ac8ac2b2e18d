"""A consumer process for test_keyed_consumer, killed there with SIGKILL.

``python keyed_worker.py BOOTSTRAP DSN PREFIX STUCK_ORDER_ID...``: applies each ParcelDelivered
once (inbox) into ``effects``, except those of the stuck orders, whose handler never returns.
"""

import asyncio
import sys
from uuid import UUID

import asyncpg
from jg_events import Envelope, ParcelDelivered, Topic
from jg_messaging import Messaging, create_broker, handles, subscribe

SERVICE = "fulfillment"


async def apply(messaging: Messaging, event: Envelope[ParcelDelivered]) -> None:
    async with messaging.handling(event) as uow:
        if uow.already_processed:
            return
        await uow.conn.execute(
            "INSERT INTO effects (event_id, note) VALUES ($1, $2)",
            event.event_id,
            event.payload.tracking_number,
        )


async def main(bootstrap: str, dsn: str, prefix: str, stuck: set[UUID]) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=8)
    messaging = Messaging(pool, SERVICE, prefix)
    broker = create_broker(bootstrap, service=SERVICE, topic_prefix=prefix)
    reports = subscribe(
        broker,
        Topic.LOGISTICS_REPORTS,
        service=SERVICE,
        topic_prefix=prefix,
        concurrency=8,
        session_timeout_ms=6000,
    )

    @reports(filter=handles(ParcelDelivered))
    async def on_parcel_delivered(event: Envelope[ParcelDelivered]) -> None:
        if event.payload.order_id in stuck:
            await asyncio.Event().wait()  # a Stripe call that never answers
        await apply(messaging, event)

    await broker.start()
    print("started", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    bootstrap, dsn, prefix, *stuck = sys.argv[1:]
    asyncio.run(main(bootstrap, dsn, prefix, {UUID(s) for s in stuck}))
