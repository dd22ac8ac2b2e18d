"""Products and stock: labels, on hand, reserved, and the movements' log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import asyncpg


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
