"""PostgreSQL access (asyncpg, plain SQL). Every function takes a connection.

Queries are assembled only from constant fragments (a lock clause, a column list), never from
input: every value travels as a bind parameter.
"""

# ruff: noqa: S608

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Self
from uuid import UUID

import asyncpg
from jg_events import CustomerContact
from jg_events.orders import OrderSnapshot
from jg_messaging import outbox

from payment.domain import AttemptStatus, Desired, OrderState, RefundStatus, to_cents

# --- Rows --------------------------------------------------------------------------------------


class _Row:
    @classmethod
    def of(cls, record: asyncpg.Record | None) -> Self | None:
        if record is None:
            return None
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        values = {k: v for k, v in record.items() if k in names}
        for key, value in values.items():
            if isinstance(value, str) and key in cls._json_fields:
                values[key] = json.loads(value)
            elif key in cls._enum_fields:
                values[key] = cls._enum_fields[key](value)
        return cls(**values)

    _json_fields: frozenset[str] = frozenset()
    _enum_fields: dict[str, type[StrEnum]] = {}  # noqa: RUF012  # class-level constant


@dataclass(frozen=True)
class OrderRow(_Row):
    order_id: UUID
    order_number: str
    customer_id: UUID | None
    customer: dict[str, Any]
    revision: int
    snapshot: dict[str, Any]
    total_cents: int
    payment_method_type: str
    stripe_payment_method_id: str
    state: OrderState
    placed_at: datetime
    released_at: datetime | None
    cancelled_at: datetime | None
    erased_at: datetime | None
    stripe_customer_id: str | None = None

    _json_fields = frozenset({"customer", "snapshot"})
    _enum_fields = {"state": OrderState}  # noqa: RUF012  # class-level constant

    @property
    def contact(self) -> CustomerContact:
        return CustomerContact.model_validate(self.customer)


@dataclass(frozen=True)
class AttemptRow(_Row):
    id: UUID
    order_id: UUID
    revision: int
    amount_cents: int
    payment_method_type: str
    stripe_payment_method_id: str
    card_brand: str | None
    card_last4: str | None
    payment_intent_id: str | None
    status: str
    desired: str
    cancel_reason: str | None
    capture_cents: int | None
    captured_cents: int | None
    refusal_reason: str | None
    stripe_error_code: str | None
    stripe_decline_code: str | None
    stripe_message: str | None
    next_action_type: str | None
    next_action_url: str | None
    authorize_sent_at: datetime | None
    lease_until: datetime | None
    last_error: str | None
    stuck: bool
    correlation_id: str
    causation_id: str | None
    created_at: datetime
    updated_at: datetime
    action_required_at: datetime | None = None
    client_secret: str | None = field(default=None, repr=False)  # never logged

    @property
    def state(self) -> AttemptStatus:
        return AttemptStatus(self.status)

    @property
    def wants(self) -> Desired:
        return Desired(self.desired)


@dataclass(frozen=True)
class RefundRow(_Row):
    refund_request_id: UUID
    order_id: UUID
    attempt_id: UUID | None
    payment_intent_id: str | None
    amount_cents: int
    cause: str
    reference_id: UUID
    request: dict[str, Any]
    status: str
    stripe_refund_id: str | None
    problem: str | None
    sent_at: datetime | None
    lease_until: datetime | None
    last_error: str | None
    correlation_id: str
    causation_id: str | None
    created_at: datetime
    updated_at: datetime

    _json_fields = frozenset({"request"})

    @property
    def state(self) -> RefundStatus:
        return RefundStatus(self.status)


@dataclass(frozen=True)
class InvoiceRow(_Row):
    number: str
    sequence: int
    kind: str
    order_id: UUID
    order_number: str
    customer_id: UUID | None
    corrects_invoice_number: str | None
    refund_request_id: UUID | None
    issue_date: date
    issued_at: datetime
    total_excl_vat_cents: int
    total_vat_cents: int
    total_incl_vat_cents: int
    document: dict[str, Any]

    _json_fields = frozenset({"document"})


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


# --- Attempts ----------------------------------------------------------------------------------


async def insert_attempt(
    conn: asyncpg.Connection,
    *,
    attempt_id: UUID,
    order_id: UUID,
    revision: int,
    amount_cents: int,
    payment_method_type: str,
    stripe_payment_method_id: str,
    correlation_id: str,
    causation_id: str | None,
) -> bool:
    inserted = await conn.fetchval(
        """INSERT INTO payment_attempts (id, order_id, revision, amount_cents,
               payment_method_type, stripe_payment_method_id, status, desired, correlation_id,
               causation_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (order_id, revision) DO NOTHING RETURNING true""",
        attempt_id,
        order_id,
        revision,
        amount_cents,
        payment_method_type,
        stripe_payment_method_id,
        AttemptStatus.AUTHORIZING.value,
        Desired.AUTHORIZED.value,
        correlation_id,
        causation_id,
    )
    return bool(inserted)


