"""HTTP API: customers' returns and claims, operators' stock and claim decisions.

Customers (``Authorization: Bearer``): the storefront's token (acting for the customer) or
the customer's own access token from accounts (``jg_auth``). A customer only sees their own
orders; another order answers 404. Operators: ``Authorization: Bearer
<FULFILLMENT_OPERATOR_TOKEN>``.

Errors are JSON ``{"code", "message", "details"?}``; validation errors list per-field details.
A refused return is answered 422 with the reason as ``code`` (the ReturnRejected event, and
so the customer's email, is sent all the same).
"""

import hmac
import json
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

import asyncpg
import structlog
from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    File,
    Form,
    Path,
    Query,
    Request,
    Response,
    Security,
    status,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jg_auth import Customer, Principal
from jg_events import (
    Carrier,
    ClaimKind,
    ClaimOpened,
    ClaimResolution,
    ClaimResolved,
    DeliveryEstimate,
    ItemQuantity,
    Money,
    RefundCause,
    ReturnAccepted,
    ReturnItem,
    ReturnRejected,
)
from jg_web import MultiLine, SafeMultilineText, SafeText, SafeUpload, SingleLine
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fulfillment import domain, operations, repository
from fulfillment.handlers import Context, publish_refund, return_facts

log = structlog.get_logger(__name__)

# Every text field follows jg_web's text rule (no NUL, lone surrogate or control character;
# line breaks only in messages and notes); path and query values are checked by the app's guard.
Sku = Annotated[str, StringConstraints(min_length=1, max_length=64), SingleLine]
_Label = Annotated[str, StringConstraints(min_length=1, max_length=200), SingleLine]
OrderId = Annotated[UUID, Path(description="Order id (from checkout; the Kafka key).")]
SkuPath = Annotated[str, Path(min_length=1, max_length=64, description="Product reference.")]
ClaimId = Annotated[UUID, Path(description="Claim id (from ClaimOpened).")]
PhotoId = Annotated[UUID, Path(description="Photo id (from the claim's photos).")]


# --- Errors ----------------------------------------------------------------------------------


class FieldProblem(BaseModel):
    field: str = Field(description="Dotted path of the field, e.g. 'photos.0' or 'items.1.sku'.")
    code: str = Field(description="Machine code of the problem, e.g. 'not_an_image'.")
    message: str = Field(description="Explanation in French.")


class ErrorBody(BaseModel):
    code: str = Field(description="Machine code, e.g. 'order_not_found'.")
    message: str = Field(description="Readable explanation (French for customer endpoints).")
    details: list[FieldProblem] | None = Field(
        default=None, description="Per-field problems, for validation errors."
    )


class ApiError(Exception):
    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        details: list[FieldProblem] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details
        self.extra = extra or {}


def _error_response(error: ApiError) -> JSONResponse:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = [d.model_dump() for d in error.details]
    body.update(error.extra)
    return JSONResponse(body, status_code=error.status_code)


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return _error_response(exc)

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = [
            FieldProblem(
                field=".".join(str(p) for p in err["loc"] if p not in ("body", "query", "path"))
                or "body",
                code=str(err["type"]),
                message=str(err["msg"]),
            )
            for err in exc.errors()
        ]
        return _error_response(
            ApiError(422, "invalid_request", "La requête contient des erreurs.", details)
        )

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if isinstance(exc.detail, dict) and "code" in exc.detail:
            return JSONResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            {"code": code, "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid bearer token"},
    404: {"model": ErrorBody, "description": "Unknown order (or not this customer's)"},
    422: {"model": ErrorBody, "description": "Invalid request, or refused by the rules"},
}

UNREADABLE: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Body is not readable JSON (not UTF-8)"}
}

ORDER_NOT_FOUND = ApiError(404, "order_not_found", "Commande introuvable.")


# --- Views -----------------------------------------------------------------------------------


class ItemView(BaseModel):
    sku: str = Field(description="Product reference.")
    name: str = Field(description="Product name in French.")
    quantity: int = Field(description="Items ordered.")
    shipped: int = Field(description="Items a carrier picked up.")
    unit_price: Money = Field(description="Unit price paid, TTC.")
    on_sale: bool = Field(description="Bought on sale.")


class ParcelView(BaseModel):
    carrier: str = Field(description="Carrier code, e.g. 'japan_post_ems'.")
    carrier_label: str = Field(description="Carrier name shown to the customer.")
    tracking_number: str = Field(description="Carrier's tracking number.")
    tracking_url: str = Field(description="Public tracking page ('suivre mon colis').")
    items: list[dict[str, Any]] = Field(description="Items in the parcel: [{sku, quantity}].")
    picked_up_at: datetime = Field(description="When the carrier took the parcel (UTC).")
    delivered_at: datetime | None = Field(description="When it was delivered (UTC), if it was.")


