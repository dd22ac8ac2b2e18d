"""Customer service (the operator token): erasure on a customer's request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from accounts.routes.customer import ERASURE_ACCEPTED
from accounts.routes.dependencies import Ctx, operator
from accounts.routes.responses import errors
from accounts.schemas import ErasureAccepted, OperatorErasureRequest
from accounts.usecases import erasure

router = APIRouter()


@router.post(
    "/erasure-requests",
    status_code=202,
    tags=["erasure"],
    summary="Customer service: erase the account of an email + customer number",
    responses=errors(404, body=True),
)
async def erase_for_customer_service(
    body: OperatorErasureRequest, ctx: Ctx, _: Annotated[None, Depends(operator)]
) -> ErasureAccepted:
    number = await erasure.request_erasure_for_customer_service(
        ctx, body.email, body.customer_number
    )
    return ErasureAccepted(message=ERASURE_ACCEPTED, customer_number=number)
