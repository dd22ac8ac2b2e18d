"""Checkout's database access: asyncpg and plain SQL; every function takes a connection."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from jg_events import (
    Address,
    CancellationReason,
    CancelledBy,
    CustomerContact,
    DeliveryEstimate,
    OrderLine,
    PaymentMethodType,
    ShippingMethod,
)

from checkout.domain import (
    AuthorizedContent,
    Cancellation,
    CatalogueError,
    NextAction,
    Order,
    Product,
    ProductCategory,
    Refusal,
    ReleaseFailure,
    Status,
    TimelineEntry,
    Tracking,
    stored_totals,
)
from checkout.domain.search import OrderSearch
from checkout.repository.housekeeping import (
    forget_sent_messages as forget_sent_messages,
)
from checkout.repository.housekeeping import (
    mark_erased as mark_erased,
)
from checkout.repository.housekeeping import (
    orders_by_status as orders_by_status,
)
from checkout.repository.housekeeping import (
    orders_of_customer as orders_of_customer,
)
from checkout.repository.housekeeping import (
    releases_overdue as releases_overdue,
)

# The status the release queries select, a constant (the partial index orders_release_due
# matches it only when it is written in the query, not passed as a parameter).
CONFIRMED = Status.CONFIRMED.value

# --- Rows that are not the domain's ---------------------------------------------------------


@dataclass(frozen=True)
class DueOrder:
    """An order whose release is due, and the correlation id its events carry."""

    order_id: UUID
    correlation_id: str


@dataclass(frozen=True)
class IdempotencyRecord:
    """What an ``Idempotency-Key`` of a caller created: the request's digest and the order."""

    request_hash: str
    order_id: UUID


# --- Catalogue -------------------------------------------------------------------------------


def _product(row: asyncpg.Record) -> Product:
    product = Product(
        sku=row["sku"],
        name=row["name"],
        price=row["price"],
        category=ProductCategory(row["category"]),
        on_sale=row["on_sale"],
        active=row["active"],
    )
    if row["vat_rate"] != product.vat_rate:  # the table's CHECK and the domain disagree
        raise CatalogueError(
            f"catalogue entry {product.sku} ({product.category.value}) stores VAT rate "
            f"{row['vat_rate']}, its category's rate is {product.vat_rate}"
        )
    return product


async def products(conn: asyncpg.Connection, skus: Iterable[str]) -> dict[str, Product]:
    rows = await conn.fetch("SELECT * FROM catalogue WHERE sku = ANY($1::text[])", list(skus))
    return {r["sku"]: _product(r) for r in rows}


async def active_products(conn: asyncpg.Connection) -> list[Product]:
    rows = await conn.fetch("SELECT * FROM catalogue WHERE active ORDER BY sku")
    return [_product(r) for r in rows]


# --- Orders ----------------------------------------------------------------------------------


async def next_order_sequence(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT nextval('order_number_seq')"))


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "model_dump"):
        return json.dumps(value.model_dump(mode="json"))
    return json.dumps(value)


def _columns(order: Order) -> dict[str, Any]:
    return {
        "status": order.status.value,
        "revision": order.revision,
        "amount_revision": order.amount_revision,
        "authorized_revision": order.authorized_revision,
        "customer_id": order.customer.customer_id,
        "email": order.customer.email,
        "first_name": order.customer.first_name,
        "last_name": order.customer.last_name,
        "lines": json.dumps([line.model_dump(mode="json") for line in order.lines]),
        "subtotal": order.totals.subtotal,
        "shipping_total": order.totals.shipping,
        "total": order.totals.total,
        "vat": order.totals.vat,
        "shipping_method": _dump(order.shipping_method),
        "shipping_address": _dump(order.shipping_address),
        "billing_address": _dump(order.billing_address),
        "payment_method_type": order.payment_method_type.value,
        "stripe_payment_method_id": order.stripe_payment_method_id,
        "confirmed_at": order.confirmed_at,
        "release_at": order.release_at,
        "released_at": order.released_at,
        "delivery_earliest": order.delivery.earliest if order.delivery else None,
        "delivery_latest": order.delivery.latest if order.delivery else None,
        **_documents(order),
    }


def _documents(order: Order) -> dict[str, str | None]:
    """The order's parts stored as JSON documents (jsonb columns), None when absent."""
    return {
        "next_action": _dump(
            {
                "type": order.next_action.type,
                "url": order.next_action.url,
                "payment_intent_id": order.next_action.payment_intent_id,
                "client_secret": order.next_action.client_secret,
            }
            if order.next_action
            else None
        ),
        "authorized_content": _dump(
            {
                "revision": order.authorized_content.revision,
                "lines": [line.model_dump(mode="json") for line in order.authorized_content.lines],
                "shipping_method": order.authorized_content.shipping_method.model_dump(mode="json"),
            }
            if order.authorized_content
            else None
        ),
        "refusal": _dump(
            {"reason": order.refusal.reason, "at": order.refusal.at.isoformat()}
            if order.refusal
            else None
        ),
        "cancellation": _dump(
            {
                "reason": order.cancellation.reason.value,
                "cancelled_by": order.cancellation.cancelled_by.value,
                "note": order.cancellation.note,
                "at": order.cancellation.at.isoformat(),
            }
            if order.cancellation
            else None
        ),
        "tracking": _dump(
            {
                "carrier": order.tracking.carrier,
                "number": order.tracking.number,
                "url": order.tracking.url,
            }
            if order.tracking
            else None
        ),
    }