class ReturnView(BaseModel):
    return_id: UUID = Field(description="Return id, to write on the parcel.")
    order_id: UUID = Field(description="Order id.")
    status: Literal["accepted", "rejected", "received"] = Field(description="Where it stands.")
    kind: Literal["withdrawal", "goodwill"] | None = Field(
        description="Legal withdrawal (14 days) or goodwill return; null when rejected."
    )
    items: list[dict[str, Any]] = Field(description="Items concerned.")
    send_before: date | None = Field(description="Last day to send the items back.")
    expected_refund: Money | None = Field(description="Refund once received in order, TTC.")
    shipping_refund: Money | None = Field(description="Part of it for the delivery.")
    instructions: str | None = Field(description="How to send the items back (French).")
    rejection_reason: str | None = Field(description="Machine reason when rejected.")
    requested_at: datetime = Field(description="When the customer asked (UTC).")
    received_at: datetime | None = Field(description="When the warehouse received it (UTC).")
    refunded_amount: Money | None = Field(description="Amount refunded on receipt, TTC.")


class ClaimView(BaseModel):
    claim_id: UUID = Field(description="Claim id.")
    order_id: UUID = Field(description="Order id.")
    kind: ClaimKind = Field(description="'missing_item' or 'damaged_item'.")
    status: Literal["open", "resolved"] = Field(description="Open until customer service decides.")
    items: list[dict[str, Any]] = Field(description="Items concerned: [{sku, name, quantity}].")
    message: str | None = Field(description="The customer's description.")
    tracking_number: str | None = Field(description="Tracking number given (missing item).")
    photos: list[dict[str, Any]] = Field(
        description="Photos stored: [{photo_id, content_type, size_bytes, sha256, erased}]."
    )
    opened_at: datetime = Field(description="When the claim was opened (UTC).")
    resolution: ClaimResolution | None = Field(description="'reship', 'refund' or 'rejected'.")
    resolution_message: str | None = Field(description="Customer service's note (French).")
    refund_amount: Money | None = Field(description="Amount refunded, for a refund.")
    resolved_at: datetime | None = Field(description="When it was resolved (UTC).")


class OrderView(BaseModel):
    order_id: UUID = Field(description="Order id.")
    order_number: str = Field(description="Human order number.")
    status: Literal["backordered", "processing", "shipped", "delivered"] = Field(
        description="'backordered' (en cours de réapprovisionnement), 'processing' (en cours "
        "de traitement, with logistics), 'shipped', 'delivered'."
    )
    delivery_estimate: DeliveryEstimate = Field(description="Current delivery window.")
    items: list[ItemView] = Field(description="Products of the order.")
    parcels: list[ParcelView] = Field(description="Parcels and their tracking links.")
    withdrawal_deadline: date | None = Field(
        description="Last day to withdraw (14 days after delivery of the last item)."
    )
    returns: list[ReturnView] = Field(description="Return requests.")
    claims: list[ClaimView] = Field(description="After-sales claims.")


def _return_view(ret: repository.Return) -> ReturnView:
    return ReturnView(
        return_id=ret.return_id,
        order_id=ret.order_id,
        status=ret.status,  # type: ignore[arg-type]
        kind=ret.kind,  # type: ignore[arg-type]
        items=ret.items,
        send_before=ret.send_before,
        expected_refund=ret.expected_refund,
        shipping_refund=ret.shipping_refund,
        instructions=ret.message if ret.status != "rejected" else None,
        rejection_reason=ret.rejection_reason,
        requested_at=ret.requested_at,
        received_at=ret.received_at,
        refunded_amount=ret.refunded_amount,
    )


def _claim_view(claim: repository.Claim) -> ClaimView:
    return ClaimView(
        claim_id=claim.claim_id,
        order_id=claim.order_id,
        kind=ClaimKind(claim.kind),
        status=claim.status,  # type: ignore[arg-type]
        items=claim.items,
        message=claim.message,
        tracking_number=claim.tracking_number,
        photos=claim.photos,
        opened_at=claim.opened_at,
        resolution=ClaimResolution(claim.resolution) if claim.resolution else None,
        resolution_message=claim.resolution_message,
        refund_amount=claim.refund_amount,
        resolved_at=claim.resolved_at,
    )


# --- Authorisation ---------------------------------------------------------------------------


def _may_see(who: Principal, order: repository.Order) -> bool:
    """The storefront acts for any customer; a customer sees their own orders only."""
    if isinstance(who, Customer):
        return order.customer_id is not None and who.customer_id == order.customer_id
    return True


