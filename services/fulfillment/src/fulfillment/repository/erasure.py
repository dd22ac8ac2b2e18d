"""GDPR erasure: pseudonymise a customer's orders, erase the free text about them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
from jg_events import CustomerContact
from jg_messaging import outbox

from fulfillment.domain import OrderStatus

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
               shipping_address = CASE WHEN status <> $4 THEN shipping_address
                   ELSE {_ERASED_ADDRESS} END
           WHERE customer_id = $1
              OR ($2::text IS NOT NULL AND customer_id IS NULL
                  AND lower(contact->>'email') = lower($2::text))
           RETURNING order_id, status""",  # noqa: S608 (constant fragments)
        customer_id,
        email,
        now,
        OrderStatus.DELIVERED.value,
    )
    ids = [row["order_id"] for row in rows]
    counts = await _erase_free_text(conn, ids, now)
    return {
        "orders": len(ids),
        "addresses_kept_until_delivery": sum(
            1 for row in rows if row["status"] != OrderStatus.DELIVERED
        ),
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
