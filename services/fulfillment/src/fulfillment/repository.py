"""Fulfillment's database access: asyncpg, plain SQL. Every function takes a connection.

Locking rule (no deadlocks between concurrent hand-offs, replenishments and reports): a
transaction locks product rows first, in sku order, then order rows, in queue order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from jg_events import (
    Address,
    CustomerContact,
    DeliveryEstimate,
    OrderLine,
    ShippingMethod,
    Totals,
)
from jg_messaging import outbox


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _model_json(model: Any) -> str:
    return str(model.model_dump_json())


# --- Products and stock ----------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    sku: str
    name_fr: str
    name_ja: str | None
    name_romaji: str | None
    on_hand: int
    reserved: int
    updated_at: datetime

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


_PRODUCT_COLUMNS = "sku, name_fr, name_ja, name_romaji, on_hand, reserved, updated_at"


def _product(row: asyncpg.Record) -> Product:
    return Product(**dict(row))


async def ensure_products(conn: asyncpg.Connection, products: Iterable[tuple[str, str]]) -> None:
    """Create (with no stock) the skus an order names that the stock does not know yet."""
    rows = sorted(set(products))
    if rows:
        await conn.executemany(
            "INSERT INTO products (sku, name_fr, on_hand) VALUES ($1, $2, 0) "
            "ON CONFLICT (sku) DO NOTHING",
            rows,
        )


async def lock_products(conn: asyncpg.Connection, skus: Iterable[str]) -> dict[str, Product]:
    """Lock the product rows of ``skus`` (in sku order) for the rest of the transaction."""
    rows = await conn.fetch(
        f"SELECT {_PRODUCT_COLUMNS} FROM products WHERE sku = ANY($1::text[]) "  # noqa: S608
        "ORDER BY sku FOR UPDATE",
        sorted(set(skus)),
    )
    return {row["sku"]: _product(row) for row in rows}


async def get_products(conn: asyncpg.Connection, skus: Iterable[str]) -> dict[str, Product]:
    """Products of ``skus`` without locking them (labels for a pick list)."""
    rows = await conn.fetch(
        f"SELECT {_PRODUCT_COLUMNS} FROM products WHERE sku = ANY($1::text[])",  # noqa: S608
        sorted(set(skus)),
    )
    return {row["sku"]: _product(row) for row in rows}


async def get_product(conn: asyncpg.Connection, sku: str) -> Product | None:
    row = await conn.fetchrow(
        f"SELECT {_PRODUCT_COLUMNS} FROM products WHERE sku = $1",  # noqa: S608
        sku,
    )
    return _product(row) if row else None


async def list_products(conn: asyncpg.Connection) -> list[Product]:
    rows = await conn.fetch(f"SELECT {_PRODUCT_COLUMNS} FROM products ORDER BY sku")  # noqa: S608
    return [_product(row) for row in rows]


async def upsert_product_labels(
    conn: asyncpg.Connection, sku: str, name_fr: str, name_ja: str | None, name_romaji: str | None
) -> None:
    await conn.execute(
        """INSERT INTO products (sku, name_fr, name_ja, name_romaji, on_hand)
           VALUES ($1, $2, $3, $4, 0)
           ON CONFLICT (sku) DO UPDATE
           SET name_fr = $2, name_ja = $3, name_romaji = $4, updated_at = now()""",
        sku,
        name_fr,
        name_ja,
        name_romaji,
    )


async def reserve(conn: asyncpg.Connection, sku: str, quantity: int) -> None:
    """Hold ``quantity`` items; refuses (raises) rather than let available go negative."""
    done = await conn.fetchval(
        """UPDATE products SET reserved = reserved + $2, updated_at = now()
           WHERE sku = $1 AND on_hand - reserved >= $2 RETURNING true""",
        sku,
        quantity,
    )
    if not done:
        raise RuntimeError(f"cannot reserve {quantity} of {sku}: not available")


async def change_on_hand(
    conn: asyncpg.Connection,
    sku: str,
    delta: int,
    *,
    reason: str,
    reference: str | None = None,
    note: str | None = None,
    release_reserved: int = 0,
) -> Product:
    """Add ``delta`` (may be negative) to stock on hand, and record the movement.

    ``release_reserved`` also lowers the reservation (a shipment takes reserved items away).
    The table's checks refuse any change that would make stock negative.
    """
    row = await conn.fetchrow(
        f"""UPDATE products
            SET on_hand = on_hand + $2, reserved = reserved - $3, updated_at = now()
            WHERE sku = $1 RETURNING {_PRODUCT_COLUMNS}""",  # noqa: S608
        sku,
        delta,
        release_reserved,
    )
    if row is None:
        raise KeyError(sku)
    await conn.execute(
        "INSERT INTO stock_movements (sku, on_hand_delta, reason, reference, note) "
        "VALUES ($1, $2, $3, $4, $5)",
        sku,
        delta,
        reason,
        reference,
        note,
    )
    return _product(row)


async def stock_movements(
    conn: asyncpg.Connection, sku: str, limit: int = 50
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT on_hand_delta, reason, reference, note, created_at FROM stock_movements "
            "WHERE sku = $1 ORDER BY id DESC LIMIT $2",
            sku,
            limit,
        )
    )


# --- Orders ----------------------------------------------------------------------------------


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
    status: str
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
    status: str,
    released_at: datetime,
    now: datetime,
) -> bool:
    """Store a released order; False when it is already known (a second release)."""
    inserted = await conn.fetchval(
        """INSERT INTO orders (order_id, order_number, customer_id, contact, shipping_address,
               shipping_method, totals, promised_estimate, delivery_estimate, status,
               released_at, backordered_at, handed_off_at)
           VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb, $9::jsonb,
               $10, $11, CASE WHEN $10 = 'backordered' THEN $12::timestamptz END,
               CASE WHEN $10 = 'processing' THEN $12::timestamptz END)
           ON CONFLICT (order_id) DO NOTHING RETURNING true""",
        order_id,
        order_number,
        contact.customer_id,
        _model_json(contact),
        _model_json(shipping_address),
        _model_json(shipping_method),
        _model_json(totals),
        _model_json(promised),
        _model_json(estimate),
        status,
        released_at,
        now,
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
        """SELECT o.order_id FROM orders o
           WHERE o.status = 'backordered'
             AND EXISTS (SELECT 1 FROM order_items i
                         WHERE i.order_id = o.order_id AND i.sku = ANY($1::text[])
                           AND i.quantity - i.reserved - i.shipped > 0)
           ORDER BY o.queue_seq
           FOR UPDATE""",
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
        """UPDATE orders SET status = 'processing', delivery_estimate = $2::jsonb,
               handed_off_at = $3, updated_at = $3
           WHERE order_id = $1""",
        order_id,
        _model_json(estimate),
        now,
    )


async def set_order_status(
    conn: asyncpg.Connection, order_id: UUID, status: str, now: datetime
) -> None:
    await conn.execute(
        "UPDATE orders SET status = $2, updated_at = $3 WHERE order_id = $1",
        order_id,
        status,
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
        """UPDATE orders SET status = 'delivered', last_delivered_at = $2,
               withdrawal_deadline = $3, updated_at = $4
           WHERE order_id = $1""",
        order_id,
        delivered_at,
        deadline,
        now,
    )


async def backorder_queue(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            """SELECT o.order_id, o.order_number, o.queue_seq, o.released_at, o.backordered_at,
                      json_agg(json_build_object(
                          'sku', i.sku, 'quantity', i.quantity,
                          'missing', i.quantity - i.reserved - i.shipped) ORDER BY i.sku)
                          FILTER (WHERE i.quantity - i.reserved - i.shipped > 0) AS missing
               FROM orders o JOIN order_items i ON i.order_id = o.order_id
               WHERE o.status = 'backordered'
               GROUP BY o.order_id ORDER BY o.queue_seq"""
        )
    )


# --- Parcels ---------------------------------------------------------------------------------


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
        _dump(list(items)),
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


# --- Returns and refunds ---------------------------------------------------------------------


@dataclass(frozen=True)
class Return:
    return_id: UUID
    order_id: UUID
    status: str
    kind: str | None
    items: list[dict[str, Any]]
    rejection_reason: str | None
    message: str | None
    send_before: date | None
    expected_refund: Decimal | None
    shipping_refund: Decimal | None
    requested_at: datetime
    received_at: datetime | None
    received_items: list[dict[str, Any]] | None
    refunded_amount: Decimal | None


_RETURN_COLUMNS = (
    "return_id, order_id, status, kind, items, rejection_reason, message, send_before, "
    "expected_refund, shipping_refund, requested_at, received_at, received_items, "
    "refunded_amount"
)


def _return(row: asyncpg.Record) -> Return:
    data = dict(row)
    data["items"] = json.loads(data["items"])
    if data["received_items"] is not None:
        data["received_items"] = json.loads(data["received_items"])
    return Return(**data)


async def insert_return(
    conn: asyncpg.Connection,
    *,
    return_id: UUID,
    order_id: UUID,
    status: str,
    kind: str | None,
    items: Sequence[Mapping[str, Any]],
    rejection_reason: str | None,
    message: str | None,
    send_before: date | None,
    expected_refund: Decimal | None,
    shipping_refund: Decimal | None,
    requested_at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO returns (return_id, order_id, status, kind, items, rejection_reason,
               message, send_before, expected_refund, shipping_refund, requested_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11)""",
        return_id,
        order_id,
        status,
        kind,
        _dump(list(items)),
        rejection_reason,
        message,
        send_before,
        expected_refund,
        shipping_refund,
        requested_at,
    )