async def _visible_order(
    conn: asyncpg.Connection, order_id: OrderId, who: Principal, *, for_update: bool = False
) -> repository.Order:
    order = await repository.get_order(conn, order_id, for_update=for_update)
    if order is None or not _may_see(who, order):
        raise ORDER_NOT_FOUND
    return order


_operator_bearer = HTTPBearer(
    scheme_name="OperatorBearer",
    auto_error=False,
    description="FULFILLMENT_OPERATOR_TOKEN (warehouse and customer service staff).",
)


def operator_auth(ctx: Context) -> Callable[..., Awaitable[None]]:
    expected = ctx.settings.operator_token.get_secret_value().encode()

    async def operator(
        credentials: HTTPAuthorizationCredentials | None = Security(_operator_bearer),  # noqa: B008
    ) -> None:
        if (
            credentials is None
            or not expected
            or not hmac.compare_digest(credentials.credentials.encode(), expected)
        ):
            raise ApiError(401, "operator_token_required", "A valid operator token is required.")

    return operator


# --- Customer routes -------------------------------------------------------------------------


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


def customer_router(ctx: Context, principal: Callable[..., Awaitable[Principal]]) -> APIRouter:
    router = APIRouter(tags=["customers"], responses=ERRORS)

    @router.get("/orders/{order_id}", summary="An order's fulfillment: status, parcels, returns")
    async def read_order(
        order_id: OrderId, who: Annotated[Principal, Depends(principal)]
    ) -> OrderView:
        async with ctx.runtime.pool.acquire() as conn:
            order = await _visible_order(conn, order_id, who)
            items = await repository.get_items(conn, order_id)
            parcels = await repository.get_parcels(conn, order_id)
            returns = await repository.get_returns(conn, order_id)
            claims = await repository.list_claims(conn, order_id=order_id)
        return OrderView(
            order_id=order.order_id,
            order_number=order.order_number,
            status=order.status,  # type: ignore[arg-type]
            delivery_estimate=order.delivery_estimate,
            items=[
                ItemView(
                    sku=i.sku,
                    name=i.name,
                    quantity=i.quantity,
                    shipped=i.shipped,
                    unit_price=i.unit_price,
                    on_sale=i.on_sale,
                )
                for i in items
            ],
            parcels=[
                ParcelView(
                    carrier=p.carrier,
                    carrier_label=domain.CARRIER_LABELS[Carrier(p.carrier)],
                    tracking_number=p.tracking_number,
                    tracking_url=p.tracking_url,
                    items=p.items,
                    picked_up_at=p.picked_up_at,
                    delivered_at=p.delivered_at,
                )
                for p in parcels
            ],
            withdrawal_deadline=order.withdrawal_deadline,
            returns=[_return_view(r) for r in returns],
            claims=[_claim_view(c) for c in claims],
        )

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
        order_id: OrderId,
        body: ReturnRequest,
        who: Annotated[Principal, Depends(principal)],
    ) -> ReturnView:
        now = ctx.clock()
        return_id = uuid4()
        async with ctx.runtime.messaging.transaction() as uow:
            order = await _visible_order(uow.conn, order_id, who, for_update=True)
            facts = await return_facts(uow, order)
            decision = domain.decide_return(
                facts,
                [(item.sku, item.quantity) for item in body.items],
                items_unused=body.items_unused,
                today=domain.paris_date(now),
                return_id=str(return_id),
                policy=ctx.returns,
            )
            if isinstance(decision, domain.ReturnAcceptance):
                items = [_item_json(line) for line in decision.lines]
                await repository.insert_return(
                    uow.conn,
                    return_id=return_id,
                    order_id=order.order_id,
                    status="accepted",
                    kind=decision.kind.value,
                    items=items,
                    rejection_reason=None,
                    message=decision.instructions,
                    send_before=decision.send_before,
                    expected_refund=decision.expected_refund,
                    shipping_refund=decision.shipping_refund,
                    requested_at=now,
                )
                await uow.publish(
                    ReturnAccepted(
                        order_id=order.order_id,
                        order_number=order.order_number,
                        customer=order.contact,
                        return_id=return_id,
                        items=tuple(
                            ReturnItem(
                                sku=line.sku,
                                name=line.name,
                                quantity=line.quantity,
                                unit_price=line.unit_price,
                            )
                            for line in decision.lines
                        ),
                        instructions=decision.instructions,
                        send_before=decision.send_before,
                        expected_refund=decision.expected_refund,
                    )
                )
            else:
                await repository.insert_return(
                    uow.conn,
                    return_id=return_id,
                    order_id=order.order_id,
                    status="rejected",
                    kind=None,
                    items=[_item_json(line) for line in decision.lines],
                    rejection_reason=decision.reason.value,
                    message=decision.message,
                    send_before=None,
                    expected_refund=None,
                    shipping_refund=None,
                    requested_at=now,
                )
                await uow.publish(
                    ReturnRejected(
                        order_id=order.order_id,
                        order_number=order.order_number,
                        customer=order.contact,
                        return_id=return_id,
                        reason=decision.reason,
                        message=decision.message,
                        items=tuple(
                            ItemQuantity(sku=line.sku, name=line.name, quantity=line.quantity)
                            for line in decision.lines
                        ),
                    )
                )
            saved = await repository.get_return(uow.conn, return_id)
        assert saved is not None
        if isinstance(decision, domain.ReturnRefusal):
            log.info("return_rejected", order_id=str(order_id), reason=decision.reason.value)
            raise ApiError(
                422,
                decision.reason.value,
                decision.message,
                extra={"return_id": str(return_id)},
            )
        log.info("return_accepted", order_id=str(order_id), return_id=str(return_id))
        return _return_view(saved)

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
        who: Annotated[Principal, Depends(principal)],
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
        limits = ctx.settings.photo_limits()
        problems: list[FieldProblem] = []
        wanted = _parse_claim_items(items, problems)
        checked: list[tuple[UUID, str | None, str, bytes]] = []
        if not photos:
            problems.append(
                FieldProblem(
                    field="photos", code="photo_required", message="Au moins une photo est requise."
                )
            )
        if len(photos) > limits.max_count:
            problems.append(
                FieldProblem(
                    field="photos",
                    code="too_many_photos",
                    message=f"Au plus {limits.max_count} photos par réclamation.",
                )
            )
        for index, upload in enumerate(photos[: limits.max_count]):
            data = await upload.read(limits.max_bytes + 1)
            mime, problem = domain.check_photo(data, limits)
            if problem is not None:
                problems.append(
                    FieldProblem(
                        field=f"photos.{index}",
                        code=problem.value,
                        message=PHOTO_MESSAGES[problem].format(
                            name=upload.filename or f"n°{index + 1}",
                            mb=limits.max_bytes // (1024 * 1024),
                        ),
                    )
                )
            else:
                assert mime is not None
                checked.append((uuid4(), (upload.filename or "")[:255] or None, mime, data))
        now = ctx.clock()
        claim_id = uuid4()
        number = domain.normalise_tracking_number(tracking_number) if tracking_number else None
        async with ctx.runtime.messaging.transaction() as uow:
            order = await _visible_order(uow.conn, order_id, who)
            order_items = {i.sku: i for i in await repository.get_items(uow.conn, order_id)}
            parcels = await repository.get_parcels(uow.conn, order_id)
            if order_number.strip().upper() != order.order_number.upper():
                problems.append(
                    FieldProblem(
                        field="order_number",
                        code="order_number_mismatch",
                        message="Le numéro de commande ne correspond pas à cette commande.",
                    )
                )
            if kind is ClaimKind.MISSING_ITEM:
                if not tracking_number:
                    problems.append(
                        FieldProblem(
                            field="tracking_number",
                            code="tracking_number_required",
                            message="Le numéro de suivi du colis est requis pour un article "
                            "manquant.",
                        )
                    )
                elif number not in {p.tracking_number for p in parcels}:
                    problems.append(
                        FieldProblem(
                            field="tracking_number",
                            code="tracking_number_unknown",
                            message="Ce numéro de suivi ne correspond à aucun colis de la "
                            "commande.",
                        )
                    )
            for index, (sku, quantity) in enumerate(wanted):
                item = order_items.get(sku)
                if item is None:
                    problems.append(
                        FieldProblem(
                            field=f"items.{index}.sku",
                            code="not_in_order",
                            message=f"L'article {sku} ne fait pas partie de la commande.",
                        )
                    )
                elif quantity > max(item.shipped, 0):
                    problems.append(
                        FieldProblem(
                            field=f"items.{index}.quantity",
                            code="more_than_shipped",
                            message=f"Seuls {item.shipped} article(s) {sku} ont été expédiés.",
                        )
                    )
            if not parcels:
                raise ApiError(
                    409,
                    "order_not_shipped",
                    "Votre commande n'a pas encore été expédiée : une réclamation pourra être "
                    "ouverte après sa réception.",
                )
            if problems:
                raise ApiError(422, "invalid_claim", "La réclamation est incomplète.", problems)
            claim_items = [
                {"sku": sku, "name": order_items[sku].name, "quantity": quantity}
                for sku, quantity in wanted
            ]
            await repository.insert_claim(
                uow.conn,
                claim_id=claim_id,
                order_id=order_id,
                kind=kind.value,
                items=claim_items,
                message=message.strip() if message and message.strip() else None,
                tracking_number=number,
                opened_at=now,
                photos=checked,
            )
            await uow.publish(
                ClaimOpened(
                    order_id=order.order_id,
                    order_number=order.order_number,
                    customer=order.contact,
                    claim_id=claim_id,
                    kind=kind,
                    items=tuple(ItemQuantity(**item) for item in claim_items),
                    message=message.strip() if message and message.strip() else None,
                    tracking_number=number,
                    photo_count=len(checked),
                )
            )
            claim = await repository.get_claim(uow.conn, claim_id)
        assert claim is not None
        log.info("claim_opened", order_id=str(order_id), claim_id=str(claim_id), kind=kind.value)
        return _claim_view(claim)

    return router


