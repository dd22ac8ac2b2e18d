"""What routes receive through ``Depends``: the context ``app.py`` wired, the caller (the
storefront or a logged-in customer, jg_auth's :data:`~jg_auth.Principal`) and the
``Idempotency-Key`` of a new order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, cast
from uuid import UUID

from fastapi import Depends, Header, Path, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jg_auth import Principal
from jg_web.http import ApiError

from checkout.context import Context

# jg_auth's scheme (same name and description): the storefront's token or a customer's.
_bearer = HTTPBearer(
    auto_error=False,
    description="The storefront's static token, or a customer's access token from accounts.",
)


def context(request: Request) -> Context:
    """The service's context, wired once by ``create_app`` (``app.state.context``)."""
    return cast(Context, request.app.state.context)


async def caller(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Security(_bearer),  # noqa: B008
) -> Principal:
    """The storefront (acting for anyone) or a logged-in customer, verified offline by
    jg_auth (accounts' JWKS); else 401."""
    principal = cast(Callable[..., Awaitable[Principal]], request.app.state.principal)
    return await principal(credentials=credentials)


def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Required. Unique per order attempt (e.g. a UUID); a retry reuses it.",
        ),
    ] = None,
) -> str:
    """The header, trimmed: 1 to 255 printable ASCII characters (400 otherwise)."""
    if key is None:
        raise ApiError(
            400,
            "idempotency_key_required",
            "L'en-tête Idempotency-Key est obligatoire pour commander.",
        )
    key = key.strip()
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise ApiError(
            400,
            "invalid_idempotency_key",
            "L'en-tête Idempotency-Key doit comporter 1 à 255 caractères ASCII imprimables.",
        )
    return key


Ctx = Annotated[Context, Depends(context)]
Caller = Annotated[Principal, Depends(caller)]
IdempotencyKey = Annotated[str, Depends(idempotency_key)]
OrderId = Annotated[UUID, Path(description="Order id, as returned by POST /orders.")]
