"""The routes' dependencies: the service's context and the caller (customer or storefront);
operators pass jg_auth's ``staff_or_operator``. ``create_app`` puts the context and the
caller's verifier on app.state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, cast

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jg_auth import Principal

from fulfillment.context import Context

# jg_auth's scheme (same name and description): the storefront's token or a customer's.
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
    """The storefront (acting for any customer) or a logged-in customer; else 401."""
    principal = cast(Callable[..., Awaitable[Principal]], request.app.state.principal)
    return await principal(credentials=credentials)


Ctx = Annotated[Context, Depends(context)]
Caller = Annotated[Principal, Depends(caller)]
