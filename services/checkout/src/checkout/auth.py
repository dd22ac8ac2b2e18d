"""Who is calling: the storefront (a bearer token from configuration) or a logged-in customer.

Customers' tokens are accounts' access tokens, verified offline by ``jg_auth`` (JWKS). The
whole decision is :func:`authenticator`; routes only see a :class:`Principal`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

import jg_auth
from fastapi import Depends

from checkout.settings import CheckoutSettings


@dataclass(frozen=True)
class Principal:
    kind: Literal["storefront", "customer"]
    customer_id: UUID | None = None

    @property
    def idempotency_scope(self) -> str:
        return "storefront" if self.kind == "storefront" else f"customer:{self.customer_id}"

    def may_read(self, order_customer_id: UUID | None) -> bool:
        """The storefront acts for anyone; a customer sees only the orders of their account."""
        return self.kind == "storefront" or (
            order_customer_id is not None and order_customer_id == self.customer_id
        )


class AuthError(Exception):
    """A refusal decided by checkout itself (400 on headers, 403, 404)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message


def authenticator(
    settings: CheckoutSettings, verifier: jg_auth.TokenVerifier
) -> Callable[..., Awaitable[Principal]]:
    """The FastAPI dependency of every order route (401 from jg_auth when it fails)."""
    who = jg_auth.bearer_principal(verifier, settings.storefront_token)

    async def authenticate(caller: jg_auth.Principal = Depends(who)) -> Principal:  # noqa: B008
        match caller:
            case jg_auth.Customer():
                return Principal(kind="customer", customer_id=caller.customer_id)
            case _:
                return Principal(kind="storefront")

    return authenticate