PHOTO_MESSAGES: dict[domain.PhotoProblem, str] = {
    domain.PhotoProblem.NOT_AN_IMAGE: ("Le fichier {name} n'est pas une photo JPEG, PNG ou HEIC."),
    domain.PhotoProblem.TOO_LARGE: "La photo {name} dépasse {mb} Mo.",
    domain.PhotoProblem.EMPTY: "Le fichier {name} est vide.",
}


class _ClaimItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: int = Field(ge=1, le=1000, strict=True)


def _parse_claim_items(raw: str, problems: list[FieldProblem]) -> list[tuple[str, int]]:
    try:
        data = json.loads(raw)
    except ValueError:
        problems.append(
            FieldProblem(
                field="items",
                code="invalid_json",
                message='Liste d\'articles attendue, par exemple [{"sku": "…", "quantity": 1}].',
            )
        )
        return []
    if not isinstance(data, list) or not data or len(data) > 100:
        problems.append(
            FieldProblem(
                field="items",
                code="items_required",
                message="Indiquez au moins un article concerné (100 au plus).",
            )
        )
        return []
    merged: dict[str, int] = {}
    for index, entry in enumerate(data):
        try:
            item = _ClaimItem.model_validate(entry)
        except ValidationError as exc:
            for err in exc.errors():
                problems.append(
                    FieldProblem(
                        field=".".join(["items", str(index), *map(str, err["loc"])]),
                        code=str(err["type"]),
                        message=str(err["msg"]),
                    )
                )
            continue
        merged[item.sku] = merged.get(item.sku, 0) + item.quantity
    return list(merged.items())


