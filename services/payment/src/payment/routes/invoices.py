"""Invoices and credit notes: ``GET /invoices/{number}.pdf`` for their customer and internal
callers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from jg_auth import Principal

from payment.context import Context
from payment.routes.dependencies import context, document_reader
from payment.routes.errors import ErrorBody
from payment.usecases import invoices

INVOICE_NUMBER_PATTERN = r"^[A-Z]{1,4}-\d{4}-\d{6,}$"

router = APIRouter(tags=["invoices"])


@router.get(
    "/invoices/{number}.pdf",
    summary="Download an invoice or credit note (PDF)",
    description="For the customer the invoice belongs to (their access token from "
    "accounts), customer service (a staff token) and internal callers "
    "(`Authorization: Bearer <PAYMENT_INTERNAL_TOKEN>`). "
    "Anyone else gets 404, as for an unknown number. The bytes are those stored when the "
    "document was issued; they never change.",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The PDF"},
        401: {"model": ErrorBody, "description": "No or invalid credentials"},
        404: {"model": ErrorBody, "description": "No such invoice for this caller"},
    },
)
async def invoice_pdf(
    number: Annotated[
        str,
        Path(
            pattern=INVOICE_NUMBER_PATTERN,
            description="Invoice or credit note number, e.g. 'F-2026-000042'.",
        ),
    ],
    who: Annotated[Principal, Depends(document_reader)],
    ctx: Annotated[Context, Depends(context)],
) -> Response:
    invoice, pdf = await invoices.document_pdf(ctx, number, who)
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{invoice.number}.pdf"',
            "Cache-Control": "private, max-age=3600",
        },
    )
