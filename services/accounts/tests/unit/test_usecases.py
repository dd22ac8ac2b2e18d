"""The use cases' decisions that come before any database work, and the pure rules they apply
(sign-up, login, profile, email change, erasure, sessions), without services.

The context's runtime is never started: a use case that reached the database here would fail
with "the service is not started", so each test also shows the refusal comes first."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from accounts import domain
from accounts.app import MIGRATIONS
from accounts.context import Context
from accounts.handlers import SERVICE
from accounts.security import Keyring, Passwords
from accounts.settings import AccountsSettings
from accounts.usecases import profile, sessions
from jg_auth import AuthError, SigningKey, TokenVerifier
from jg_events import Address, CustomerField
from jg_messaging import ServiceRuntime
from jg_web.http import ApiError

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def context(**overrides: Any) -> Context:
    settings = AccountsSettings(**overrides)
    runtime = ServiceRuntime(SERVICE, settings, MIGRATIONS)  # opens nothing
    return Context(runtime, Keyring(settings), settings, Passwords(settings))


def address(country: str) -> Address:
    return Address(
        first_name="Camille",
        last_name="Durand",
        line1="12 rue des Lilas",
        postal_code="69003",
        city="Lyon",
        country_code=country,
    )


# --- sign-up -----------------------------------------------------------------------------------


async def test_a_sign_up_with_a_weak_password_is_refused_before_any_limit_or_hashing() -> None:
    new = sessions.NewCustomer("camille@example.fr", "camille2026", "Camille", "Durand")
    with pytest.raises(ApiError) as refused:
        await sessions.sign_up(context(), new, "203.0.113.7")
    assert refused.value.status == 422 and refused.value.code == "password_policy"
    rules = {p.code for p in refused.value.problems}
    assert "too_short" in rules and {p.field for p in refused.value.problems} == {"password"}


async def test_a_sign_up_password_made_of_the_customers_name_is_refused() -> None:
    new = sessions.NewCustomer("k.tanaka@example.fr", "Tanaka-Tanaka-Tanaka", "Kenji", "Tanaka")
    with pytest.raises(ApiError) as refused:
        await sessions.sign_up(context(), new, "203.0.113.7")
    assert refused.value.status == 422
    assert refused.value.problems  # at least one rule names what is wrong


# --- sessions ----------------------------------------------------------------------------------


async def test_no_token_is_a_401_missing_credentials() -> None:
    with pytest.raises(AuthError) as refused:
        await sessions.authenticate(context(), None)
    assert refused.value.status_code == 401 and refused.value.code == "missing_credentials"


async def test_a_token_signed_by_another_key_is_refused_before_the_session_lookup() -> None:
    ctx = context()
    ours, theirs = SigningKey.generate("ES256"), SigningKey.generate("ES256")
    ctx.keyring.signing_key = ours
    ctx.keyring.verifier = TokenVerifier(
        jwks=ours.jwks(), issuer=ctx.settings.auth.issuer, audience=ctx.settings.auth.audience
    )
    forged = theirs.issue_access_token(
        customer_id=uuid4(),
        session_id=uuid4(),
        issuer=ctx.settings.auth.issuer,
        audience=ctx.settings.auth.audience,
        email="camille@example.fr",
        lifetime=timedelta(minutes=15),
        now=datetime.now(UTC),
    )
    with pytest.raises(AuthError) as refused:
        await sessions.authenticate(ctx, forged)
    assert refused.value.status_code == 401 and refused.value.code != "session_ended"


# --- login slow-down ---------------------------------------------------------------------------


def test_a_login_waits_for_the_longer_of_the_email_and_address_slow_downs() -> None:
    ctx = context(login_free_failures_per_email=3, login_free_failures_per_address=10)
    per_email = ctx.login_backoff(per_address=False)
    per_address = ctx.login_backoff(per_address=True)
    few = [NOW - timedelta(seconds=5)] * 2
    many = [NOW - timedelta(seconds=5)] * 5
    assert domain.login_wait(few, few, NOW, per_email=per_email, per_address=per_address) == 0
    # Five failures for one email: its slow-down applies even from a fresh address.
    by_email = domain.login_wait(many, [], NOW, per_email=per_email, per_address=per_address)
    assert by_email > 0
    # The same five from one address, each for another email: that address is not slowed yet.
    assert domain.login_wait([], many, NOW, per_email=per_email, per_address=per_address) == 0
    both = domain.login_wait(many, many, NOW, per_email=per_email, per_address=per_address)
    assert both == by_email


# --- profile -----------------------------------------------------------------------------------


async def test_a_billing_address_in_a_country_not_delivered_is_refused_before_any_change() -> None:
    change = domain.ProfileChange(billing_address=address("US"), address_given=True)
    with pytest.raises(ApiError) as refused:
        await profile.change_profile(context(), uuid4(), change)
    assert refused.value.status == 422
    assert [p.field for p in refused.value.problems] == ["billing_address.country_code"]


def test_only_the_given_profile_fields_change_and_only_real_changes_are_announced() -> None:
    lyon = address("FR")
    current = domain.ProfileFields("Camille", "Durand", lyon)
    same, changed = domain.apply_profile_change(current, domain.ProfileChange(first_name="Camille"))
    assert same == current and changed == []
    renamed, changed = domain.apply_profile_change(
        current, domain.ProfileChange(last_name="Martin")
    )
    assert renamed == domain.ProfileFields("Camille", "Martin", lyon)
    assert changed == [CustomerField.LAST_NAME]
    # An address left out stays; given as null it is removed.
    assert domain.apply_profile_change(current, domain.ProfileChange())[0].billing_address == lyon
    removed, changed = domain.apply_profile_change(
        current, domain.ProfileChange(billing_address=None, address_given=True)
    )
    assert removed.billing_address is None and changed == [CustomerField.BILLING_ADDRESS]
    everything = domain.ProfileChange("Kenji", "Tanaka", address("BE"), address_given=True)
    assert domain.apply_profile_change(current, everything)[1] == [
        CustomerField.FIRST_NAME,
        CustomerField.LAST_NAME,
        CustomerField.BILLING_ADDRESS,
    ]


# --- email change, erasure -----------------------------------------------------------------------


def test_an_email_change_to_the_current_address_is_not_a_change() -> None:
    assert domain.same_email("camille@example.fr", "camille@example.fr")
    assert not domain.same_email("camille.durand@example.fr", "camille@example.fr")


def test_an_erasure_is_requested_once() -> None:
    assert domain.erasure_to_request(None)
    assert not domain.erasure_to_request(NOW)  # customer service asking again changes nothing
