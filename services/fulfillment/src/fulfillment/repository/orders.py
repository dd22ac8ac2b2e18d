"""Released orders, their items and parcels.

Locking rule (no deadlocks between concurrent hand-offs, replenishments and reports): a
transaction locks product rows first, in sku order, then order rows, in queue order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from jg_events import Address, CustomerContact, DeliveryEstimate, OrderLine, ShippingMethod, Totals

from fulfillment.domain import OrderStatus
from fulfillment.repository._sql import dump, model_json


@dataclass(frozen=True)
class Order:
    order_id: UUID
    order_number: str
    customer_id: UUID | None
    contact: CustomerContact
    shipping_address: Address
    shipping_method: ShippingMethod
    totals: Totals
    promised_estimate: DeliveryEstimate
    delivery_estimate: DeliveryEstimate
    status: OrderStatus
    queue_seq: int
    released_at: datetime
    backordered_at: datetime | None
    handed_off_at: datetime | None
    last_delivered_at: datetime | None
    withdrawal_deadline: date | None
    erased_at: datetime | None


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    vat_rate: Decimal
    on_sale: bool
    reserved: int
    handed_off: int
    shipped: int

    @property
    def missing(self) -> int:
        """Items still waiting for stock (for a backordered order)."""
        return self.quantity - self.reserved - self.shipped


_BACKORDERED = OrderStatus.BACKORDERED.value
"""In the SQL text, not a parameter: the backorder queue's partial index matches it."""

_ORDER_COLUMNS = (
    "order_id, order_number, customer_id, contact, shipping_address, shipping_method, totals, "
    "promised_estimate, delivery_estimate, status, queue_seq, released_at, backordered_at, "
    "handed_off_at, last_delivered_at, withdrawal_deadline, erased_at"
)
_ITEM_COLUMNS = "sku, name, quantity, unit_price, vat_rate, on_sale, reserved, handed_off, shipped"


def _order(row: asyncpg.Record) -> Order:
    data = dict(row)
    data["contact"] = CustomerContact.model_validate_json(data["contact"])
    data["shipping_address"] = Address.model_validate_json(data["shipping_address"])
    data["shipping_method"] = ShippingMethod.model_validate_json(data["shipping_method"])
    data["totals"] = Totals.model_validate_json(data["totals"])
    data["promised_estimate"] = DeliveryEstimate.model_validate_json(data["promised_estimate"])
    data["delivery_estimate"] = DeliveryEstimate.model_validate_json(data["delivery_estimate"])
    data["status"] = OrderStatus(data["status"])
    return Order(**data)


async def insert_order(
    conn: asyncpg.Connection,
    *,
    order_id: UUID,
    order_number: str,
    contact: CustomerContact,
    shipping_address: Address,
    shipping_method: ShippingMethod,
    totals: Totals,
    promised: DeliveryEstimate,
    estimate: DeliveryEstimate,
    status: OrderStatus,
    released_at: datetime,
    now: datetime,
) -> bool:
    """Store a released order; False when it is already known (a second release)."""
    inserted = await conn.fetchval(
        """INSERT INTO orders (order_id, order_number, customer_id, contact, shipping_address,
               shipping_method, totals, promised_estimate, delivery_estimate, status,
               released_at, backordered_at, handed_off_at)
           VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb, $9::jsonb,
               $10, $11, CASE WHEN $10 = $13 THEN $12::timestamptz END,
               CASE WHEN $10 = $14 THEN $12::timestamptz END)
           ON CONFLICT (order_id) DO NOTHING RETURNING true""",
        order_id,
        order_number,
        contact.customer_id,
        model_json(contact),
        model_json(shipping_address),
        model_json(shipping_method),
        model_json(totals),
        model_json(promised),
        model_json(estimate),
        status.value,
        released_at,
        now,
        OrderStatus.BACKORDERED.value,
        OrderStatus.PROCESSING.value,
    )
    return bool(inserted)


