"""Who is calling: the storefront (a bearer token from configuration) or, later, a customer.

The whole decision is :func:`authenticator`; when ``libs/auth`` (accounts' JWT verifier) lands,
a customer's token is verified there and becomes a :class:`Principal` of kind ``customer``.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from checkout.settings import CheckoutSettings


@dataclass(frozen=True)
class Principal:
    kind: Literal["storefront", "customer"]
    customer_id: UUID | None = None

    @property
    def idempotency_scope(self) -> str:
        return "storefront" if self.kind == "storefront" else f"customer:{self.customer_id}"

    def may_read(self, order_customer_id: UUID | None) -> bool:
        return self.kind == "storefront" or (
            order_customer_id is not None and order_customer_id == self.customer_id
        )


class AuthError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message


CustomerVerifier = Callable[[str], Awaitable[UUID | None]]
"""Returns the customer id of a valid customer token, None otherwise."""


def authenticator(
    settings: CheckoutSettings, customer_verifier: CustomerVerifier | None = None
) -> Callable[..., Awaitable[Principal]]:
    """The FastAPI dependency that authenticates every order route."""
    expected = settings.storefront_token.get_secret_value().encode()
    bearer = HTTPBearer(
        auto_error=False,
        description="The storefront's token (CHECKOUT_STOREFRONT_TOKEN), or a customer's "
        "token from accounts once accepted.",
    )

    async def authenticate(
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    ) -> Principal:
        if credentials is None or not credentials.credentials.strip():
            raise AuthError(
                401, "unauthorized", "Authentification requise (Authorization: Bearer ...)."
            )
        token = credentials.credentials.strip()
        if secrets.compare_digest(token.encode(), expected):
            return Principal(kind="storefront")
        if customer_verifier is not None:
            customer_id = await customer_verifier(token)
            if customer_id is not None:
                return Principal(kind="customer", customer_id=customer_id)
        raise AuthError(401, "unauthorized", "Jeton d'authentification invalide.")

    return authenticate
