"""The typed rows the repository returns (never asyncpg records), and the one UPDATE helper."""

# ruff: noqa: S608

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Self
from uuid import UUID

import asyncpg
from jg_events import CustomerContact

from payment.domain import AttemptStatus, Desired, OrderState, RefundStatus

# --- Rows --------------------------------------------------------------------------------------


class _Row:
    @classmethod
    def of(cls, record: asyncpg.Record | None) -> Self | None:
        if record is None:
            return None
        names = set(getattr(cls, "__dataclass_fields__", {}))  # the subclass's columns
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


async def update_row(
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
