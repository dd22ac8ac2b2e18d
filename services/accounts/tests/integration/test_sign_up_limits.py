"""Sign-up floods: limited per client address and per email address (429, Retry-After, French),
counted in the database, and never at the expense of logins (their own hashing capacity)."""

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest

from .conftest import PASSWORD, Accounts

pytestmark = pytest.mark.integration

# What production uses (RFC 9106 low-memory profile): a hash costs real time here.
PRODUCTION_HASHING = {"argon2_time_cost": 3, "argon2_memory_kib": 65536, "argon2_parallelism": 4}


async def sign_up(
    accounts: Accounts, email: str, address: str | None = None
) -> tuple[httpx.Response, float]:
    """The answer to a sign-up, and when it came (time.perf_counter())."""
    headers = {"X-Forwarded-For": address} if address else {}
    response = await accounts.http.post(
        "/customers",
        headers=headers,
        json={"email": email, "password": PASSWORD, "first_name": "Camille", "last_name": "Flot"},
    )
    return response, time.perf_counter()


def unique(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@example.fr"


async def registered(accounts: Accounts, emails: set[str]) -> list[Any]:
    events = await accounts.published(1, timeout=5, settle=1.0)
    return [e for e in events if e.type == "CustomerRegistered" and e.payload.email in emails]


async def test_a_flood_from_one_address_is_refused_past_the_limit_exactly(start: Any) -> None:
    accounts: Accounts = await start(signup_limit_per_address=5, signup_limit_per_email=50)
    emails = [unique("flot") for _ in range(12)]
    answers = await asyncio.gather(*(sign_up(accounts, e, "198.51.100.7") for e in emails))
    codes = [r.status_code for r, _ in answers]
    assert sorted(codes) == [201] * 5 + [429] * 7  # exact, though all arrived at once
    refused = next(r for r, _ in answers if r.status_code == 429)
    body = refused.json()
    assert body["code"] == "too_many_requests"
    assert body["message"].startswith("Trop de créations de compte depuis votre connexion.")
    assert "Veuillez réessayer dans 60 minutes." in body["message"]
    assert 3590 <= int(refused.headers["Retry-After"]) <= 3600

    # Only the accepted ones got an account, hence an email.
    assert len(await registered(accounts, set(emails))) == 5
    # Another client address is not slowed down by that one.
    other, _ = await sign_up(accounts, unique("voisine"), "198.51.100.8")
    assert other.status_code == 201


async def test_x_forwarded_for_counts_only_from_a_configured_proxy(start: Any) -> None:
    # No trusted proxy: the header is the client's own claim, and changing it changes nothing.
    accounts: Accounts = await start(signup_limit_per_address=3, trusted_proxies=())
    codes = [
        (await sign_up(accounts, unique("masque"), f"203.0.113.{i}"))[0].status_code
        for i in range(5)
    ]
    assert codes == [201, 201, 201, 429, 429]


async def test_one_email_address_is_limited_whatever_the_client_address(start: Any) -> None:
    accounts: Accounts = await start(signup_limit_per_email=3, signup_limit_per_address=100)
    codes = []
    for i in range(5):
        response, _ = await sign_up(accounts, "cible.flot@example.fr", f"192.0.2.{i + 1}")
        codes.append(response.status_code)
        last = response
    assert codes == [201, 409, 409, 429, 429]
    assert last.json()["message"].startswith(
        "Trop de tentatives d'inscription avec cette adresse e-mail."
    )
    assert int(last.headers["Retry-After"]) > 0
    assert len(await registered(accounts, {"cible.flot@example.fr"})) == 1
    # a refusal on the email does not use up the client address's allowance
    async with accounts.pool.acquire() as conn:
        counted = await conn.fetchval(
            "SELECT count(*) FROM throttle_events WHERE scope = 'signup_address'"
        )
    assert counted == 3


async def test_a_login_in_the_middle_of_a_sign_up_flood_answers_promptly(start: Any) -> None:
    accounts: Accounts = await start(**PRODUCTION_HASHING, signup_limit_per_address=10)
    await accounts.sign_up(email="habituee@example.fr")
    started = time.perf_counter()
    assert (await accounts.login("habituee@example.fr")).status_code == 200
    alone = time.perf_counter() - started

    # One address floods the sign-up form with 60 requests at once, on distinct addresses.
    flood = [
        asyncio.create_task(sign_up(accounts, unique("flot"), "198.51.100.66")) for _ in range(60)
    ]
    await asyncio.sleep(0.05)  # the flood is in: the first sign-ups are being hashed
    started = time.perf_counter()
    login = await accounts.login("habituee@example.fr", headers={"X-Forwarded-For": "192.0.2.9"})
    answered = time.perf_counter()
    during = answered - started
    answers = await asyncio.gather(*flood)

    assert login.status_code == 200
    codes = [r.status_code for r, _ in answers]
    assert codes.count(201) == 10 and codes.count(429) == 50
    # The login did not wait for the flood: sign-ups were still being hashed after it answered.
    assert max(at for r, at in answers if r.status_code == 201) > answered
    print(f"login alone {alone:.3f} s, during the flood {during:.3f} s")
    assert during < max(1.5, 5 * alone), (alone, during)  # 13.9 s before hashing slots split
