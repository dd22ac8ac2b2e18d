"""Customers' routes: an order's fulfillment, returns (withdrawal) and claims.

``Authorization: Bearer``: the storefront's token (acting for the customer) or the customer's
own access token from accounts (``jg_auth``). A customer only sees their own orders; another
order answers 404. A refused return is answered 422 with the reason as ``code`` (the
ReturnRejected event, and so the customer's email, is sent all the same).
"""

from __future__ import annotations

import json
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, File, Form, Path, status
from jg_events import ClaimKind
from jg_web import SafeMultilineText, SafeText, SafeUpload, SingleLine
from jg_web.http import ApiError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from fulfillment import domain
from fulfillment.routes.dependencies import Caller, Ctx
from fulfillment.routes.errors import ERRORS, UNREADABLE, ErrorBody
from fulfillment.routes.views import ClaimView, OrderView, ReturnView, claim_view, order_view
from fulfillment.routes.views import return_view as _return_view
from fulfillment.usecases import claims, queries, returns

# Every text field follows jg_web's text rule (no NUL, lone surrogate or control character;
# line breaks only in messages and notes); path and query values are checked by the app's guard.
Sku = Annotated[str, StringConstraints(min_length=1, max_length=64), SingleLine]
OrderId = Annotated[UUID, Path(description="Order id (from checkout; the Kafka key).")]

router = APIRouter(tags=["customers"], responses=ERRORS)


class ReturnItemRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku = Field(description="Product reference.")
    quantity: int = Field(ge=1, le=1000, strict=True, description="Number of items to return.")


class ReturnRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ReturnItemRequest] = Field(
        default_factory=list,
        max_length=100,
        description="Items to send back; empty or absent: every item still returnable.",
    )
    items_unused: bool = Field(
        description="The customer confirms the items are unused and in the state received "
        "(required for a return; a damaged item is an after-sales claim instead)."
    )


@router.get("/orders/{order_id}", summary="An order's fulfillment: status, parcels, returns")
async def read_order(order_id: OrderId, ctx: Ctx, who: Caller) -> OrderView:
    return order_view(await queries.read_order(ctx, who, order_id))


@router.post(
    "/orders/{order_id}/returns",
    status_code=status.HTTP_201_CREATED,
    summary="Withdraw from the purchase (return items within 14 days of delivery)",
    description="Accepted: 201, ReturnAccepted (email with the instructions). Refused by "
    "the rules: 422 with the reason as `code` (withdrawal_period_expired, not_delivered, "
    "items_not_in_order, already_returned, item_used_or_damaged, sale_item_excluded) and "
    "a French `message`; ReturnRejected is published too.",
    responses=UNREADABLE,
)
async def request_return(
    order_id: OrderId, body: ReturnRequest, ctx: Ctx, who: Caller
) -> ReturnView:
    outcome = await returns.request_return(
        ctx,
        who,
        order_id,
        [(item.sku, item.quantity) for item in body.items],
        items_unused=body.items_unused,
    )
    if outcome.refusal is not None:
        raise ApiError(
            422,
            outcome.refusal.reason.value,
            outcome.refusal.message,
            extra={"return_id": str(outcome.saved.return_id)},
        )
    return _return_view(outcome.saved)


@router.post(
    "/orders/{order_id}/claims",
    status_code=status.HTTP_201_CREATED,
    summary="Open an after-sales claim: missing or damaged item, with photos",
    description="multipart/form-data. Missing item: order number, tracking number, photo "
    "of the parcel. Damaged item: photo(s), order number. Photos: JPEG, PNG or HEIC "
    "(checked by content), at most FULFILLMENT_CLAIM_PHOTO_MAX_COUNT of at most "
    "FULFILLMENT_CLAIM_PHOTO_MAX_BYTES each; the whole body at most their product plus "
    "64 KiB, counted as it is read (413 `upload_too_large`). At most "
    "FULFILLMENT_UPLOAD_CONCURRENCY uploads are read at once; another waits up to "
    "FULFILLMENT_UPLOAD_WAIT_SECONDS, then 503 `uploads_busy` with Retry-After. "
    "201 and ClaimOpened (acknowledgement email).",
    responses={
        400: {"model": ErrorBody, "description": "Not readable as multipart/form-data"},
        409: {"model": ErrorBody, "description": "The order has not been shipped yet"},
        413: {"model": ErrorBody, "description": "Upload too large"},
        503: {"model": ErrorBody, "description": "Too many uploads at once: retry later"},
    },
)
async def open_claim(
    order_id: OrderId,
    ctx: Ctx,
    who: Caller,
    kind: Annotated[ClaimKind, Form(description="'missing_item' or 'damaged_item'.")],
    order_number: Annotated[
        SafeText,
        Form(min_length=1, max_length=32, description="Order number, e.g. JG-2026-000123."),
    ],
    items: Annotated[
        SafeMultilineText,  # JSON: line breaks between its tokens are fine, its skus are Sku
        Form(
            max_length=10_000,
            description='Items concerned, JSON: [{"sku": "MATCHA-KYOTO-100", "quantity": 1}].',
        ),
    ],
    photos: Annotated[
        list[SafeUpload],
        File(
            description="Photos of the parcel or of the damaged item (file names on one "
            "line, without control characters)."
        ),
    ],
    tracking_number: Annotated[
        SafeText | None,
        Form(max_length=64, description="Tracking number (required for a missing item)."),
    ] = None,
    message: Annotated[
        SafeMultilineText | None,
        Form(max_length=4000, description="What happened, in your words (several lines)."),
    ] = None,
) -> ClaimView:
    problems: list[domain.Problem] = []
    wanted = _parse_claim_items(items, problems)
    limits = ctx.settings.photo_limits()
    read = [
        (upload.filename, await upload.read(limits.max_bytes + 1))
        for upload in photos[: limits.max_count]
    ]
    request = domain.ClaimRequest(kind, order_number, wanted, tracking_number, message)
    form = claims.ClaimForm(request, read, len(photos), problems)
    return claim_view(await claims.open_claim(ctx, who, order_id, form))


class _ClaimItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: int = Field(ge=1, le=1000, strict=True)


def _parse_claim_items(raw: str, problems: list[domain.Problem]) -> list[tuple[str, int]]:
    """The claim's items field (JSON), merged per sku; its problems added to ``problems``."""
    try:
        data = json.loads(raw)
    except ValueError:
        problems.append(
            domain.Problem(
                "items",
                "invalid_json",
                'Liste d\'articles attendue, par exemple [{"sku": "…", "quantity": 1}].',
            )
        )
        return []
    if not isinstance(data, list) or not data or len(data) > 100:
        problems.append(
            domain.Problem(
                "items", "items_required", "Indiquez au moins un article concerné (100 au plus)."
            )
        )
        return []
    merged: dict[str, int] = {}
    for index, entry in enumerate(data):
        try:
            item = _ClaimItem.model_validate(entry)
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(["items", str(index), *map(str, err["loc"])])
                problems.append(domain.Problem(field, str(err["type"]), str(err["msg"])))
            continue
        merged[item.sku] = merged.get(item.sku, 0) + item.quantity
    return list(merged.items())