async def get_attempt(
    conn: asyncpg.Connection, attempt_id: UUID, *, for_update: bool = False
) -> AttemptRow | None:
    lock = " FOR UPDATE" if for_update else ""
    return AttemptRow.of(
        await conn.fetchrow(f"SELECT * FROM payment_attempts WHERE id = $1{lock}", attempt_id)
    )


async def attempt_of_intent(
    conn: asyncpg.Connection, payment_intent_id: str, *, for_update: bool = False
) -> AttemptRow | None:
    lock = " FOR UPDATE" if for_update else ""
    return AttemptRow.of(
        await conn.fetchrow(
            f"SELECT * FROM payment_attempts WHERE payment_intent_id = $1{lock}",
            payment_intent_id,
        )
    )


async def attempt_of_revision(
    conn: asyncpg.Connection, order_id: UUID, revision: int, *, for_update: bool = False
) -> AttemptRow | None:
    lock = " FOR UPDATE" if for_update else ""
    return AttemptRow.of(
        await conn.fetchrow(
            f"SELECT * FROM payment_attempts WHERE order_id = $1 AND revision = $2{lock}",
            order_id,
            revision,
        )
    )


async def attempts_of_order(
    conn: asyncpg.Connection, order_id: UUID, *, for_update: bool = False
) -> list[AttemptRow]:
    lock = " FOR UPDATE" if for_update else ""
    rows = await conn.fetch(
        f"SELECT * FROM payment_attempts WHERE order_id = $1 ORDER BY revision{lock}",
        order_id,
    )
    return [r for r in map(AttemptRow.of, rows) if r is not None]


_ATTEMPT_COLUMNS = frozenset(
    {
        "card_brand",
        "card_last4",
        "payment_intent_id",
        "status",
        "desired",
        "cancel_reason",
        "capture_cents",
        "captured_cents",
        "refusal_reason",
        "stripe_error_code",
        "stripe_decline_code",
        "stripe_message",
        "next_action_type",
        "next_action_url",
        "client_secret",
        "action_required_at",
        "authorize_sent_at",
        "lease_until",
        "last_error",
        "stuck",
        "causation_id",
    }
)


async def update_attempt(conn: asyncpg.Connection, attempt_id: UUID, **values: Any) -> None:
    await _update(conn, "payment_attempts", "id", attempt_id, _ATTEMPT_COLUMNS, values)


async def _update(
    conn: asyncpg.Connection,
    table: str,
    key: str,
    key_value: Any,
    allowed: frozenset[str],
    values: dict[str, Any],
) -> None:
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"not columns of {table}: {sorted(unknown)}")
    names = list(values)
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    await conn.execute(
        f"UPDATE {table} SET {sets}, updated_at = now() WHERE {key} = $1",
        key_value,
        *(values[n] for n in names),
    )


async def claim_attempt(
    conn: asyncpg.Connection, attempt_id: UUID, lease_seconds: float
) -> AttemptRow | None:
    """Lock the attempt and reserve it for a Stripe call (None if another worker holds it)."""
    row = AttemptRow.of(
        await conn.fetchrow(
            """UPDATE payment_attempts
               SET lease_until = clock_timestamp() + make_interval(secs => $2)
               WHERE id = $1 AND (lease_until IS NULL OR lease_until < clock_timestamp())
               RETURNING *""",
            attempt_id,
            lease_seconds,
        )
    )
    return row


async def attempts_to_resume(
    conn: asyncpg.Connection, *, quiet_for: float, limit: int = 100
) -> list[UUID]:
    """Unfinished attempts nobody is working on and untouched for ``quiet_for`` seconds."""
    rows = await conn.fetch(
        """SELECT id FROM payment_attempts
           WHERE (status IN ('authorizing', 'awaiting', 'requires_action', 'capturing',
                             'cancelling')
                  OR (status = 'authorized' AND desired <> 'authorized'))
             AND NOT stuck
             AND (lease_until IS NULL OR lease_until < clock_timestamp())
             AND updated_at < clock_timestamp() - make_interval(secs => $1)
           ORDER BY updated_at LIMIT $2""",
        quiet_for,
        limit,
    )
    return [r["id"] for r in rows]


