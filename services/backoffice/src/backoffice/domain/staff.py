"""Who uses the console, what each role may do, and when a session has run out (pure rules)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

# A staff token is refused a little before accounts' own expiry: a page's calls take a moment.
TOKEN_MARGIN = timedelta(seconds=20)


class Role(StrEnum):
    AGENT = "agent"
    MANAGER = "manager"


RANK = {Role.AGENT: 1, Role.MANAGER: 2}


class Action(StrEnum):
    """What a member does through the console (the audit trail's 'what')."""

    SIGN_IN = "sign_in"
    SIGN_OUT = "sign_out"
    CANCEL_ORDER = "cancel_order"
    RESEND_EMAIL = "resend_email"
    RESOLVE_CLAIM = "resolve_claim"
    COUNT_STOCK = "count_stock"
    REPLAY_DEAD_LETTER = "replay_dead_letter"
    REPLAY_OUTBOX = "replay_outbox"
    READ_AUDIT = "read_audit"


# The least role each action needs; everything else is open to every member.
MINIMUM_ROLE: dict[Action, Role] = {
    Action.REPLAY_DEAD_LETTER: Role.MANAGER,
    Action.REPLAY_OUTBOX: Role.MANAGER,
    Action.READ_AUDIT: Role.MANAGER,
}


def may(role: Role, action: Action) -> bool:
    """True when ``role`` may do ``action`` (a manager may do all an agent may)."""
    return RANK[role] >= RANK[MINIMUM_ROLE.get(action, Role.AGENT)]


@dataclass(frozen=True)
class Member:
    id: UUID
    email: str
    name: str
    role: Role


class SessionState(StrEnum):
    ACTIVE = "active"
    TOKEN_EXPIRED = "token_expired"  # noqa: S105 - a state, no secret; sign in again: the services would refuse the token
    EXPIRED = "expired"


@dataclass(frozen=True)
class Session:
    id: str
    member: Member
    token: str
    token_expires_at: datetime
    csrf_token: str
    created_at: datetime
    expires_at: datetime

    def state(self, now: datetime) -> SessionState:
        if now >= self.expires_at:
            return SessionState.EXPIRED
        if now >= self.token_expires_at - TOKEN_MARGIN:
            return SessionState.TOKEN_EXPIRED
        return SessionState.ACTIVE


def new_session(
    session_id: str,
    csrf_token: str,
    member: Member,
    token: str,
    expires_in: int,
    now: datetime,
    lifetime: timedelta,
) -> Session:
    """A session for ``member`` signed in at ``now``; its staff token lasts ``expires_in`` s."""
    return Session(
        id=session_id,
        member=member,
        token=token,
        token_expires_at=now + timedelta(seconds=max(0, expires_in)),
        csrf_token=csrf_token,
        created_at=now,
        expires_at=now + lifetime,
    )


def csrf_matches(expected: str, given: str | None) -> bool:
    """The form's CSRF token is the session's (compared in constant time)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def from_another_site(origin: str | None, fetch_site: str | None, host: str | None) -> bool:
    """A sign-in form posted from another site (login CSRF: someone signing a member into the
    attacker's own session), as the browser tells it.

    ``Sec-Fetch-Site``, sent by every current browser, decides alone when present: only
    ``same-origin`` (the console's own page) and ``none`` (typed, a bookmark) pass; it does not
    depend on the ``Host`` a proxy may rewrite. Without it (an older browser), ``Origin`` must
    name the console's own ``Host`` (default ports aside); ``null`` or a garbled origin is
    refused. A request that says neither (a script) is not refused: the check is for browsers.
    """
    if fetch_site is not None:
        return fetch_site.strip().lower() not in {"same-origin", "none"}
    if origin is None:
        return False
    scheme, sep, rest = origin.strip().lower().partition("://")
    if not sep or scheme not in {"http", "https"} or not host:
        return True
    default_port = ":443" if scheme == "https" else ":80"
    return rest.rstrip("/").removesuffix(default_port) != (
        host.strip().lower().removesuffix(default_port)
    )


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a path of the console only (never another site)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path
