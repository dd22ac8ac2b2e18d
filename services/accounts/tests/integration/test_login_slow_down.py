"""Repeated failed logins are slowed down, per email and per client address, durably."""

import asyncio

import pytest

from .conftest import PASSWORD, Accounts

pytestmark = pytest.mark.integration

WRONG = "Pas-le-bon-mot-2026"


async def test_after_the_free_failures_an_email_must_wait_even_with_the_right_password(
    start,
    make_settings,  # type: ignore[no-untyped-def]
) -> None:
    settings = make_settings(login_free_failures_per_email=3, login_base_delay_seconds=1.0)
    dsn = settings.database_url.get_secret_value()
    accounts: Accounts = await start(
        database_url=dsn, login_free_failures_per_email=3, login_base_delay_seconds=1.0
    )
    # a second instance on the same database (started now: starting takes longer than the wait)
    other: Accounts = await start(
        database_url=dsn, login_free_failures_per_email=3, login_base_delay_seconds=1.0
    )
    await accounts.sign_up(email="cible@example.fr")
    failures = [
        (
            await accounts.login(
                "cible@example.fr", WRONG, headers={"X-Forwarded-For": f"192.0.2.{i}"}
            )
        ).status_code
        for i in range(3)
    ]
    assert failures == [401, 401, 401]

    blocked = await accounts.login("cible@example.fr", PASSWORD)
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "too_many_attempts"
    assert blocked.headers["Retry-After"] == "1"
    assert "seconde" in blocked.json()["message"]

    # durable: the other instance applies the same wait
    assert (await other.login("cible@example.fr", PASSWORD)).status_code == 429

    await asyncio.sleep(1.1)
    assert (await other.login("cible@example.fr", PASSWORD)).status_code == 200
    # a success clears the email's count
    assert (await other.login("cible@example.fr", WRONG)).status_code == 401


async def test_one_address_trying_many_emails_is_slowed_down_others_are_not(start) -> None:  # type: ignore[no-untyped-def]
    accounts: Accounts = await start(login_free_failures_per_address=4)
    await accounts.sign_up(email="voisin@example.fr")
    attacker = {"X-Forwarded-For": "203.0.113.66"}
    answers = [
        (await accounts.login(f"victime{i}@example.fr", WRONG, headers=attacker)).status_code
        for i in range(5)
    ]
    assert answers == [401, 401, 401, 401, 429]
    neighbour = await accounts.login(
        "voisin@example.fr", PASSWORD, headers={"X-Forwarded-For": "203.0.113.67"}
    )
    assert neighbour.status_code == 200