async def reauthorisations_waiting_since(
    conn: asyncpg.Connection, *, seconds: float, limit: int = 100
) -> list[UUID]:
    """Attempts of a modified order still waiting for 3-D Secure after ``seconds`` while an
    earlier revision's hold of the same order still stands (candidates for expiry)."""
    rows = await conn.fetch(
        """SELECT a.id FROM payment_attempts a
           JOIN payment_orders o ON o.order_id = a.order_id
           WHERE a.status = 'requires_action' AND a.desired = 'authorized'
             AND o.state = 'open'
             AND a.action_required_at < clock_timestamp() - make_interval(secs => $1)
             AND EXISTS (SELECT 1 FROM payment_attempts h
                         WHERE h.order_id = a.order_id AND h.revision < a.revision
                           AND h.status = 'authorized' AND h.desired = 'authorized')
           ORDER BY a.action_required_at LIMIT $2""",
        seconds,
        limit,
    )
    return [r["id"] for r in rows]


# --- Refunds -----------------------------------------------------------------------------------


async def insert_refund(
    conn: asyncpg.Connection,
    *,
    refund_request_id: UUID,
    order_id: UUID,
    attempt_id: UUID | None,
    payment_intent_id: str | None,
    amount_cents: int,
    cause: str,
    reference_id: UUID,
    request_json: str,
    status: RefundStatus,
    problem: str | None,
    correlation_id: str,
    causation_id: str | None,
) -> bool:
    inserted = await conn.fetchval(
        """INSERT INTO payment_refunds (refund_request_id, order_id, attempt_id,
               payment_intent_id, amount_cents, cause, reference_id, request, status, problem,
               correlation_id, causation_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12)
           ON CONFLICT (refund_request_id) DO NOTHING RETURNING true""",
        refund_request_id,
        order_id,
        attempt_id,
        payment_intent_id,
        amount_cents,
        cause,
        reference_id,
        request_json,
        status.value,
        problem,
        correlation_id,
        causation_id,
    )
    return bool(inserted)


async def get_refund(
    conn: asyncpg.Connection, refund_request_id: UUID, *, for_update: bool = False
) -> RefundRow | None:
    lock = " FOR UPDATE" if for_update else ""
    return RefundRow.of(
        await conn.fetchrow(
            f"SELECT * FROM payment_refunds WHERE refund_request_id = $1{lock}",
            refund_request_id,
        )
    )


async def refund_of_stripe_id(
    conn: asyncpg.Connection, stripe_refund_id: str, *, for_update: bool = False
) -> RefundRow | None:
    lock = " FOR UPDATE" if for_update else ""
    return RefundRow.of(
        await conn.fetchrow(
            f"SELECT * FROM payment_refunds WHERE stripe_refund_id = $1{lock}",
            stripe_refund_id,
        )
    )


async def refunds_of_intent(conn: asyncpg.Connection, payment_intent_id: str) -> list[RefundRow]:
    rows = await conn.fetch(
        "SELECT * FROM payment_refunds WHERE payment_intent_id = $1 ORDER BY created_at",
        payment_intent_id,
    )
    return [r for r in map(RefundRow.of, rows) if r is not None]


async def refunded_cents(conn: asyncpg.Connection, attempt_id: UUID) -> int:
    """What was refunded, or is being refunded, from an attempt's capture."""
    value = await conn.fetchval(
        """SELECT coalesce(sum(amount_cents), 0) FROM payment_refunds
           WHERE attempt_id = $1 AND status IN ('requested', 'pending', 'succeeded')""",
        attempt_id,
    )
    return int(value)


_REFUND_COLUMNS = frozenset(
    {
        "status",
        "stripe_refund_id",
        "problem",
        "sent_at",
        "lease_until",
        "last_error",
        "attempt_id",
        "payment_intent_id",
    }
)


async def refunds_awaiting_capture(conn: asyncpg.Connection, order_id: UUID) -> list[RefundRow]:
    """The order's refund requests that arrived before its capture was recorded, oldest first."""
    rows = await conn.fetch(
        """SELECT * FROM payment_refunds WHERE order_id = $1 AND status = 'awaiting_capture'
           ORDER BY created_at FOR UPDATE""",
        order_id,
    )
    return [r for r in map(RefundRow.of, rows) if r is not None]


async def update_refund(conn: asyncpg.Connection, refund_request_id: UUID, **values: Any) -> None:
    await _update(
        conn, "payment_refunds", "refund_request_id", refund_request_id, _REFUND_COLUMNS, values
    )


async def claim_refund(
    conn: asyncpg.Connection, refund_request_id: UUID, lease_seconds: float
) -> RefundRow | None:
    return RefundRow.of(
        await conn.fetchrow(
            """UPDATE payment_refunds
               SET lease_until = clock_timestamp() + make_interval(secs => $2)
               WHERE refund_request_id = $1
                 AND (lease_until IS NULL OR lease_until < clock_timestamp())
               RETURNING *""",
            refund_request_id,
            lease_seconds,
        )
    )


