"""HTTP routes: Stripe's webhooks and invoice PDFs."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import stripe
import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, Path, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from jg_auth import AuthError, Customer, Principal, Storefront, auth_error_handler
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from payment import repository
from payment.workflow import PaymentWorkflow

log = structlog.get_logger(__name__)

INVOICE_NUMBER_PATTERN = r"^[A-Z]{1,4}-\d{4}-\d{6,}$"


class ApiError(Exception):
    """A 4xx answer with a machine code and a readable message."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message


class ErrorBody(BaseModel):
    code: str = Field(description="Machine-readable error code, e.g. 'invalid_signature'.")
    message: str = Field(description="What went wrong, for a human.")
    details: list[dict[str, Any]] | None = Field(
        default=None, description="Per-field problems of a request that failed validation."
    )


class WebhookReceipt(BaseModel):
    received: bool = Field(description="Always true: the event was verified and accepted.")
    event_id: str = Field(description="Stripe's event id ('evt_...').")
    event_type: str = Field(description="Stripe's event type, e.g. 'payment_intent.succeeded'.")
    outcome: str = Field(
        description="What payment did with it: 'applied', 'no_change', 'duplicate' (this event "
        "id was handled before), 'ignored' (a type payment does not use), 'unknown_intent', "
        "'unknown_refund', 'read_back'."
    )


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse({"code": exc.code, "message": exc.message}, status_code=exc.status_code)

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "message": err.get("msg", "invalid"),
                "type": err.get("type", "invalid"),
            }
            for err in exc.errors()
        ]
        return JSONResponse(
            {"code": "invalid_request", "message": "The request is invalid.", "details": details},
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            {"code": code, "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(AuthError, auth_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error)


# What Stripe posts: an Event (https://docs.stripe.com/api/events/object), read as raw bytes
# for the signature, so documented here rather than by a model.
STRIPE_EVENT_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["id", "type", "data"],
                "properties": {
                    "id": {
                        "type": "string",
                        "minLength": 1,
                        "description": "Stripe's event id, 'evt_...'.",
                    },
                    "object": {"type": "string", "enum": ["event"]},
                    "type": {
                        "type": "string",
                        "description": "The event type; payment_intent.*, charge.refund.*, "
                        "charge.refunded and refund.* are applied, any other is ignored.",
                        "enum": [
                            "payment_intent.amount_capturable_updated",
                            "payment_intent.succeeded",
                            "payment_intent.payment_failed",
                            "payment_intent.canceled",
                            "payment_intent.requires_action",
                            "charge.refunded",
                            "charge.refund.updated",
                            "refund.updated",
                            "refund.failed",
                        ],
                    },
                    "created": {"type": "integer", "description": "Unix time."},
                    "data": {
                        "type": "object",
                        "required": ["object"],
                        "properties": {
                            "object": {
                                "type": "object",
                                "description": "The payment intent, charge or refund.",
                                "properties": {
                                    "id": {"type": "string", "minLength": 1},
                                    "object": {
                                        "type": "string",
                                        "enum": ["payment_intent", "charge", "refund"],
                                    },
                                    "status": {"type": "string"},
                                    "amount": {"type": "integer"},
                                    "payment_intent": {"type": "string"},
                                    "metadata": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string"},
                                    },
                                },
                            }
                        },
                    },
                },
            }
        }
    },
}


def webhooks_router(workflow: PaymentWorkflow) -> APIRouter:
    router = APIRouter(tags=["stripe"])

    @router.post(
        "/webhooks/stripe",
        summary="Stripe webhook endpoint (payment_intent.* and charge.refund.* events)",
        description="Verifies the `Stripe-Signature` header on the raw body with Stripe's SDK "
        "(a missing, forged or stale signature is refused with 400 and never processed), then "
        "applies the event once per Stripe event id.",
        response_model=WebhookReceipt,
        responses={
            400: {"model": ErrorBody, "description": "Bad or stale signature, or not an event"},
            413: {
                "model": ErrorBody,
                "description": "Body larger than PAYMENT_MAX_WEBHOOK_BODY_BYTES",
            },
        },
        openapi_extra={"requestBody": STRIPE_EVENT_BODY},
    )
    async def stripe_webhook(
        request: Request,
        stripe_signature: Annotated[
            str | None,
            Header(
                alias="Stripe-Signature",
                description="Stripe's signature header: 't=<timestamp>,v1=<HMAC-SHA256>'.",
            ),
        ] = None,
    ) -> WebhookReceipt:
        payload = await request.body()  # capped by jg_web's BodyLimit (413), see app.py
        try:
            event = workflow.gateway.verify_webhook(payload, stripe_signature)
        except stripe.SignatureVerificationError as exc:
            log.warning(
                "stripe_webhook_refused",
                reason=str(exc).split("\n")[0],
                has_signature=stripe_signature is not None,
                body_bytes=len(payload),
            )
            raise ApiError(
                400, "invalid_signature", "The Stripe signature is missing, invalid or stale."
            ) from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # e.g. JSON, not an object
            log.warning("stripe_webhook_unreadable", error=repr(exc))
            raise ApiError(400, "invalid_payload", "The body is not a Stripe event.") from exc
        outcome = await workflow.handle_stripe_event(event)
        receipt = WebhookReceipt(
            received=True,
            event_id=str(event.get("id")),
            event_type=str(event.get("type")),
            outcome=outcome,
        )
        log.info(
            "stripe_webhook_handled",
            stripe_event_id=receipt.event_id,
            stripe_event_type=receipt.event_type,
            outcome=outcome,
        )
        return receipt

    return router


def invoices_router(
    workflow: PaymentWorkflow, principal: Callable[..., Awaitable[Principal]]
) -> APIRouter:
    router = APIRouter(tags=["invoices"])

    @router.get(
        "/invoices/{number}.pdf",
        summary="Download an invoice or credit note (PDF)",
        description="For the customer the invoice belongs to (their access token from "
        "accounts) and internal callers (`Authorization: Bearer <PAYMENT_INTERNAL_TOKEN>`). "
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
        who: Annotated[Principal, Depends(principal)],
    ) -> Response:
        async with workflow.pool.acquire() as conn:
            found = await repository.invoice_pdf(conn, number)
        allowed = found is not None and (
            isinstance(who, Storefront)
            or (
                isinstance(who, Customer)
                and found[0].customer_id is not None
                and found[0].customer_id == who.customer_id
            )
        )
        if found is None or not allowed:
            if found is not None:
                log.warning("invoice_access_denied", number=number)
            raise ApiError(404, "invoice_not_found", "Aucune facture ne correspond à ce numéro.")
        invoice, pdf = found
        return Response(
            content=pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="{invoice.number}.pdf"',
                "Cache-Control": "private, max-age=3600",
            },
        )

    return router
