"""The error answers each route declares in OpenAPI (all as :class:`ErrorBody`)."""

from __future__ import annotations

from typing import Any

from accounts.schemas import ErrorBody

Responses = dict[int | str, dict[str, Any]]

ERRORS: Responses = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        401: "Not authenticated, or the session ended.",
        422: "Invalid input, with per-field details.",
    }.items()
}

_TEXTS = {
    400: "The link is no longer valid.",
    403: "The current password is wrong.",
    404: "Not found (or not yours).",
    409: "The email address already has an account.",
    429: "Too many attempts: wait (Retry-After).",
    503: "Too busy right now (hashing capacity taken): try again after Retry-After.",
}


def errors(*codes: int, body: bool = False) -> Responses:
    """The errors of a route; ``body``: it reads a JSON body (400 when it is not UTF-8)."""
    texts = dict(_TEXTS)
    if body:
        unreadable = "The body is not readable JSON (not UTF-8)."
        texts[400] = f"{texts[400]} Or: {unreadable}" if 400 in codes else unreadable
        codes = (*codes, 400)
    extra: Responses = {c: {"model": ErrorBody, "description": texts[c]} for c in codes}
    return {**ERRORS, **extra}