async def get_returns(conn: asyncpg.Connection, order_id: UUID) -> list[Return]:
    rows = await conn.fetch(
        f"SELECT {_RETURN_COLUMNS} FROM returns WHERE order_id = $1 "  # noqa: S608
        "ORDER BY requested_at",
        order_id,
    )
    return [_return(row) for row in rows]


async def get_return(
    conn: asyncpg.Connection, return_id: UUID, *, for_update: bool = False
) -> Return | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_RETURN_COLUMNS} FROM returns WHERE return_id = $1{lock}",  # noqa: S608
        return_id,
    )
    return _return(row) if row else None


async def set_return_received(
    conn: asyncpg.Connection,
    return_id: UUID,
    *,
    received_at: datetime,
    received_items: Sequence[Mapping[str, Any]],
    refunded_amount: Decimal,
) -> None:
    await conn.execute(
        """UPDATE returns SET status = 'received', received_at = $2,
               received_items = $3::jsonb, refunded_amount = $4
           WHERE return_id = $1""",
        return_id,
        received_at,
        _dump(list(received_items)),
        refunded_amount,
    )


async def insert_refund_request(
    conn: asyncpg.Connection,
    *,
    refund_request_id: UUID,
    order_id: UUID,
    cause: str,
    reference_id: UUID,
    lines: Sequence[Mapping[str, Any]],
    shipping_refund: Decimal,
    amount: Decimal,
) -> None:
    await conn.execute(
        """INSERT INTO refund_requests (refund_request_id, order_id, cause, reference_id, lines,
               shipping_refund, amount) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)""",
        refund_request_id,
        order_id,
        cause,
        reference_id,
        _dump(list(lines)),
        shipping_refund,
        amount,
    )