def _item_json(line: domain.ReturnLine) -> dict[str, Any]:
    return {
        "sku": line.sku,
        "name": line.name,
        "quantity": line.quantity,
        "unit_price": str(line.unit_price),
        "vat_rate": str(line.vat_rate),
    }


# --- Operator routes -------------------------------------------------------------------------


class StockView(BaseModel):
    sku: str = Field(description="Product reference.")
    name_fr: str = Field(description="French name.")
    name_ja: str | None = Field(description="Japanese name, for the warehouse.")
    name_romaji: str | None = Field(description="Japanese name in romaji.")
    on_hand: int = Field(description="Items in the warehouse.")
    reserved: int = Field(description="Items held for orders not yet shipped.")
    available: int = Field(description="on_hand - reserved; never negative.")
    updated_at: datetime = Field(description="Last change (UTC).")


class StockChange(BaseModel):
    stock: StockView = Field(description="The stock after the change.")
    resumed_orders: list[UUID] = Field(
        description="Backordered orders that proceeded to OrderProcessing thanks to it."
    )


class MissingView(BaseModel):
    sku: str = Field(description="Product reference.")
    quantity: int = Field(description="Items ordered.")
    missing: int = Field(description="Items still waiting for stock.")


class BackorderView(BaseModel):
    order_id: UUID = Field(description="Order id.")
    order_number: str = Field(description="Human order number.")
    released_at: datetime = Field(description="When checkout released the order (UTC).")
    backordered_at: datetime | None = Field(description="When it was backordered (UTC).")
    missing: list[MissingView] = Field(description="Lines waiting for stock.")


class RejectedReportView(BaseModel):
    id: int = Field(description="Sequence number of the refusal.")
    event_id: UUID = Field(description="event_id of the refused report.")
    event_type: str = Field(description="Its type, e.g. 'ParcelPickedUp'.")
    order_id: UUID | None = Field(description="Order it was about, if any.")
    sku: str | None = Field(description="Sku it was about (StockReplenished).")
    reason: str = Field(description="Machine reason, e.g. 'unknown_order'.")
    detail: str = Field(description="Explanation (English, for staff).")
    report: dict[str, Any] = Field(description="The report as received (its envelope).")
    received_at: datetime = Field(description="When it was refused (UTC).")


