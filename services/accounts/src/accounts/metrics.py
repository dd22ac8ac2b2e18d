"""Accounts' Prometheus metrics: logins by outcome, password resets asked for and completed."""

from __future__ import annotations

from prometheus_client import Counter

LOGINS = Counter(
    "accounts_logins_total",
    "Login attempts by outcome: success, invalid_credentials, throttled (429), error.",
    ["outcome"],
)
PASSWORD_RESETS = Counter(
    "accounts_password_resets_total",
    "Password resets by stage (requested: a link asked for, whatever the address; completed: a "
    "new password set) and outcome (success, refused, throttled, error).",
    ["stage", "outcome"],
)


def outcome_of(exc: BaseException | None) -> str:
    """The outcome label of a request that raised `exc` (None: it succeeded)."""
    if exc is None:
        return "success"
    status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
    if status == 429:
        return "throttled"
    if status in (400, 401, 403, 422):
        return "refused"
    return "error"


def login_outcome(exc: BaseException | None) -> str:
    outcome = outcome_of(exc)
    return "invalid_credentials" if outcome == "refused" else outcome