async def refunded_units(conn: asyncpg.Connection, order_id: UUID) -> dict[str, int]:
    """Units refunded so far by received withdrawals/goodwill returns, per sku."""
    rows = await conn.fetch(
        """SELECT line->>'sku' AS sku, sum((line->>'quantity')::int) AS quantity
           FROM refund_requests r, jsonb_array_elements(r.lines) AS line
           WHERE r.order_id = $1 AND r.cause = 'return'
           GROUP BY 1""",
        order_id,
    )
    return {row["sku"]: int(row["quantity"]) for row in rows}


async def shipping_refunded(conn: asyncpg.Connection, order_id: UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM refund_requests WHERE order_id = $1 "
            "AND shipping_refund > 0)",
            order_id,
        )
    )


# --- Claims ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    claim_id: UUID
    order_id: UUID
    kind: str
    status: str
    items: list[dict[str, Any]]
    message: str | None
    tracking_number: str | None
    opened_at: datetime
    resolution: str | None
    resolution_message: str | None
    refund_amount: Decimal | None
    resolved_at: datetime | None
    photos: list[dict[str, Any]]


@dataclass(frozen=True)
class Photo:
    filename: str | None
    content_type: str
    data: bytes


async def insert_claim(
    conn: asyncpg.Connection,
    *,
    claim_id: UUID,
    order_id: UUID,
    kind: str,
    items: Sequence[Mapping[str, Any]],
    message: str | None,
    tracking_number: str | None,
    opened_at: datetime,
    photos: Sequence[tuple[UUID, str | None, str, bytes]],
) -> None:
    await conn.execute(
        """INSERT INTO claims (claim_id, order_id, kind, status, items, message,
               tracking_number, opened_at)
           VALUES ($1, $2, $3, 'open', $4::jsonb, $5, $6, $7)""",
        claim_id,
        order_id,
        kind,
        _dump(list(items)),
        message,
        tracking_number,
        opened_at,
    )
    await conn.executemany(
        """INSERT INTO claim_photos (photo_id, claim_id, position, filename, content_type,
               size_bytes, sha256, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        [
            (
                photo_id,
                claim_id,
                position,
                filename,
                content_type,
                len(data),
                hashlib.sha256(data).hexdigest(),
                data,
            )
            for position, (photo_id, filename, content_type, data) in enumerate(photos)
        ],
    )


_CLAIM_SELECT = """SELECT c.claim_id, c.order_id, c.kind, c.status, c.items, c.message,
        c.tracking_number, c.opened_at, c.resolution, c.resolution_message, c.refund_amount,
        c.resolved_at,
        coalesce((SELECT json_agg(json_build_object(
                     'photo_id', p.photo_id, 'filename', p.filename,
                     'content_type', p.content_type, 'size_bytes', p.size_bytes,
                     'sha256', p.sha256, 'erased', p.data IS NULL) ORDER BY p.position)
                  FROM claim_photos p WHERE p.claim_id = c.claim_id), '[]') AS photos
    FROM claims c"""


def _claim(row: asyncpg.Record) -> Claim:
    data = dict(row)
    data["items"] = json.loads(data["items"])
    data["photos"] = json.loads(data["photos"])
    return Claim(**data)


async def get_claim(
    conn: asyncpg.Connection, claim_id: UUID, *, for_update: bool = False
) -> Claim | None:
    lock = " FOR UPDATE OF c" if for_update else ""
    row = await conn.fetchrow(f"{_CLAIM_SELECT} WHERE c.claim_id = $1{lock}", claim_id)
    return _claim(row) if row else None


async def list_claims(
    conn: asyncpg.Connection, *, status: str | None = None, order_id: UUID | None = None
) -> list[Claim]:
    rows = await conn.fetch(
        f"{_CLAIM_SELECT} WHERE ($1::text IS NULL OR c.status = $1) "
        "AND ($2::uuid IS NULL OR c.order_id = $2) ORDER BY c.opened_at",
        status,
        order_id,
    )
    return [_claim(row) for row in rows]


async def get_photo(conn: asyncpg.Connection, claim_id: UUID, photo_id: UUID) -> Photo | None:
    row = await conn.fetchrow(
        "SELECT filename, content_type, data FROM claim_photos "
        "WHERE claim_id = $1 AND photo_id = $2 AND data IS NOT NULL",
        claim_id,
        photo_id,
    )
    return Photo(**dict(row)) if row else None


async def resolve_claim(
    conn: asyncpg.Connection,
    claim_id: UUID,
    *,
    resolution: str,
    message: str | None,
    refund_amount: Decimal | None,
    resolved_at: datetime,
) -> None:
    await conn.execute(
        """UPDATE claims SET status = 'resolved', resolution = $2, resolution_message = $3,
               refund_amount = $4, resolved_at = $5
           WHERE claim_id = $1""",
        claim_id,
        resolution,
        message,
        refund_amount,
        resolved_at,
    )


# --- Refused logistics reports ---------------------------------------------------------------


async def record_rejected_report(
    conn: asyncpg.Connection,
    *,
    event_id: UUID,
    event_type: str,
    order_id: UUID | None,
    sku: str | None,
    reason: str,
    detail: str,
    payload: str,
) -> None:
    await conn.execute(
        """INSERT INTO rejected_reports (event_id, event_type, order_id, sku, reason, detail,
               payload) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)""",
        event_id,
        event_type,
        order_id,
        sku,
        reason,
        detail,
        payload,
    )


async def list_rejected_reports(
    conn: asyncpg.Connection, *, order_id: UUID | None = None, limit: int = 100
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            """SELECT id, event_id, event_type, order_id, sku, reason, detail, payload,
                      received_at
               FROM rejected_reports WHERE ($1::uuid IS NULL OR order_id = $1)
               ORDER BY id DESC LIMIT $2""",
            order_id,
            limit,
        )
    )


# --- GDPR erasure ----------------------------------------------------------------------------


# The pseudonym left in place of an erased customer's contact (the account's id stays: it
# holds nothing any more).
_PSEUDONYM = """jsonb_build_object(
    'customer_id', customer_id,
    'email', 'efface-' || left(replace(order_id::text, '-', ''), 16) || '@erased.invalid',
    'first_name', 'Client', 'last_name', 'effacé')"""

_ERASED_ADDRESS = """jsonb_build_object(
    'first_name', 'Client', 'last_name', 'effacé', 'line1', 'Adresse effacée',
    'postal_code', '00000', 'city', 'Effacée',
    'country_code', shipping_address->>'country_code')"""


async def erase_customer(
    conn: asyncpg.Connection, customer_id: UUID, email: str | None, *, now: datetime
) -> dict[str, int]:
    """Erase a customer from their orders: the account's, and the guest orders placed with
    ``email`` (given only when the customer proved they own it).

    The contact is pseudonymised; the free text about those orders goes (claim messages and
    customer service's answers, claim photos, the returns' notes, the warehouse's remarks in
    refused reports), and so do the outbox copies of their events. Orders not delivered yet
    keep their shipping address (needed to deliver them: the contract's performance) until
    delivered; see :func:`erase_address_if_erased`. The customer id is remembered, so an order
    of theirs released afterwards (its event was on its way) is stored erased.
    """
    await conn.execute(
        """INSERT INTO fulfillment_erased_customers (customer_id, erased_at) VALUES ($1, $2)
           ON CONFLICT (customer_id) DO NOTHING""",
        customer_id,
        now,
    )
    rows = await conn.fetch(
        f"""UPDATE orders SET contact = {_PSEUDONYM}, erased_at = coalesce(erased_at, $3),
               updated_at = $3,
               shipping_address = CASE WHEN status <> 'delivered' THEN shipping_address
                   ELSE {_ERASED_ADDRESS} END
           WHERE customer_id = $1
              OR ($2::text IS NOT NULL AND customer_id IS NULL
                  AND lower(contact->>'email') = lower($2::text))
           RETURNING order_id, status""",  # noqa: S608 (constant fragments)
        customer_id,
        email,
        now,
    )
    ids = [row["order_id"] for row in rows]
    counts = await _erase_free_text(conn, ids, now)
    return {
        "orders": len(ids),
        "addresses_kept_until_delivery": sum(1 for row in rows if row["status"] != "delivered"),
        **counts,
    }


async def _erase_free_text(
    conn: asyncpg.Connection, ids: list[UUID], now: datetime
) -> dict[str, int]:
    # The outbox copies carry the contact and the address: the relayed ones go now, the
    # others once relayed (an address still needed for delivery goes out with them first).
    await outbox.forget(conn, [str(order_id) for order_id in ids])
    claims = await conn.fetchval(
        """WITH c AS (UPDATE claims SET message = NULL, resolution_message = NULL
                      WHERE order_id = ANY($1::uuid[])
                        AND (message IS NOT NULL OR resolution_message IS NOT NULL)
                      RETURNING claim_id)
           SELECT count(*) FROM c""",
        ids,
    )
    photos = await conn.fetchval(
        """WITH p AS (UPDATE claim_photos SET data = NULL, filename = NULL, erased_at = $2
                      WHERE claim_id IN (SELECT claim_id FROM claims
                                         WHERE order_id = ANY($1::uuid[]))
                        AND data IS NOT NULL
                      RETURNING photo_id)
           SELECT count(*) FROM p""",
        ids,
        now,
    )
    returns = await conn.fetchval(
        """WITH r AS (UPDATE returns SET message = NULL
                      WHERE order_id = ANY($1::uuid[]) AND message IS NOT NULL
                      RETURNING return_id)
           SELECT count(*) FROM r""",
        ids,
    )
    # A refused report is kept for the operators, without the warehouse's free-text remarks.
    reports = await conn.fetchval(
        """WITH r AS (UPDATE rejected_reports SET payload = payload #- '{payload,note}'
                      WHERE order_id = ANY($1::uuid[]) AND payload->'payload' ? 'note'
                      RETURNING id)
           SELECT count(*) FROM r""",
        ids,
    )
    return {
        "claims": int(claims or 0),
        "photos": int(photos or 0),
        "returns": int(returns or 0),
        "reports": int(reports or 0),
    }


async def erase_if_customer_erased(
    conn: asyncpg.Connection, order_id: UUID, now: datetime
) -> CustomerContact | None:
    """An order released after its customer's erasure: its contact is pseudonymised at once
    (the address stays until delivery). Returns the pseudonym, or None if not erased."""
    contact = await conn.fetchval(
        f"""UPDATE orders SET contact = {_PSEUDONYM}, erased_at = $2, updated_at = $2
            WHERE order_id = $1 AND erased_at IS NULL
              AND customer_id IN (SELECT customer_id FROM fulfillment_erased_customers)
            RETURNING contact""",  # noqa: S608 (constant fragments)
        order_id,
        now,
    )
    if contact is None:
        return None
    return CustomerContact.model_validate_json(contact)


async def erase_address_if_erased(conn: asyncpg.Connection, order_id: UUID) -> None:
    """An erased customer's order, now delivered: its address is no longer needed."""
    await conn.execute(
        f"""UPDATE orders SET shipping_address = {_ERASED_ADDRESS}
            WHERE order_id = $1 AND erased_at IS NOT NULL""",  # noqa: S608
        order_id,
    )