async def insert_items(
    conn: asyncpg.Connection,
    order_id: UUID,
    lines: Sequence[OrderLine],
    reserved: Mapping[str, int],
    *,
    handed_off: bool,
) -> None:
    await conn.executemany(
        f"""INSERT INTO order_items (order_id, {_ITEM_COLUMNS})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0)""",  # noqa: S608
        [
            (
                order_id,
                line.sku,
                line.name,
                line.quantity,
                line.unit_price,
                line.vat_rate,
                line.on_sale,
                reserved.get(line.sku, 0),
                line.quantity if handed_off else 0,
            )
            for line in lines
        ],
    )


async def get_order(
    conn: asyncpg.Connection, order_id: UUID, *, for_update: bool = False
) -> Order | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_ORDER_COLUMNS} FROM orders WHERE order_id = $1{lock}",  # noqa: S608
        order_id,
    )
    return _order(row) if row else None


async def get_items(conn: asyncpg.Connection, order_id: UUID) -> list[Item]:
    rows = await conn.fetch(
        f"SELECT {_ITEM_COLUMNS} FROM order_items WHERE order_id = $1 ORDER BY sku",  # noqa: S608
        order_id,
    )
    return [Item(**dict(row)) for row in rows]


async def lock_backorders_waiting_on(conn: asyncpg.Connection, skus: Iterable[str]) -> list[UUID]:
    """Backordered orders missing one of ``skus``, oldest first, locked in queue order."""
    rows = await conn.fetch(
        f"""SELECT o.order_id FROM orders o
           WHERE o.status = '{_BACKORDERED}'
             AND EXISTS (SELECT 1 FROM order_items i
                         WHERE i.order_id = o.order_id AND i.sku = ANY($1::text[])
                           AND i.quantity - i.reserved - i.shipped > 0)
           ORDER BY o.queue_seq
           FOR UPDATE""",  # noqa: S608 (a constant: the partial index's predicate)
        sorted(set(skus)),
    )
    return [row["order_id"] for row in rows]


async def add_item_reservation(
    conn: asyncpg.Connection, order_id: UUID, sku: str, quantity: int
) -> None:
    await conn.execute(
        "UPDATE order_items SET reserved = reserved + $3 WHERE order_id = $1 AND sku = $2",
        order_id,
        sku,
        quantity,
    )


async def hand_off_items(
    conn: asyncpg.Connection, order_id: UUID, quantities: Mapping[str, int]
) -> None:
    """Record items sent to logistics (OrderProcessing)."""
    await conn.executemany(
        "UPDATE order_items SET handed_off = handed_off + $3 WHERE order_id = $1 AND sku = $2",
        [(order_id, sku, quantity) for sku, quantity in quantities.items()],
    )


async def set_order_processing(
    conn: asyncpg.Connection, order_id: UUID, estimate: DeliveryEstimate, now: datetime
) -> None:
    await conn.execute(
        """UPDATE orders SET status = $4, delivery_estimate = $2::jsonb,
               handed_off_at = $3, updated_at = $3
           WHERE order_id = $1""",
        order_id,
        model_json(estimate),
        now,
        OrderStatus.PROCESSING.value,
    )


async def set_order_status(
    conn: asyncpg.Connection, order_id: UUID, status: OrderStatus, now: datetime
) -> None:
    await conn.execute(
        "UPDATE orders SET status = $2, updated_at = $3 WHERE order_id = $1",
        order_id,
        status.value,
        now,
    )


async def ship_items(
    conn: asyncpg.Connection, order_id: UUID, quantities: Mapping[str, int]
) -> None:
    await conn.executemany(
        """UPDATE order_items SET shipped = shipped + $3, reserved = reserved - $3
           WHERE order_id = $1 AND sku = $2""",
        [(order_id, sku, quantity) for sku, quantity in quantities.items()],
    )