def _stock_view(product: repository.Product) -> StockView:
    return StockView(
        sku=product.sku,
        name_fr=product.name_fr,
        name_ja=product.name_ja,
        name_romaji=product.name_romaji,
        on_hand=product.on_hand,
        reserved=product.reserved,
        available=product.available,
        updated_at=product.updated_at,
    )


class InventoryCount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_fr: _Label = Field(description="French product name (as in checkout's catalogue).")
    name_ja: _Label | None = Field(
        default=None, description="Japanese name for the warehouse's pick list."
    )
    name_romaji: _Label | None = Field(default=None, description="The Japanese name in romaji.")
    on_hand: int = Field(
        ge=0, le=1_000_000, strict=True, description="Items counted in the warehouse."
    )
    note: Annotated[str, StringConstraints(max_length=500), MultiLine] | None = Field(
        default=None, description="Why (recorded with the stock movement)."
    )


class StockAdjustment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delta: int = Field(
        ge=-1_000_000,
        le=1_000_000,
        strict=True,
        description="Items added (positive) or removed (negative: breakage, loss).",
    )
    note: Annotated[str, StringConstraints(min_length=1, max_length=500), MultiLine] = Field(
        description="Why (recorded with the stock movement)."
    )


class ClaimDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: ClaimResolution = Field(
        description="'reship' (the items are sent again: stock reserved, OrderProcessing to "
        "logistics), 'refund' (RefundRequested) or 'rejected'."
    )
    message: Annotated[str, StringConstraints(min_length=1, max_length=4000), MultiLine] | None = (
        Field(default=None, description="Note to the customer, in French (required when rejected).")
    )
    amount: Money | None = Field(
        default=None,
        description="Refund, TTC, as a string ('19.99'); default: the price paid for the "
        "claimed items. Only for 'refund'.",
    )


def _below_reserved(product: repository.Product, target: int) -> ApiError:
    return ApiError(
        409,
        "stock_below_reserved",
        f"{product.sku}: on hand would be {target}, below the {product.reserved} items reserved "
        "for orders (available stock can never be negative).",
        extra={"reserved": product.reserved, "on_hand": product.on_hand},
    )


