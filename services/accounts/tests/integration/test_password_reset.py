"""Forgotten password: same answer for everyone, a single-use expiring link, rate limits."""

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from .conftest import NEW_PASSWORD, PASSWORD, Accounts, bearer, token_of

pytestmark = pytest.mark.integration


def comparable(response: httpx.Response) -> tuple[int, bytes, tuple[tuple[str, str], ...]]:
    """Status, body and headers, except those that differ for every request anyway."""
    varying = {"date", "x-correlation-id"}
    headers = sorted((k, v) for k, v in response.headers.items() if k.lower() not in varying)
    return response.status_code, response.content, tuple(headers)


async def request_reset(
    accounts: Accounts, email: str, client: str = "198.51.100.7"
) -> httpx.Response:
    return await accounts.http.post(
        "/password-reset", json={"email": email}, headers={"X-Forwarded-For": client}
    )


async def test_the_reset_link_works_once_logs_in_and_ends_other_sessions(
    accounts: Accounts,
) -> None:
    email = "oubli@example.fr"
    old_session = await accounts.sign_up(email=email)
    before = datetime.now(UTC)
    response = await request_reset(accounts, "  Oubli@Example.fr")
    assert response.status_code == 202

    [reset] = await accounts.published_of_type("PasswordResetRequested")
    assert reset.payload.email == email
    assert reset.payload.first_name == "Camille"
    assert accounts.link(reset).startswith(
        "https://www.japangoodz.com/mon-compte/reinitialisation?token="
    )
    expected_expiry = before + timedelta(hours=1)
    assert abs((reset.payload.expires_at - expected_expiry).total_seconds()) < 10
    token = token_of(accounts.link(reset))
    assert len(token) >= 22  # >= 128 bits in base64url
    # the database keeps only a hash of the token
    async with accounts.pool.acquire() as conn:
        stored = await conn.fetch("SELECT token_hash FROM password_reset_tokens")
    assert len(stored) == 1 and token.encode() not in stored[0]["token_hash"]

    weak = await accounts.http.post(
        "/password-reset/confirm", json={"token": token, "new_password": "oubli"}
    )
    assert weak.status_code == 422  # the link is still usable after a refused password

    confirmed = await accounts.http.post(
        "/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert confirmed.status_code == 200, confirmed.text
    tokens = confirmed.json()
    assert (await accounts.http.get("/me", headers=bearer(tokens))).json()["email"] == email

    again = await accounts.http.post(
        "/password-reset/confirm", json={"token": token, "new_password": "Autre-Chose-2026!"}
    )
    assert again.status_code == 400 and again.json()["code"] == "reset_link_invalid"
    assert (await accounts.http.get("/me", headers=bearer(old_session))).status_code == 401
    assert (await accounts.login(email, PASSWORD)).status_code == 401
    assert (await accounts.login(email, NEW_PASSWORD)).status_code == 200
    assert PASSWORD not in reset.model_dump_json() and NEW_PASSWORD not in reset.model_dump_json()


async def test_the_reset_link_expires(accounts: Accounts) -> None:
    await accounts.sign_up(email="lent@example.fr")
    await request_reset(accounts, "lent@example.fr")
    [reset] = await accounts.published_of_type("PasswordResetRequested")
    # an hour passes: move the stored expiry into the past rather than waiting
    async with accounts.pool.acquire() as conn:
        await conn.execute("UPDATE password_reset_tokens SET expires_at = now() - interval '1 s'")
    late = await accounts.http.post(
        "/password-reset/confirm",
        json={"token": token_of(accounts.link(reset)), "new_password": NEW_PASSWORD},
    )
    assert late.status_code == 400 and late.json()["code"] == "reset_link_invalid"
    assert (await accounts.login("lent@example.fr", PASSWORD)).status_code == 200


async def test_a_made_up_token_is_refused(accounts: Accounts) -> None:
    response = await accounts.http.post(
        "/password-reset/confirm",
        json={"token": "A" * 43, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 400 and response.json()["code"] == "reset_link_invalid"


async def test_an_unknown_email_gets_the_same_answer_in_the_same_time(accounts: Accounts) -> None:
    await accounts.sign_up(email="connu@example.fr")
    known, unknown = [], []
    durations: dict[str, list[float]] = {"known": [], "unknown": []}
    for i in range(3):  # the per-email limit (3 per hour) is not reached
        for label, email, answers in (
            ("known", "connu@example.fr", known),
            ("unknown", "inconnu@example.fr", unknown),
        ):
            started = time.perf_counter()
            answers.append(await request_reset(accounts, email, client=f"203.0.113.{i}"))
            durations[label].append(time.perf_counter() - started)

    assert {comparable(r) for r in known} == {comparable(r) for r in unknown}
    assert known[0].status_code == 202
    # every answer waits for the floor (0.25 s here), whatever the account
    assert min(durations["known"] + durations["unknown"]) >= 0.25
    gap = abs(statistics.median(durations["known"]) - statistics.median(durations["unknown"]))
    assert gap < 0.05, durations
    # and only the existing account gets an email
    events = await accounts.published_of_type("PasswordResetRequested", count=3)
    assert [e.payload.email for e in events] == ["connu@example.fr"] * 3


async def test_reset_requests_are_limited_per_email_and_per_address(start) -> None:  # type: ignore[no-untyped-def]
    accounts: Accounts = await start(reset_limit_per_email=2, reset_limit_per_address=4)
    await accounts.sign_up(email="spam@example.fr")
    per_email = [
        await request_reset(accounts, "spam@example.fr", client=f"192.0.2.{i}") for i in range(4)
    ]
    # the answer never changes (it would reveal the account), but only two emails go out
    assert {comparable(r) for r in per_email} == {comparable(per_email[0])}
    await asyncio.sleep(1.0)
    events = await accounts.published_of_type("PasswordResetRequested", count=2)
    assert len(events) == 2

    from_one_address = [
        await request_reset(accounts, f"x{i}@example.fr", client="198.51.100.99") for i in range(5)
    ]
    assert [r.status_code for r in from_one_address] == [202, 202, 202, 202, 429]
    assert from_one_address[-1].json()["code"] == "too_many_requests"
    assert int(from_one_address[-1].headers["Retry-After"]) > 0
    other_address = await request_reset(accounts, "x9@example.fr", client="198.51.100.100")
    assert other_address.status_code == 202