_JSONB = {
    "lines",
    "shipping_method",
    "shipping_address",
    "billing_address",
    "next_action",
    "refusal",
    "cancellation",
    "tracking",
    "authorized_content",
}


async def insert_order(conn: asyncpg.Connection, order: Order) -> None:
    columns = {
        "id": order.id,
        "number": order.number,
        "placed_at": order.placed_at,
        "correlation_id": order.correlation_id,
        **_columns(order),
    }
    names = list(columns)
    placeholders = [f"${i}{'::jsonb' if n in _JSONB else ''}" for i, n in enumerate(names, 1)]
    await conn.execute(
        f"INSERT INTO orders ({', '.join(names)}) VALUES ({', '.join(placeholders)})",  # noqa: S608
        *columns.values(),
    )


async def update_order(conn: asyncpg.Connection, order: Order) -> None:
    columns = _columns(order)
    names = list(columns)
    sets = [f"{n} = ${i}{'::jsonb' if n in _JSONB else ''}" for i, n in enumerate(names, 2)]
    await conn.execute(
        f"UPDATE orders SET {', '.join(sets)}, updated_at = now() WHERE id = $1",  # noqa: S608
        order.id,
        *columns.values(),
    )


def _order(row: asyncpg.Record) -> Order:
    delivery = None
    if row["delivery_earliest"] is not None:
        delivery = DeliveryEstimate(
            earliest=row["delivery_earliest"], latest=row["delivery_latest"]
        )
    next_action = _load(row["next_action"])
    refusal = _load(row["refusal"])
    cancellation = _load(row["cancellation"])
    tracking = _load(row["tracking"])
    lines = tuple(OrderLine.model_validate(line) for line in _load(row["lines"]))
    covered = _load(row["authorized_content"])
    return Order(
        id=row["id"],
        number=row["number"],
        status=Status(row["status"]),
        revision=row["revision"],
        amount_revision=row["amount_revision"],
        authorized_revision=row["authorized_revision"],
        customer=CustomerContact(
            customer_id=row["customer_id"],
            email=row["email"],
            first_name=row["first_name"],
            last_name=row["last_name"],
        ),
        lines=lines,
        totals=stored_totals(
            lines,
            subtotal=row["subtotal"],
            shipping=row["shipping_total"],
            total=row["total"],
            vat=row["vat"],
        ),
        shipping_address=Address.model_validate(_load(row["shipping_address"])),
        billing_address=Address.model_validate(_load(row["billing_address"])),
        shipping_method=ShippingMethod.model_validate(_load(row["shipping_method"])),
        payment_method_type=PaymentMethodType(row["payment_method_type"]),
        stripe_payment_method_id=row["stripe_payment_method_id"],
        placed_at=row["placed_at"],
        correlation_id=row["correlation_id"],
        confirmed_at=row["confirmed_at"],
        release_at=row["release_at"],
        released_at=row["released_at"],
        delivery=delivery,
        next_action=NextAction(**next_action) if next_action else None,
        authorized_content=_authorized_content(covered),
        refusal=Refusal(reason=refusal["reason"], at=datetime.fromisoformat(refusal["at"]))
        if refusal
        else None,
        cancellation=_cancellation(cancellation),
        tracking=Tracking(**tracking) if tracking else None,
    )


def _authorized_content(covered: dict[str, Any] | None) -> AuthorizedContent | None:
    if not covered:
        return None
    return AuthorizedContent(
        revision=covered["revision"],
        lines=tuple(OrderLine.model_validate(line) for line in covered["lines"]),
        shipping_method=ShippingMethod.model_validate(covered["shipping_method"]),
    )


def _cancellation(stored: dict[str, Any] | None) -> Cancellation | None:
    if not stored:
        return None
    return Cancellation(
        reason=CancellationReason(stored["reason"]),
        cancelled_by=CancelledBy(stored["cancelled_by"]),
        note=stored["note"],
        at=datetime.fromisoformat(stored["at"]),
    )


