"""Orders as payment records them (a snapshot per revision), and their pseudonymisation."""

# ruff: noqa: S608

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from jg_events.orders import OrderSnapshot
from jg_messaging import outbox

from payment.domain import OrderState, to_cents
from payment.repository.rows import OrderRow

# --- Orders ------------------------------------------------------------------------------------


def _snapshot_json(snapshot: OrderSnapshot) -> str:
    return snapshot.model_dump_json(
        include={
            "lines",
            "totals",
            "shipping_address",
            "billing_address",
            "shipping_method",
            "payment_method_type",
            "revision",
            "placed_at",
        }
    )


async def insert_order(
    conn: asyncpg.Connection, snapshot: OrderSnapshot, stripe_payment_method_id: str
) -> bool:
    """Record a placed order; False if it was already known."""
    inserted = await conn.fetchval(
        """INSERT INTO payment_orders (order_id, order_number, customer_id, customer, revision,
               snapshot, total_cents, payment_method_type, stripe_payment_method_id, placed_at)
           VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7, $8, $9, $10)
           ON CONFLICT (order_id) DO NOTHING RETURNING true""",
        snapshot.order_id,
        snapshot.order_number,
        snapshot.customer.customer_id,
        snapshot.customer.model_dump_json(),
        snapshot.revision,
        _snapshot_json(snapshot),
        to_cents(snapshot.totals.total),
        snapshot.payment_method_type.value,
        stripe_payment_method_id,
        snapshot.placed_at,
    )
    return bool(inserted)


async def update_order_snapshot(conn: asyncpg.Connection, snapshot: OrderSnapshot) -> bool:
    """Keep the newest revision of an order (an older one arriving late changes nothing)."""
    updated = await conn.fetchval(
        """UPDATE payment_orders
           SET revision = $2, total_cents = $4,
               -- an erased order keeps its pseudonym: a late revision brings nothing back
               snapshot = CASE WHEN erased_at IS NULL THEN $3::jsonb
                   ELSE $3::jsonb || jsonb_build_object(
                       'shipping_address', snapshot->'shipping_address',
                       'billing_address', snapshot->'billing_address') END,
               customer = CASE WHEN erased_at IS NULL THEN $5::jsonb ELSE customer END,
               updated_at = now()
           WHERE order_id = $1 AND revision < $2 RETURNING true""",
        snapshot.order_id,
        snapshot.revision,
        _snapshot_json(snapshot),
        to_cents(snapshot.totals.total),
        snapshot.customer.model_dump_json(),
    )
    return bool(updated)


async def get_order(
    conn: asyncpg.Connection, order_id: UUID, *, for_update: bool = False
) -> OrderRow | None:
    lock = " FOR UPDATE" if for_update else ""
    return OrderRow.of(
        await conn.fetchrow(f"SELECT * FROM payment_orders WHERE order_id = $1{lock}", order_id)
    )


async def set_stripe_customer(
    conn: asyncpg.Connection, order_id: UUID, stripe_customer_id: str
) -> None:
    await conn.execute(
        """UPDATE payment_orders SET stripe_customer_id = $2, updated_at = now()
           WHERE order_id = $1""",
        order_id,
        stripe_customer_id,
    )


async def set_order_state(conn: asyncpg.Connection, order_id: UUID, state: OrderState) -> None:
    column = {OrderState.RELEASED: "released_at", OrderState.CANCELLED: "cancelled_at"}[state]
    await conn.execute(
        f"""UPDATE payment_orders SET state = $2, {column} = coalesce({column}, now()),
               updated_at = now()
            WHERE order_id = $1""",
        order_id,
        state.value,
    )


# The pseudonym left in an erased order: no name, no email, no address; the amounts, the lines
# and the customer id (an erased account's, which holds nothing any more) stay.
_PSEUDONYMISE = """
UPDATE payment_orders
SET customer = jsonb_build_object(
        'customer_id', customer_id,
        'email', 'erased-' || left(replace(order_id::text, '-', ''), 16) || '@erased.invalid',
        'first_name', 'Client',
        'last_name', 'supprimé'),
    snapshot = snapshot || jsonb_build_object(
        'shipping_address', $2::jsonb
            || jsonb_build_object('country_code', snapshot->'shipping_address'->'country_code'),
        'billing_address', $2::jsonb
            || jsonb_build_object('country_code', snapshot->'billing_address'->'country_code')),
    erased_at = coalesce(erased_at, now()), updated_at = now()
WHERE order_id = ANY($1::uuid[])
"""

PLACEHOLDER_ADDRESS: dict[str, Any] = {
    "first_name": "Client",
    "last_name": "supprimé",
    "line1": "Adresse supprimée",
    "postal_code": "00000",
    "city": "Supprimée",
}


async def pseudonymise_customer(
    conn: asyncpg.Connection, customer_id: UUID, email: str | None, now: datetime
) -> list[UUID]:
    """Erase a customer from their orders: the account's, and the guest orders placed with
    ``email`` (given only when the customer proved they own it). Returns the orders touched.

    The customer id is remembered, so an order of theirs that arrives later (its event was on
    its way) is stored erased. Invoices are not touched: a legal obligation.
    """
    await conn.execute(
        """INSERT INTO payment_erased_customers (customer_id, erased_at) VALUES ($1, $2)
           ON CONFLICT (customer_id) DO NOTHING""",
        customer_id,
        now,
    )
    rows = await conn.fetch(
        """SELECT order_id FROM payment_orders
           WHERE customer_id = $1
              OR ($2::text IS NOT NULL AND customer_id IS NULL
                  AND lower(customer->>'email') = lower($2::text))
           ORDER BY order_id FOR UPDATE""",
        customer_id,
        email,
    )
    ids = [r["order_id"] for r in rows]
    await conn.execute(_PSEUDONYMISE, ids, json.dumps(PLACEHOLDER_ADDRESS))
    # The outbox copies carry the contact: the relayed ones go now, the others once relayed.
    await outbox.forget(conn, [str(i) for i in ids])
    return ids


async def erase_if_customer_erased(conn: asyncpg.Connection, order_id: UUID) -> bool:
    """An order that arrived after its customer's erasure is erased at once (before payment
    publishes anything about it)."""
    erased = await conn.fetchval(
        """SELECT true FROM payment_orders o JOIN payment_erased_customers e USING (customer_id)
           WHERE o.order_id = $1 AND o.erased_at IS NULL""",
        order_id,
    )
    if erased:
        await conn.execute(_PSEUDONYMISE, [order_id], json.dumps(PLACEHOLDER_ADDRESS))
    return bool(erased)
