"""The error answers each route declares in OpenAPI (all as :class:`ErrorResponse`)."""

from __future__ import annotations

from typing import Any

from checkout.routes.views import ErrorResponse, OrderOut

Responses = dict[int | str, dict[str, Any]]

ERRORS: Responses = {
    401: {"model": ErrorResponse, "description": "Missing or invalid bearer token."},
    404: {"model": ErrorResponse, "description": "No such order (or not yours)."},
    413: {"model": ErrorResponse, "description": "Body larger than the configured limit."},
    415: {"model": ErrorResponse, "description": "Body is not application/json."},
    422: {"model": ErrorResponse, "description": "Invalid request: per-field codes and reasons."},
}
UNREADABLE: Responses = {
    400: {"model": ErrorResponse, "description": "Body is not readable JSON (not UTF-8)."}
}
WINDOW_CLOSED: Responses = {
    409: {
        "model": ErrorResponse,
        "description": "The order can no longer change: order_released, order_cancelled, "
        "payment_refused, payment_pending (PATCH before confirmation) or revision_mismatch.",
    }
}
PLACEMENT: Responses = {
    200: {"model": OrderOut, "description": "Replay: the order created by this key."},
    400: {
        "model": ErrorResponse,
        "description": "Idempotency-Key missing or malformed, or a body that is not "
        "readable JSON (not UTF-8).",
    },
    403: {
        "model": ErrorResponse,
        "description": "A customer's token with another customer's id in the contact.",
    },
    **ERRORS,
}
