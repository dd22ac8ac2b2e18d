"""Typed rows: what the repository returns (never an asyncpg.Record outside it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from jg_events import Address


def _json(raw: Any) -> Any:
    """A jsonb column as asyncpg returns it (text) parsed; None stays None."""
    return json.loads(raw) if raw is not None else None


@dataclass(frozen=True)
class Account:
    """A customer that is not erased: its personal fields are all there. It may be waiting for
    its erasure (``erasure_requested_at``); a *live* account is not."""

    id: UUID
    customer_number: str
    email: str
    first_name: str
    last_name: str
    billing_address: Address | None
    password_hash: str
    email_verified_at: datetime | None
    erasure_requested_at: datetime | None
    created_at: datetime

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @classmethod
    def of(cls, r: Any) -> Account:
        raw = _json(r["billing_address"])
        return cls(
            id=r["id"],
            customer_number=r["customer_number"],
            email=r["email"],
            first_name=r["first_name"],
            last_name=r["last_name"],
            billing_address=Address.model_validate(raw) if raw is not None else None,
            password_hash=r["password_hash"],
            email_verified_at=r["email_verified_at"],
            erasure_requested_at=r["erasure_requested_at"],
            created_at=r["created_at"],
        )


@dataclass(frozen=True)
class CustomerRecord:
    """Any customer row, erased or not (personal fields None once erased)."""

    id: UUID
    customer_number: str
    email: str | None
    erasure_requested_at: datetime | None
    erased_at: datetime | None

    @classmethod
    def of(cls, r: Any) -> CustomerRecord:
        return cls(
            id=r["id"],
            customer_number=r["customer_number"],
            email=r["email"],
            erasure_requested_at=r["erasure_requested_at"],
            erased_at=r["erased_at"],
        )


@dataclass(frozen=True)
class Session:
    id: UUID
    customer_id: UUID
    expires_at: datetime

    @classmethod
    def of(cls, r: Any) -> Session:
        return cls(id=r["id"], customer_id=r["customer_id"], expires_at=r["expires_at"])


@dataclass(frozen=True)
class Link:
    """A single-use link (reset, email verification): whose it is."""

    customer_id: UUID


@dataclass(frozen=True)
class EmailChange:
    customer_id: UUID
    new_email: str


@dataclass(frozen=True)
class HistoryOrder:
    """One order of "Mes commandes et factures" (content and estimate parsed from jsonb)."""

    order_id: UUID
    order_number: str
    status: str
    placed_at: datetime | None
    revision: int | None
    content: dict[str, Any] | None
    delivery_estimate: dict[str, Any] | None
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    withdrawal_deadline: date | None
    invoice_count: int = 0

    @classmethod
    def of(cls, r: Any) -> HistoryOrder:
        return cls(
            order_id=r["order_id"],
            order_number=r["order_number"],
            status=r["status"],
            placed_at=r["placed_at"],
            revision=r["revision"],
            content=_json(r["content"]),
            delivery_estimate=_json(r["delivery_estimate"]),
            carrier=r["carrier"],
            tracking_number=r["tracking_number"],
            tracking_url=r["tracking_url"],
            shipped_at=r["shipped_at"],
            delivered_at=r["delivered_at"],
            withdrawal_deadline=r["withdrawal_deadline"],
            invoice_count=r.get("invoice_count", 0),
        )


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    step: str
    detail: dict[str, Any] | None

    @classmethod
    def of(cls, r: Any) -> TimelineRow:
        return cls(at=r["at"], step=r["step"], detail=_json(r["detail"]))


@dataclass(frozen=True)
class InvoiceRow:
    invoice_number: str
    kind: Literal["invoice", "credit_note"]
    corrects_invoice_number: str | None
    issue_date: date
    total_incl_vat: Decimal
    download_path: str

    @classmethod
    def of(cls, r: Any) -> InvoiceRow:
        return cls(
            invoice_number=r["invoice_number"],
            kind=r["kind"],
            corrects_invoice_number=r["corrects_invoice_number"],
            issue_date=r["issue_date"],
            total_incl_vat=r["total_incl_vat"],
            download_path=r["download_path"],
        )