def _load(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def get_order(
    conn: asyncpg.Connection, order_id: UUID, *, for_update: bool = False
) -> Order | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT * FROM orders WHERE id = $1{lock}", order_id)  # noqa: S608
    return _order(row) if row else None


async def search_orders(conn: asyncpg.Connection, search: OrderSearch, limit: int) -> list[Order]:
    """Customer service's search (one criterion of ``search``), newest first."""
    rows = await conn.fetch(
        """SELECT * FROM orders WHERE number = $1 OR lower(email) = $2
             OR (first_name || ' ' || last_name) ILIKE $3
           ORDER BY placed_at DESC LIMIT $4""",
        search.number,
        search.email,
        search.name_pattern,
        limit,
    )
    return [_order(row) for row in rows]


async def lock_if_free(conn: asyncpg.Connection, order_id: UUID) -> Order | None:
    """Lock the order unless another transaction holds it (the scheduler never waits)."""
    row = await conn.fetchrow("SELECT * FROM orders WHERE id = $1 FOR UPDATE SKIP LOCKED", order_id)
    return _order(row) if row else None


async def due_for_release(
    conn: asyncpg.Connection, now: datetime, limit: int = 100
) -> list[DueOrder]:
    """Confirmed orders whose window is over and whose current amount is authorised.

    An order whose release failed is left out until its ``release_retry_at``, so it never
    holds up the others.
    """
    rows = await conn.fetch(
        f"""SELECT id, correlation_id FROM orders
           WHERE status = '{CONFIRMED}' AND release_at <= $1
             AND authorized_revision IS NOT NULL AND authorized_revision >= amount_revision
             AND (release_retry_at IS NULL OR release_retry_at <= $1)
           ORDER BY release_at LIMIT $2""",  # noqa: S608  (a constant, not input)
        now,
        limit,
    )
    return [DueOrder(r["id"], r["correlation_id"]) for r in rows]


async def lock_for_release(conn: asyncpg.Connection, order_id: UUID, now: datetime) -> int | None:
    """Lock a confirmed order for the scheduler unless it is held or its retry is not due.

    Returns how many releases of it failed in a row (0 for most orders); None when another
    transaction holds it (the scheduler never waits), it is no longer confirmed, or a failed
    release set a retry time still to come.
    """
    value = await conn.fetchval(
        f"""SELECT release_attempts FROM orders
           WHERE id = $1 AND status = '{CONFIRMED}'
             AND (release_retry_at IS NULL OR release_retry_at <= $2)
           FOR UPDATE SKIP LOCKED""",  # noqa: S608  (a constant, not input)
        order_id,
        now,
    )
    return int(value) if value is not None else None


async def record_release_failure(
    conn: asyncpg.Connection, order_id: UUID, failure: ReleaseFailure, error: str
) -> None:
    """Keep a failed release on the order (for operators) and when to try it again."""
    await conn.execute(
        """UPDATE orders
           SET release_attempts = $2, release_failed_at = $3, release_retry_at = $4,
               release_error = $5
           WHERE id = $1""",
        order_id,
        failure.attempts,
        failure.failed_at,
        failure.retry_at,
        error[:2000],
    )


async def clear_release_failure(conn: asyncpg.Connection, order_id: UUID) -> None:
    """The order is released: forget its earlier failed attempts."""
    await conn.execute(
        """UPDATE orders
           SET release_attempts = 0, release_failed_at = NULL, release_retry_at = NULL,
               release_error = NULL
           WHERE id = $1 AND release_attempts > 0""",
        order_id,
    )


async def add_timeline(
    conn: asyncpg.Connection, order_id: UUID, entries: Sequence[TimelineEntry]
) -> None:
    if not entries:
        return
    await conn.executemany(
        """INSERT INTO order_timeline (order_id, at, kind, label, detail)
           VALUES ($1, $2, $3, $4, $5::jsonb)""",
        [(order_id, e.at, e.kind, e.label, json.dumps(e.detail)) for e in entries],
    )


async def timeline(conn: asyncpg.Connection, order_id: UUID) -> list[TimelineEntry]:
    rows = await conn.fetch(
        "SELECT at, kind, label, detail FROM order_timeline WHERE order_id = $1 ORDER BY at, id",
        order_id,
    )
    return [
        TimelineEntry(at=r["at"], kind=r["kind"], label=r["label"], detail=_load(r["detail"]))
        for r in rows
    ]


# --- Idempotency -----------------------------------------------------------------------------


async def claim_idempotency_key(
    conn: asyncpg.Connection, scope: str, key: str, request_hash: str, order_id: UUID
) -> bool:
    """Record the key for a new order; False when the key is already used.

    A concurrent request with the same key waits here until the first one commits or rolls
    back, so two identical requests never create two orders.
    """
    inserted = await conn.fetchval(
        """INSERT INTO idempotency_keys (scope, key, request_hash, order_id)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true""",
        scope,
        key,
        request_hash,
        order_id,
    )
    return bool(inserted)


async def idempotency_record(
    conn: asyncpg.Connection, scope: str, key: str
) -> IdempotencyRecord | None:
    row = await conn.fetchrow(
        "SELECT request_hash, order_id FROM idempotency_keys WHERE scope = $1 AND key = $2",
        scope,
        key,
    )
    return IdempotencyRecord(row["request_hash"], row["order_id"]) if row else None
