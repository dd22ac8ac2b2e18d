"""Sign-up, login, tokens other services can verify, sessions."""

import re
from uuid import UUID

import httpx
import pytest
from jg_auth import TokenError, TokenErrorReason, TokenVerifier

from .conftest import AUDIENCE, ISSUER, PASSWORD, Accounts, bearer

pytestmark = pytest.mark.integration


async def test_a_customer_signs_up_gets_a_number_and_is_logged_in(accounts: Accounts) -> None:
    tokens = await accounts.sign_up(email="  Camille.Durand@Example.FR ")
    customer = tokens["customer"]
    assert re.fullmatch(r"C-\d{6}", customer["customer_number"])
    assert customer["email"] == "camille.durand@example.fr"
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900

    me = await accounts.http.get("/me", headers=bearer(tokens))
    assert me.status_code == 200
    assert me.json()["customer_number"] == customer["customer_number"]

    [registered] = await accounts.published_of_type("CustomerRegistered")
    assert registered.payload.customer_id == UUID(customer["customer_id"])
    assert registered.payload.customer_number == customer["customer_number"]
    assert registered.payload.email == "camille.durand@example.fr"
    assert registered.key == customer["customer_id"]
    assert PASSWORD not in registered.model_dump_json()


async def test_the_same_email_cannot_open_two_accounts(accounts: Accounts) -> None:
    await accounts.sign_up(email="aiko@example.jp")
    again = await accounts.http.post(
        "/customers",
        json={
            "email": "AIKO@example.jp",
            "password": PASSWORD,
            "first_name": "A",
            "last_name": "B",
        },
    )
    assert again.status_code == 409
    assert again.json()["code"] == "email_taken"


async def test_a_weak_password_or_bad_email_is_refused_field_by_field(accounts: Accounts) -> None:
    response = await accounts.http.post(
        "/customers",
        json={
            "email": "pas-une-adresse",
            "password": "azerty",
            "first_name": " ",
            "last_name": "Durand",
        },
    )
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["details"]}
    assert fields == {"email", "first_name"}
    weak = await accounts.http.post(
        "/customers",
        json={
            "email": "ok@example.fr",
            "password": "azerty",
            "first_name": "Camille",
            "last_name": "Durand",
        },
    )
    assert weak.status_code == 422
    assert weak.json()["code"] == "password_policy"
    assert {d["rule"] for d in weak.json()["details"]} >= {"too_short", "common"}


async def test_login_gives_a_token_another_service_verifies_with_the_jwks(
    accounts: Accounts,
) -> None:
    signed_up = await accounts.sign_up(email="hiro@example.jp")
    response = await accounts.login("Hiro@Example.JP")
    assert response.status_code == 200, response.text
    tokens = response.json()

    # What checkout/payment/fulfillment do: fetch the JWKS over HTTP, verify offline.
    verifier = TokenVerifier(
        jwks_url="http://accounts.test/.well-known/jwks.json",
        issuer=ISSUER,
        audience=AUDIENCE,
        transport=httpx.ASGITransport(app=accounts.app),
    )
    claims = await verifier.verify(tokens["access_token"])
    assert claims.customer_id == UUID(signed_up["customer"]["customer_id"])
    assert claims.session_id == UUID(tokens["session_id"])
    assert claims.email == "hiro@example.jp"

    other_audience = TokenVerifier(
        jwks=(await accounts.http.get("/.well-known/jwks.json")).json(),
        issuer=ISSUER,
        audience="someone-else",
    )
    with pytest.raises(TokenError) as caught:
        await other_audience.verify(tokens["access_token"])
    assert caught.value.reason is TokenErrorReason.WRONG_AUDIENCE


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    accounts: Accounts,
) -> None:
    await accounts.sign_up(email="yuki@example.jp")
    wrong = await accounts.login("yuki@example.jp", "Pas-le-bon-mot-2026")
    unknown = await accounts.login("nobody@example.jp", "Pas-le-bon-mot-2026")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "invalid_credentials"


async def test_the_signing_key_survives_a_restart(start, make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    first = await start(database_url=settings.database_url.get_secret_value())
    tokens = await first.sign_up(email="kenji@example.jp")
    jwks = (await first.http.get("/.well-known/jwks.json")).json()
    second = await start(database_url=settings.database_url.get_secret_value())
    assert (await second.http.get("/.well-known/jwks.json")).json() == jwks
    assert (await second.http.get("/me", headers=bearer(tokens))).status_code == 200


async def test_refresh_tokens_renew_the_session_once_each_and_logout_ends_it(
    accounts: Accounts,
) -> None:
    tokens = await accounts.sign_up()
    renewed = await accounts.http.post(
        "/sessions/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert renewed.status_code == 200
    assert renewed.json()["session_id"] == tokens["session_id"]
    reused = await accounts.http.post(
        "/sessions/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert reused.status_code == 401

    valid = await accounts.http.get("/sessions/validate", headers=bearer(renewed.json()))
    assert valid.status_code == 200 and valid.json()["session_id"] == tokens["session_id"]
    assert (await accounts.http.post("/logout", headers=bearer(renewed.json()))).status_code == 204
    after = await accounts.http.get("/sessions/validate", headers=bearer(renewed.json()))
    assert after.status_code == 401
    assert after.json()["code"] == "session_ended"
    again = await accounts.http.post(
        "/sessions/refresh", json={"refresh_token": renewed.json()["refresh_token"]}
    )
    assert again.status_code == 401
