"""Customer service (the console): an order's payment events and documents. Staff tokens from
accounts (agent or manager) or PAYMENT_OPERATOR_TOKEN; customers' tokens are refused."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path
from jg_auth import Operator, staff_or_operator
from pydantic import BaseModel, Field

from payment.context import Context
from payment.domain.money import from_cents
from payment.routes.dependencies import context
from payment.routes.errors import ErrorBody
from payment.usecases import history

router = APIRouter(prefix="/operator", tags=["customer service"])


class PaymentEventOut(BaseModel):
    at: datetime = Field(description="When (UTC; see the README for how it is rebuilt).")
    kind: str = Field(
        description="authorised, authentication_required, authorising, refused, captured, "
        "released, refunded, refund_pending, refund_failed, refund_rejected."
    )
    amount: Decimal | None = Field(description="Euros, two decimals.")
    detail: str | None = Field(description="Card, reason, or the refund's cause or problem.")


class DocumentOut(BaseModel):
    number: str = Field(description="Invoice or credit note number.")
    kind: Literal["invoice", "credit_note"] = Field(description="Invoice or credit note.")
    amount: Decimal = Field(description="Total including VAT, euros.")
    issued_at: datetime = Field(description="When it was issued (UTC).")
    pdf_path: str = Field(description="GET it with the same token (PDF).")


class OrderPaymentsOut(BaseModel):
    events: list[PaymentEventOut] = Field(description="Oldest first.")
    documents: list[DocumentOut] = Field(description="In the order of issue.")


@router.get(
    "/orders/{order_id}/payments",
    summary="An order's payment events and its invoices and credit notes",
    responses={
        401: {"model": ErrorBody, "description": "No staff or operator token"},
        403: {"model": ErrorBody, "description": "A staff role below the route's"},
    },
)
async def order_payments(
    order_id: Annotated[UUID, Path(description="Order id (from checkout).")],
    ctx: Annotated[Context, Depends(context)],
    _: Annotated[Operator, Depends(staff_or_operator("agent"))],
) -> OrderPaymentsOut:
    found = await history.order_payments(ctx, order_id)
    return OrderPaymentsOut(
        events=[
            PaymentEventOut(
                at=e.at,
                kind=e.kind,
                amount=from_cents(e.amount_cents) if e.amount_cents is not None else None,
                detail=e.detail,
            )
            for e in found.events
        ],
        documents=[
            DocumentOut(
                number=d.number,
                kind="credit_note" if d.kind == "credit_note" else "invoice",
                amount=from_cents(d.total_incl_vat_cents),
                issued_at=d.issued_at,
                pdf_path=f"/invoices/{d.number}.pdf",
            )
            for d in found.documents
        ],
    )