async def set_delivered(
    conn: asyncpg.Connection, order_id: UUID, delivered_at: datetime, deadline: date, now: datetime
) -> None:
    await conn.execute(
        """UPDATE orders SET status = $5, last_delivered_at = $2,
               withdrawal_deadline = $3, updated_at = $4
           WHERE order_id = $1""",
        order_id,
        delivered_at,
        deadline,
        now,
        OrderStatus.DELIVERED.value,
    )


@dataclass(frozen=True)
class MissingLine:
    sku: str
    quantity: int
    missing: int


@dataclass(frozen=True)
class Backorder:
    """A backordered order in the queue, with the lines still waiting for stock."""

    order_id: UUID
    order_number: str
    queue_seq: int
    released_at: datetime
    backordered_at: datetime | None
    missing: tuple[MissingLine, ...]


async def backorder_queue(conn: asyncpg.Connection) -> list[Backorder]:
    rows = await conn.fetch(
        f"""SELECT o.order_id, o.order_number, o.queue_seq, o.released_at, o.backordered_at,
                  json_agg(json_build_object(
                      'sku', i.sku, 'quantity', i.quantity,
                      'missing', i.quantity - i.reserved - i.shipped) ORDER BY i.sku)
                      FILTER (WHERE i.quantity - i.reserved - i.shipped > 0) AS missing
           FROM orders o JOIN order_items i ON i.order_id = o.order_id
           WHERE o.status = '{_BACKORDERED}'
           GROUP BY o.order_id ORDER BY o.queue_seq"""  # noqa: S608 (the partial index's predicate)
    )
    return [
        Backorder(
            order_id=row["order_id"],
            order_number=row["order_number"],
            queue_seq=row["queue_seq"],
            released_at=row["released_at"],
            backordered_at=row["backordered_at"],
            missing=tuple(
                MissingLine(**line)
                for line in (json.loads(row["missing"]) if row["missing"] else [])
            ),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Parcel:
    tracking_number: str
    carrier: str
    tracking_url: str
    items: list[dict[str, Any]]
    picked_up_at: datetime
    delivered_at: datetime | None


async def get_parcels(conn: asyncpg.Connection, order_id: UUID) -> list[Parcel]:
    rows = await conn.fetch(
        """SELECT tracking_number, carrier, tracking_url, items, picked_up_at, delivered_at
           FROM parcels WHERE order_id = $1 ORDER BY picked_up_at, tracking_number""",
        order_id,
    )
    return [Parcel(**{**dict(row), "items": json.loads(row["items"])}) for row in rows]


async def insert_parcel(
    conn: asyncpg.Connection,
    order_id: UUID,
    *,
    tracking_number: str,
    carrier: str,
    tracking_url: str,
    items: Sequence[Mapping[str, Any]],
    picked_up_at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO parcels (order_id, tracking_number, carrier, tracking_url, items,
               picked_up_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6)""",
        order_id,
        tracking_number,
        carrier,
        tracking_url,
        dump(list(items)),
        picked_up_at,
    )


async def set_parcel_delivered(
    conn: asyncpg.Connection, order_id: UUID, tracking_number: str, delivered_at: datetime
) -> None:
    await conn.execute(
        "UPDATE parcels SET delivered_at = $3 WHERE order_id = $1 AND tracking_number = $2",
        order_id,
        tracking_number,
        delivered_at,
    )


async def backorders_waiting(conn: asyncpg.Connection) -> tuple[int, float | None]:
    """Orders waiting for stock, and the age in seconds of the oldest wait (None: none waits)."""
    row = await conn.fetchrow(
        """SELECT count(*) AS waiting,
                  extract(epoch FROM now() - min(coalesce(backordered_at, released_at)))::float8
                      AS oldest
           FROM orders WHERE status = 'backordered'"""
    )
    assert row is not None
    return int(row["waiting"]), row["oldest"]
