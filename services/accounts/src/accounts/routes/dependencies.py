"""What routes receive through ``Depends``: the context ``app.py`` wired, the caller (a
customer's open session, or customer service), and the client's address."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Annotated, cast

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jg_auth import AuthError, CustomerClaims, shared_token_matches

from accounts import domain
from accounts.context import Context
from accounts.settings import AccountsSettings
from accounts.usecases import sessions

customer_bearer = HTTPBearer(
    scheme_name="CustomerBearer",
    auto_error=False,
    description="The access token from POST /login (or sign-up, reset, refresh).",
)
operator_bearer = HTTPBearer(
    scheme_name="OperatorBearer",
    auto_error=False,
    description="Customer service's token (ACCOUNTS_OPERATOR_TOKEN).",
)


def context(request: Request) -> Context:
    """The service's context, wired once by ``create_app`` (``app.state.accounts``)."""
    return cast(Context, request.app.state.accounts)


Ctx = Annotated[Context, Depends(context)]


def settings(ctx: Ctx) -> AccountsSettings:
    return ctx.settings


Settings = Annotated[AccountsSettings, Depends(settings)]


async def current_customer(
    ctx: Ctx,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(customer_bearer)],
) -> CustomerClaims:
    """A valid access token whose session is still open (401 otherwise)."""
    return await sessions.authenticate(ctx, credentials.credentials if credentials else None)


Caller = Annotated[CustomerClaims, Depends(current_customer)]


async def operator(
    settings: Settings,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(operator_bearer)],
) -> None:
    """Customer service's token (401 ``operator_token_invalid`` otherwise)."""
    if not shared_token_matches(credentials, settings.operator_token):
        raise AuthError("operator_token_invalid", "Accès réservé au service client.")


@lru_cache(maxsize=8)
def _networks(
    trusted: tuple[str, ...],
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in trusted]


def client_address(request: Request, settings: Settings) -> str:
    """The client's address: the peer, or what trusted proxies say they forwarded for."""
    peer = request.client.host if request.client else None
    return domain.client_address(
        peer, request.headers.get("x-forwarded-for"), _networks(settings.trusted_proxies)
    )


ClientAddress = Annotated[str, Depends(client_address)]
