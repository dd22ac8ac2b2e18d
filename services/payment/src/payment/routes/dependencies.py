"""The routes' dependencies: the service's context and the caller (a customer or an internal
caller). ``create_app`` puts the context and the caller's verifier on app.state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jg_auth import AuthError, Principal, StaffGate, Storefront, TokenError

from payment.context import Context

# jg_auth's scheme (same name and description): an internal caller's token or a customer's.
_bearer = HTTPBearer(
    auto_error=False,
    description="The storefront's static token, or a customer's access token from accounts.",
)


def context(request: Request) -> Context:
    return cast(Context, request.app.state.context)


async def caller(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Security(_bearer),  # noqa: B008
) -> Principal:
    """An internal caller (PAYMENT_INTERNAL_TOKEN) or a logged-in customer; else 401."""
    principal = cast(Callable[..., Awaitable[Principal]], request.app.state.principal)
    return await principal(credentials=credentials)


async def document_reader(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Security(_bearer),  # noqa: B008
) -> Principal:
    """The invoice PDF's caller: as :func:`caller`, or a team member's staff token (reads any
    document, like an internal caller)."""
    try:
        return await caller(request, credentials)
    except AuthError:
        if credentials is None or not credentials.credentials:
            raise
        gate = cast(StaffGate, request.app.state.staff_gate)
        try:
            await gate.verifier.verify_staff(credentials.credentials)
        except TokenError:
            raise AuthError("token_wrong_audience") from None
        return Storefront()
