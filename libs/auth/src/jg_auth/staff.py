"""Operator endpoints: the shop's team (staff tokens from accounts) or the static operator token.

A service puts a :class:`StaffGate` on ``app.state.staff_gate`` (:func:`install_staff_gate`)
and guards its operator routes with ``Depends(staff_or_operator("agent"))`` (or
``"manager"``). The dependency answers who acted (:class:`Staff` or :class:`OperatorToken`),
binds ``actor`` into the log context, and refuses:

- no token, a customer's token, an invalid or expired staff token: 401;
- a staff token whose role is below the route's: 403 ``insufficient_role``.

The static operator token (tools, logistics) acts as ``operator-token`` and passes every role
check, as it did before staff members existed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import cast

import structlog
from fastapi import FastAPI, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from jg_auth.dependencies import AuthError, shared_token_matches
from jg_auth.verifier import StaffClaims, StaffRole, TokenError, TokenVerifier

__all__ = [
    "OPERATOR_TOKEN_ACTOR",
    "Operator",
    "OperatorToken",
    "Staff",
    "StaffGate",
    "install_staff_gate",
    "staff_or_operator",
]

OPERATOR_TOKEN_ACTOR = "operator-token"  # noqa: S105 - an actor's name, not a secret


@dataclass(frozen=True)
class Staff:
    """A member of the shop's team, authenticated by a staff token from accounts."""

    claims: StaffClaims

    @property
    def actor(self) -> str:
        return self.claims.email

    @property
    def role(self) -> StaffRole:
        return self.claims.role


@dataclass(frozen=True)
class OperatorToken:
    """The static operator token (tools, logistics): acts as ``operator-token``."""

    @property
    def actor(self) -> str:
        return OPERATOR_TOKEN_ACTOR


Operator = Staff | OperatorToken


@dataclass(frozen=True)
class StaffGate:
    """What :func:`staff_or_operator` checks against: the verifier of accounts' keys and the
    service's static operator token (empty: no static token is accepted)."""

    verifier: TokenVerifier
    operator_token: SecretStr = field(default_factory=lambda: SecretStr(""))


def install_staff_gate(
    app: FastAPI, verifier: TokenVerifier, operator_token: SecretStr | None = None
) -> None:
    """``app.state.staff_gate``: what the service's operator routes accept."""
    app.state.staff_gate = StaffGate(verifier, operator_token or SecretStr(""))


_staff_bearer = HTTPBearer(
    scheme_name="StaffBearer",
    auto_error=False,
    description="A staff member's access token from accounts (POST /staff/login), or the "
    "service's static operator token.",
)

_ROLE_NAMES = {StaffRole.AGENT: "agent", StaffRole.MANAGER: "responsable"}


def staff_or_operator(
    min_role: StaffRole | str = StaffRole.AGENT,
) -> Callable[..., Awaitable[Operator]]:
    """A dependency accepting the static operator token or a staff token of at least
    ``min_role`` (manager ≥ agent)."""
    wanted = StaffRole(min_role)

    async def operator(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Security(_staff_bearer),  # noqa: B008
    ) -> Operator:
        gate = cast(StaffGate, request.app.state.staff_gate)
        if credentials is None or not credentials.credentials:
            raise AuthError("missing_credentials")
        who: Operator
        if shared_token_matches(credentials, gate.operator_token):
            who = OperatorToken()
        else:
            try:
                who = Staff(await gate.verifier.verify_staff(credentials.credentials))
            except TokenError as error:
                raise AuthError(error.reason) from error
            if not who.role.at_least(wanted):
                structlog.contextvars.bind_contextvars(actor=who.actor)
                raise AuthError(
                    "insufficient_role",
                    f"Cette action est réservée au rôle «\u00a0{_ROLE_NAMES[wanted]}\u00a0».",
                    status_code=403,
                )
        structlog.contextvars.bind_contextvars(actor=who.actor)
        return who

    return operator