async def refunds_to_resume(
    conn: asyncpg.Connection, *, quiet_for: float, limit: int = 100
) -> list[UUID]:
    rows = await conn.fetch(
        """SELECT refund_request_id FROM payment_refunds
           WHERE status IN ('requested', 'pending')
             AND (lease_until IS NULL OR lease_until < clock_timestamp())
             AND updated_at < clock_timestamp() - make_interval(secs => $1)
           ORDER BY updated_at LIMIT $2""",
        quiet_for,
        limit,
    )
    return [r["refund_request_id"] for r in rows]


# --- Webhook events ----------------------------------------------------------------------------


async def record_webhook_event(
    conn: asyncpg.Connection, event_id: str, event_type: str, object_id: str | None, outcome: str
) -> bool:
    """Remember a Stripe event id; False when it was handled before."""
    inserted = await conn.fetchval(
        """INSERT INTO stripe_webhook_events (event_id, event_type, object_id, outcome)
           VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING RETURNING true""",
        event_id,
        event_type,
        object_id,
        outcome,
    )
    return bool(inserted)


async def set_webhook_outcome(conn: asyncpg.Connection, event_id: str, outcome: str) -> None:
    await conn.execute(
        "UPDATE stripe_webhook_events SET outcome = $2 WHERE event_id = $1", event_id, outcome
    )


# --- Invoices ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewDocument:
    """What the builder returns once it knows its number and date of issue."""

    number: str
    kind: str
    order_id: UUID
    order_number: str
    customer_id: UUID | None
    corrects_invoice_number: str | None
    refund_request_id: UUID | None
    issue_date: date
    total_excl_vat_cents: int
    total_vat_cents: int
    total_incl_vat_cents: int
    document_json: str
    pdf: bytes


DocumentBuilder = Callable[[int, datetime], Awaitable[NewDocument] | NewDocument]


async def issue_document(conn: asyncpg.Connection, build: DocumentBuilder) -> InvoiceRow:
    """Allocate the next number of the series and store the document, in the caller's transaction.

    The series row stays locked until the transaction ends: a concurrent issuer waits, then
    takes the next number; a transaction that fails gives its number back (no gap). The time
    of issue is read after the lock, so numbers and dates go up together.
    """
    if not conn.is_in_transaction():
        raise RuntimeError("a document must be issued inside the transaction that stores it")
    row = await conn.fetchrow(
        """UPDATE invoice_series
           SET last_sequence = last_sequence + 1, last_issued_at = clock_timestamp()
           WHERE series = 'main' RETURNING last_sequence, last_issued_at"""
    )
    assert row is not None
    built = build(row["last_sequence"], row["last_issued_at"])
    new = await built if isinstance(built, Awaitable) else built
    await conn.execute(
        """INSERT INTO invoices (number, sequence, kind, order_id, order_number, customer_id,
               corrects_invoice_number, refund_request_id, issue_date, issued_at,
               total_excl_vat_cents, total_vat_cents, total_incl_vat_cents, document, pdf,
               pdf_sha256)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15, $16)""",
        new.number,
        row["last_sequence"],
        new.kind,
        new.order_id,
        new.order_number,
        new.customer_id,
        new.corrects_invoice_number,
        new.refund_request_id,
        new.issue_date,
        row["last_issued_at"],
        new.total_excl_vat_cents,
        new.total_vat_cents,
        new.total_incl_vat_cents,
        new.document_json,
        new.pdf,
        hashlib.sha256(new.pdf).hexdigest(),
    )
    invoice = await invoice_by_number(conn, new.number)
    assert invoice is not None
    return invoice


_INVOICE_COLUMNS = """number, sequence, kind, order_id, order_number, customer_id,
    corrects_invoice_number, refund_request_id, issue_date, issued_at, total_excl_vat_cents,
    total_vat_cents, total_incl_vat_cents, document"""


async def invoice_by_number(conn: asyncpg.Connection, number: str) -> InvoiceRow | None:
    return InvoiceRow.of(
        await conn.fetchrow(f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE number = $1", number)
    )


async def invoice_of_order(conn: asyncpg.Connection, order_id: UUID) -> InvoiceRow | None:
    return InvoiceRow.of(
        await conn.fetchrow(
            f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE order_id = $1 AND kind = 'invoice'",
            order_id,
        )
    )


async def credit_note_of_refund(
    conn: asyncpg.Connection, refund_request_id: UUID
) -> InvoiceRow | None:
    return InvoiceRow.of(
        await conn.fetchrow(
            f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE refund_request_id = $1",
            refund_request_id,
        )
    )


async def invoice_pdf(conn: asyncpg.Connection, number: str) -> tuple[InvoiceRow, bytes] | None:
    record = await conn.fetchrow(
        f"SELECT {_INVOICE_COLUMNS}, pdf FROM invoices WHERE number = $1",
        number,
    )
    invoice = InvoiceRow.of(record)
    if invoice is None or record is None:
        return None
    return invoice, bytes(record["pdf"])
