"""FastAPI dependencies: who is calling (the storefront, or a logged-in customer)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from fastapi import HTTPException, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from jg_auth.verifier import CustomerClaims, TokenError, TokenErrorReason, TokenVerifier

__all__ = [
    "AuthError",
    "Customer",
    "Principal",
    "Storefront",
    "auth_error_handler",
    "bearer_customer",
    "bearer_principal",
    "shared_token_matches",
]


def shared_token_matches(
    credentials: HTTPAuthorizationCredentials | None, expected: SecretStr
) -> bool:
    """Whether a bearer token is the configured shared token (the storefront's, the
    operators'), compared in constant time. An unset token matches nothing."""
    wanted = expected.get_secret_value().encode()
    given = credentials.credentials.encode() if credentials else b""
    return bool(wanted) and hmac.compare_digest(given, wanted)


@dataclass(frozen=True)
class Storefront:
    """The storefront backend, authenticated by its static bearer token (acts for anyone)."""


@dataclass(frozen=True)
class Customer:
    """A logged-in customer, authenticated by an access token issued by accounts."""

    claims: CustomerClaims

    @property
    def customer_id(self) -> UUID:
        return self.claims.customer_id


Principal = Storefront | Customer

_MESSAGES: dict[str, str] = {
    "missing_credentials": "Authentification requise.",
    TokenErrorReason.EXPIRED: "Votre session a expiré, veuillez vous reconnecter.",
    TokenErrorReason.KEYS_UNAVAILABLE: (
        "L'authentification est momentanément indisponible, veuillez réessayer."
    ),
}
_DEFAULT_MESSAGE = "Jeton d'authentification invalide, veuillez vous reconnecter."


class AuthError(HTTPException):
    """401 with a machine ``code`` (e.g. ``token_expired``) and a readable French ``message``.

    Without a handler FastAPI answers ``{"detail": {"code": ..., "message": ...}}``; register
    :func:`auth_error_handler` to answer ``{"code": ..., "message": ...}`` like other errors.
    """

    def __init__(self, code: str, message: str | None = None, *, status_code: int = 401) -> None:
        self.code = code
        self.message = message or _MESSAGES.get(code, _DEFAULT_MESSAGE)
        error = "invalid_request" if code == "missing_credentials" else "invalid_token"
        if status_code == 403:
            error = "insufficient_scope"
        headers = {"WWW-Authenticate": f'Bearer error="{error}"'}
        if code == TokenErrorReason.KEYS_UNAVAILABLE:
            status_code, headers = 503, {"Retry-After": "5"}
        super().__init__(
            status_code=status_code,
            detail={"code": code, "message": self.message},
            headers=headers,
        )


async def auth_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """``app.add_exception_handler(AuthError, auth_error_handler)``: flat JSON error body."""
    assert isinstance(exc, AuthError)
    return JSONResponse(
        {"code": exc.code, "message": exc.message},
        status_code=exc.status_code,
        headers=exc.headers,
    )


_bearer = HTTPBearer(
    auto_error=False,
    description="The storefront's static token, or a customer's access token from accounts.",
)
_customer_bearer = HTTPBearer(
    scheme_name="CustomerBearer",
    auto_error=False,
    description="A customer's access token from accounts (POST /login).",
)


async def _verify(verifier: TokenVerifier, token: str) -> Customer:
    try:
        return Customer(await verifier.verify(token))
    except TokenError as error:
        raise AuthError(error.reason) from error


def bearer_principal(
    verifier: TokenVerifier, storefront_token: SecretStr
) -> Callable[..., Awaitable[Principal]]:
    """A dependency answering :class:`Storefront` or :class:`Customer`, else 401.

    ``Authorization: Bearer <token>``: the storefront's static token (compared in constant
    time; an empty configured token never matches) or a customer's access token.
    """

    async def principal(
        credentials: HTTPAuthorizationCredentials | None = Security(_bearer),  # noqa: B008
    ) -> Principal:
        if credentials is None or not credentials.credentials:
            raise AuthError("missing_credentials")
        if shared_token_matches(credentials, storefront_token):
            return Storefront()
        return await _verify(verifier, credentials.credentials)

    return principal


def bearer_customer(verifier: TokenVerifier) -> Callable[..., Awaitable[Customer]]:
    """A dependency that accepts a customer's access token only, else 401."""

    async def customer(
        credentials: HTTPAuthorizationCredentials | None = Security(_customer_bearer),  # noqa: B008
    ) -> Customer:
        if credentials is None or not credentials.credentials:
            raise AuthError("missing_credentials")
        return await _verify(verifier, credentials.credentials)

    return customer