def operator_router(ctx: Context) -> APIRouter:
    router = APIRouter(
        prefix="/operator",
        tags=["operators"],
        dependencies=[Depends(operator_auth(ctx))],
        responses={401: ERRORS[401]},
    )

    @router.get("/stock", summary="Stock of every sku")
    async def list_stock() -> list[StockView]:
        async with ctx.runtime.pool.acquire() as conn:
            return [_stock_view(p) for p in await repository.list_products(conn)]

    @router.get("/stock/{sku}", summary="Stock of one sku", responses={404: ERRORS[404]})
    async def read_stock(sku: SkuPath) -> StockView:
        async with ctx.runtime.pool.acquire() as conn:
            product = await repository.get_product(conn, sku)
        if product is None:
            raise ApiError(404, "sku_not_found", f"No stock for sku {sku}.")
        return _stock_view(product)

    @router.put(
        "/stock/{sku}",
        summary="Inventory count: set a sku's labels and items on hand (creates the sku)",
        responses={
            **UNREADABLE,
            409: {"model": ErrorBody, "description": "Below the reserved items"},
        },
    )
    async def count_stock(sku: SkuPath, body: InventoryCount) -> StockChange:
        async with ctx.runtime.messaging.transaction() as uow:
            await repository.upsert_product_labels(
                uow.conn, sku, body.name_fr, body.name_ja, body.name_romaji
            )
            product = (await repository.lock_products(uow.conn, [sku]))[sku]
            delta = body.on_hand - product.on_hand
            if body.on_hand < product.reserved:
                raise _below_reserved(product, body.on_hand)
            resumed: list[UUID] = []
            if delta > 0:
                resumed = await operations.add_stock(
                    uow,
                    {sku: delta},
                    reason="inventory_count",
                    reference="operator",
                    note=body.note,
                    now=ctx.clock(),
                    policy=ctx.estimates,
                )
            elif delta < 0:
                await repository.change_on_hand(
                    uow.conn, sku, delta, reason="inventory_count", note=body.note
                )
            after = await repository.get_product(uow.conn, sku)
        assert after is not None
        log.info("stock_counted", sku=sku, on_hand=after.on_hand, delta=delta)
        return StockChange(stock=_stock_view(after), resumed_orders=resumed)

    @router.post(
        "/stock/{sku}/adjustments",
        summary="Add or remove items on hand",
        responses={
            **UNREADABLE,
            404: ERRORS[404],
            409: {"model": ErrorBody, "description": "Below the reserved items"},
        },
    )
    async def adjust_stock(sku: SkuPath, body: StockAdjustment) -> StockChange:
        if body.delta == 0:
            raise ApiError(
                422,
                "invalid_request",
                "delta must not be 0",
                [FieldProblem(field="delta", code="zero", message="delta must not be 0")],
            )
        async with ctx.runtime.messaging.transaction() as uow:
            locked = await repository.lock_products(uow.conn, [sku])
            if sku not in locked:
                raise ApiError(404, "sku_not_found", f"No stock for sku {sku}.")
            product = locked[sku]
            resumed: list[UUID] = []
            if body.delta > 0:
                resumed = await operations.add_stock(
                    uow,
                    {sku: body.delta},
                    reason="operator_adjustment",
                    reference="operator",
                    note=body.note,
                    now=ctx.clock(),
                    policy=ctx.estimates,
                )
            else:
                if product.on_hand + body.delta < product.reserved:
                    raise _below_reserved(product, product.on_hand + body.delta)
                await repository.change_on_hand(
                    uow.conn, sku, body.delta, reason="operator_adjustment", note=body.note
                )
            after = await repository.get_product(uow.conn, sku)
        assert after is not None
        log.info("stock_adjusted", sku=sku, delta=body.delta, on_hand=after.on_hand)
        return StockChange(stock=_stock_view(after), resumed_orders=resumed)

    @router.get("/backorders", summary="Backordered orders, oldest first, with what they miss")
    async def list_backorders() -> list[BackorderView]:
        async with ctx.runtime.pool.acquire() as conn:
            rows = await repository.backorder_queue(conn)
        return [
            BackorderView(
                order_id=r["order_id"],
                order_number=r["order_number"],
                released_at=r["released_at"],
                backordered_at=r["backordered_at"],
                missing=json.loads(r["missing"]) if r["missing"] else [],
            )
            for r in rows
        ]

    @router.get(
        "/rejected-reports",
        summary="Logistics reports refused (unknown order, out of sequence), newest first",
    )
    async def list_rejected_reports(
        order_id: Annotated[UUID | None, Query(description="Only this order's")] = None,
        limit: Annotated[int, Query(ge=1, le=1000, description="Most reports returned")] = 100,
    ) -> list[RejectedReportView]:
        async with ctx.runtime.pool.acquire() as conn:
            rows = await repository.list_rejected_reports(conn, order_id=order_id, limit=limit)
        return [
            RejectedReportView(
                id=r["id"],
                event_id=r["event_id"],
                event_type=r["event_type"],
                order_id=r["order_id"],
                sku=r["sku"],
                reason=r["reason"],
                detail=r["detail"],
                report=json.loads(r["payload"]),
                received_at=r["received_at"],
            )
            for r in rows
        ]

    @router.get("/claims", summary="Claims, oldest first")
    async def list_claims(
        status: Annotated[
            Literal["open", "resolved"] | None, Query(description="Filter by status")
        ] = None,
    ) -> list[ClaimView]:
        async with ctx.runtime.pool.acquire() as conn:
            return [_claim_view(c) for c in await repository.list_claims(conn, status=status)]

    @router.get("/claims/{claim_id}", summary="One claim", responses={404: ERRORS[404]})
    async def read_claim(claim_id: ClaimId) -> ClaimView:
        async with ctx.runtime.pool.acquire() as conn:
            claim = await repository.get_claim(conn, claim_id)
        if claim is None:
            raise ApiError(404, "claim_not_found", "No such claim.")
        return _claim_view(claim)

    @router.get(
        "/claims/{claim_id}/photos/{photo_id}",
        summary="A claim's photo (the stored bytes)",
        response_class=Response,
        responses={
            200: {"content": {m: {} for m in domain.ACCEPTED_PHOTO_TYPES}},
            404: {"model": ErrorBody, "description": "No such photo (or it was erased)"},
        },
    )
    async def read_photo(claim_id: ClaimId, photo_id: PhotoId) -> Response:
        async with ctx.runtime.pool.acquire() as conn:
            photo = await repository.get_photo(conn, claim_id, photo_id)
        if photo is None:
            raise ApiError(404, "photo_not_found", "No such photo (or it was erased).")
        return Response(
            content=photo.data,
            media_type=photo.content_type,
            headers={"X-Content-Type-Options": "nosniff"},
        )

    @router.post(
        "/claims/{claim_id}/resolution",
        summary="Customer service resolves a claim: reship, refund or reject",
        responses={
            **UNREADABLE,
            404: ERRORS[404],
            409: {"model": ErrorBody, "description": "Already resolved, or no stock to reship"},
        },
    )
    async def resolve_claim(claim_id: ClaimId, body: ClaimDecision) -> ClaimView:
        now = ctx.clock()
        if body.resolution is ClaimResolution.REJECTED and not body.message:
            raise ApiError(
                422,
                "invalid_request",
                "A rejection needs a message to the customer.",
                [FieldProblem(field="message", code="required", message="required to reject")],
            )
        if body.amount is not None and body.resolution is not ClaimResolution.REFUND:
            raise ApiError(
                422,
                "invalid_request",
                "amount is only for a refund.",
                [FieldProblem(field="amount", code="not_allowed", message="only for 'refund'")],
            )
        async with ctx.runtime.messaging.transaction() as uow:
            claim = await repository.get_claim(uow.conn, claim_id, for_update=True)
            if claim is None:
                raise ApiError(404, "claim_not_found", "No such claim.")
            if claim.status != "open":
                raise ApiError(
                    409, "claim_already_resolved", f"Claim already resolved: {claim.resolution}."
                )
            order = await repository.get_order(uow.conn, claim.order_id, for_update=True)
            assert order is not None
            items = {i.sku: i for i in await repository.get_items(uow.conn, order.order_id)}
            claimed = [(c["sku"], int(c["quantity"])) for c in claim.items]
            refund_amount: Decimal | None = None
            if body.resolution is ClaimResolution.REFUND:
                lines = [
                    domain.ReturnLine(
                        sku=sku,
                        name=items[sku].name,
                        quantity=quantity,
                        unit_price=items[sku].unit_price,
                        vat_rate=items[sku].vat_rate,
                    )
                    for sku, quantity in claimed
                ]
                try:
                    parts = domain.claim_refund(lines, body.amount)
                except ValueError as exc:
                    raise ApiError(
                        422,
                        "invalid_request",
                        str(exc),
                        [FieldProblem(field="amount", code="too_large", message=str(exc))],
                    ) from exc
                event = await publish_refund(
                    uow,
                    order,
                    cause=RefundCause.CLAIM,
                    reference_id=claim.claim_id,
                    lines=list(parts),
                    shipping_refund=domain.ZERO,
                )
                refund_amount = event.amount
            elif body.resolution is ClaimResolution.RESHIP:
                await _reship(uow, ctx, order, dict(claimed), now)
            await repository.resolve_claim(
                uow.conn,
                claim.claim_id,
                resolution=body.resolution.value,
                message=body.message,
                refund_amount=refund_amount,
                resolved_at=now,
            )
            await uow.publish(
                ClaimResolved(
                    order_id=order.order_id,
                    order_number=order.order_number,
                    customer=order.contact,
                    claim_id=claim.claim_id,
                    kind=ClaimKind(claim.kind),
                    resolution=body.resolution,
                    items=tuple(ItemQuantity(**item) for item in claim.items),
                    amount=refund_amount,
                    message=body.message,
                )
            )
            resolved = await repository.get_claim(uow.conn, claim.claim_id)
        assert resolved is not None
        log.info("claim_resolved", claim_id=str(claim_id), resolution=body.resolution.value)
        return _claim_view(resolved)

    return router


async def _reship(
    uow: Any, ctx: Context, order: repository.Order, quantities: dict[str, int], now: datetime
) -> None:
    """Send the claimed items again: reserve them and hand them to logistics."""
    products = await repository.lock_products(uow.conn, quantities)
    short = {
        sku: quantity
        for sku, quantity in quantities.items()
        if products.get(sku) is None or products[sku].available < quantity
    }
    if short:
        raise ApiError(
            409,
            "insufficient_stock",
            "Not enough stock to reship: " + ", ".join(f"{s} x{q}" for s, q in short.items()),
        )
    for sku, quantity in sorted(quantities.items()):
        await repository.reserve(uow.conn, sku, quantity)
        await repository.add_item_reservation(uow.conn, order.order_id, sku, quantity)
    await repository.hand_off_items(uow.conn, order.order_id, quantities)
    today = domain.paris_date(now)
    policy = ctx.estimates
    estimate = DeliveryEstimate(
        earliest=domain.add_business_days(today, policy.delivery_min_days),
        latest=domain.add_business_days(today, policy.delivery_max_days),
    )
    await repository.set_order_processing(uow.conn, order.order_id, estimate, now)
    await operations.publish_processing(uow, order, quantities, products, estimate)
