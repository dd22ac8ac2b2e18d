"""Test helpers: a signing key made in-process, its static JWKS, and tokens for any customer.

Nothing is served and no accounts service is needed::

    from jg_devstack.tokens import TEST_AUDIENCE, TEST_ISSUER, mint_token, verifier_for_tests

    verifier = verifier_for_tests()                      # TokenVerifier(jwks=TEST_JWKS, ...)
    app = create_app(settings, verifier=verifier)   # however your service injects it
    token = mint_token(customer_id)                 # "Authorization: Bearer <token>"
    expired = mint_token(customer_id, lifetime=timedelta(minutes=-5))

A service that builds its verifier from :class:`jg_auth.AuthSettings` can instead pass
``jwks=TEST_JWKS`` to :class:`jg_auth.TokenVerifier` with ``TEST_ISSUER``/``TEST_AUDIENCE``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from jg_auth.keys import SigningKey
from jg_auth.verifier import TokenVerifier

__all__ = [
    "TEST_AUDIENCE",
    "TEST_ISSUER",
    "TEST_JWKS",
    "TEST_KEY",
    "SigningKey",
    "authorization",
    "mint_staff_token",
    "mint_token",
    "staff_authorization",
    "verifier_for_tests",
]

TEST_ISSUER = "https://accounts.test.japangoodz.invalid"
TEST_AUDIENCE = "japangoodz"

TEST_KEY: SigningKey = SigningKey.generate("ES256", kid="jg-test-key")
"""A P-256 key generated when the module is imported (never persisted)."""

TEST_JWKS: dict[str, Any] = TEST_KEY.jwks()
"""The public half of :data:`TEST_KEY` as a JWK Set."""


def mint_token(
    customer_id: UUID,
    *,
    email: str | None = "client@example.com",
    session_id: UUID | None = None,
    lifetime: timedelta = timedelta(minutes=15),
    issuer: str = TEST_ISSUER,
    audience: str = TEST_AUDIENCE,
    key: SigningKey = TEST_KEY,
    now: datetime | None = None,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """An access token for ``customer_id`` signed by :data:`TEST_KEY` (or ``key``).

    A negative ``lifetime`` gives an expired token; another ``issuer``/``audience``/``key``
    gives tokens your service must refuse.
    """
    return key.issue_access_token(
        customer_id=customer_id,
        session_id=session_id or uuid4(),
        issuer=issuer,
        audience=audience,
        email=email,
        lifetime=lifetime,
        now=now,
        extra_claims=extra_claims,
    )


def authorization(customer_id: UUID, **kwargs: Any) -> dict[str, str]:
    """``{"Authorization": "Bearer <token>"}`` for ``customer_id`` (see :func:`mint_token`)."""
    return {"Authorization": f"Bearer {mint_token(customer_id, **kwargs)}"}


def mint_staff_token(
    role: str = "agent",
    *,
    member_id: UUID | None = None,
    email: str = "agent@japangoodz.test",
    name: str = "Hugo Agent",
    lifetime: timedelta = timedelta(minutes=15),
    issuer: str = TEST_ISSUER,
    audience: str = TEST_AUDIENCE,
    key: SigningKey = TEST_KEY,
) -> str:
    """A staff member's access token (audience ``<audience>/staff``) signed by ``key``."""
    return key.issue_staff_token(
        member_id=member_id or uuid4(),
        email=email,
        name=name,
        role=role,
        issuer=issuer,
        audience=audience,
        lifetime=lifetime,
    )


def staff_authorization(role: str = "agent", **kwargs: Any) -> dict[str, str]:
    """``{"Authorization": "Bearer <staff token>"}`` (see :func:`mint_staff_token`)."""
    return {"Authorization": f"Bearer {mint_staff_token(role, **kwargs)}"}


def verifier_for_tests(
    *, issuer: str = TEST_ISSUER, audience: str = TEST_AUDIENCE, jwks: dict[str, Any] | None = None
) -> TokenVerifier:
    """A :class:`TokenVerifier` trusting :data:`TEST_JWKS` (static, no HTTP)."""
    return TokenVerifier(jwks=jwks or TEST_JWKS, issuer=issuer, audience=audience)
