"""Logins and password resets are counted by a bounded outcome."""

import pytest
from accounts.metrics import login_outcome, outcome_of
from jg_web.http import ApiError

pytestmark = pytest.mark.unit


def test_login_outcomes() -> None:
    assert login_outcome(None) == "success"
    assert login_outcome(ApiError(401, "invalid_credentials", "Non.")) == "invalid_credentials"
    assert login_outcome(ApiError(429, "too_many_requests", "Attendez.")) == "throttled"
    assert login_outcome(ConnectionError("database away")) == "error"


def test_reset_outcomes() -> None:
    assert outcome_of(ApiError(400, "invalid_token", "Lien expiré.")) == "refused"
    assert outcome_of(ApiError(503, "unavailable", "Plus tard.")) == "error"
