"""The routes' dependencies: the service's context, the caller (customer or storefront) and
the operator check. ``create_app`` puts the context and the caller's verifier on app.state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, cast

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jg_auth import Principal, shared_token_matches
from jg_web.http import ApiError

from fulfillment.context import Context

# jg_auth's scheme (same name and description): the storefront's token or a customer's.
_bearer = HTTPBearer(
    auto_error=False,
    description="The storefront's static token, or a customer's access token from accounts.",
)
_operator_bearer = HTTPBearer(
    scheme_name="OperatorBearer",
    auto_error=False,
    description="FULFILLMENT_OPERATOR_TOKEN (warehouse and customer service staff).",
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


async def operator(
    ctx: Annotated[Context, Depends(context)],
    credentials: HTTPAuthorizationCredentials | None = Security(_operator_bearer),  # noqa: B008
) -> None:
    """Operators only: ``Authorization: Bearer <FULFILLMENT_OPERATOR_TOKEN>``."""
    if not shared_token_matches(credentials, ctx.settings.operator_token):
        raise ApiError(401, "operator_token_required", "A valid operator token is required.")


Ctx = Annotated[Context, Depends(context)]
Caller = Annotated[Principal, Depends(caller)]
