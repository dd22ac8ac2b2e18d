"""Hostile input never reaches PostgreSQL or the password hash: 422 with the field named.

Before jg_web's text rule, a lone surrogate in a name or a password, or a NUL byte in a billing
address (jsonb refuses \\u0000), answered 500; ``country_code: "XX"`` was stored.
"""

import json
import uuid
from typing import Any

import pytest

from .conftest import PASSWORD, Accounts, bearer

pytestmark = pytest.mark.integration

ADDRESS = {
    "first_name": "Camille",
    "last_name": "Durand",
    "line1": "12 rue des Lilas",
    "postal_code": "69003",
    "city": "Lyon",
    "country_code": "FR",
}


def sign_up_body(**changes: str) -> dict[str, str]:
    return {
        "email": f"camille.{uuid.uuid4().hex[:8]}@example.fr",
        "password": PASSWORD,
        "first_name": "Camille",
        "last_name": "Durand",
        **changes,
    }


def details_of(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["code"] == "validation_error"
    return {d["field"]: d["message"] for d in answer["details"]}


async def raw_post(accounts: Accounts, path: str, text: str, **kwargs: Any) -> Any:
    """Post JSON text as written (json= would not carry a lone surrogate escape)."""
    headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
    return await accounts.http.post(path, content=text.encode(), headers=headers, **kwargs)


async def customers(accounts: Accounts) -> int:
    return await accounts.pool.fetchval("SELECT count(*) FROM customers")


async def test_sign_up_refuses_nul_controls_and_lone_surrogates_in_names_and_passwords(
    accounts: Accounts,
) -> None:
    for field, value, reason in [
        ("first_name", "Ca\x00mille", "Caractères non autorisés"),  # clean_name's own check
        ("last_name", "Dur\x9band", "caractère de contrôle"),
        ("password", "Kintsugi-Tasse-42\x1b", "caractère de contrôle"),
    ]:
        details = details_of(
            await accounts.http.post("/customers", json=sign_up_body(**{field: value}))
        )
        assert reason in details[field], (field, details)

    for field in ("first_name", "last_name", "password"):
        body = json.dumps(sign_up_body(**{field: "LONE-SURROGATE"}))
        response = await raw_post(
            accounts, "/customers", body.replace("LONE-SURROGATE", "Kin\\ud800tsugi-Tasse-42")
        )
        assert details_of(response)[field] == "Ce champ contient un caractère Unicode invalide."
    assert await customers(accounts) == 0


async def test_login_refuses_a_password_that_cannot_be_hashed_and_takes_any_other(
    accounts: Accounts,
) -> None:
    tokens = await accounts.sign_up()
    email = tokens["customer"]["email"]
    body = json.dumps({"email": email, "password": "LONE"}).replace("LONE", "abc\\udfffdef")
    details = details_of(await raw_post(accounts, "/login", body))
    assert details["password"] == "Ce champ contient un caractère Unicode invalide."
    # any other character is the password's business: a wrong one is just wrong
    wrong = await accounts.login(email, "Kintsugi\x01Tasse-42")
    assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_credentials")
    assert (await accounts.login(email)).status_code == 200


async def test_a_billing_address_is_checked_field_by_field(accounts: Accounts) -> None:
    tokens = await accounts.sign_up()
    for changes, field, reason in [
        ({"line1": "12 rue des\x00 Lilas"}, "billing_address.line1", "caractère nul"),
        ({"city": "Lyon\x07"}, "billing_address.city", "caractère de contrôle"),
        ({"company": "JG\nSAS"}, "billing_address.company", "une ligne"),
        ({"postal_code": "69\x0003"}, "billing_address.postal_code", "caractère nul"),
    ]:
        response = await accounts.http.patch(
            "/me", headers=bearer(tokens), json={"billing_address": {**ADDRESS, **changes}}
        )
        assert reason in details_of(response)[field], (changes, response.text)
    me = await accounts.http.get("/me", headers=bearer(tokens))
    assert me.json()["billing_address"] is None


async def test_a_billing_address_must_be_in_a_country_we_serve(accounts: Accounts) -> None:
    tokens = await accounts.sign_up()

    async def change(country: str, **extra: str) -> Any:
        address = {**ADDRESS, "country_code": country, **extra}
        return await accounts.http.patch(
            "/me", headers=bearer(tokens), json={"billing_address": address}
        )

    assert details_of(await change("XX")) == {
        "billing_address.country_code": "« XX » n'est pas un code de pays ISO 3166-1 (par "
        "exemple « FR » pour la France)."
    }
    assert details_of(await change("US", postal_code="10001")) == {
        "billing_address.country_code": "Nous ne livrons pas dans ce pays (« US ») : nous "
        "livrons en France, à Monaco et dans les autres pays de l'Union européenne."
    }
    assert (await accounts.http.get("/me", headers=bearer(tokens))).json()[
        "billing_address"
    ] is None

    germany = await change("DE", postal_code="10115", city="Berlin")
    assert germany.status_code == 200, germany.text
    assert germany.json()["billing_address"]["country_code"] == "DE"
    france = await change("FR")
    assert france.json()["billing_address"]["country_code"] == "FR"


async def test_the_accepted_countries_are_a_setting(start: Any) -> None:
    accounts = await start(countries="FR,RE")
    tokens = await accounts.sign_up()
    reunion = {**ADDRESS, "country_code": "RE", "postal_code": "97400", "city": "Saint-Denis"}
    response = await accounts.http.patch(
        "/me", headers=bearer(tokens), json={"billing_address": reunion}
    )
    assert response.status_code == 200, response.text
    refused = await accounts.http.patch(
        "/me", headers=bearer(tokens), json={"billing_address": {**ADDRESS, "country_code": "DE"}}
    )
    assert "France, La Réunion" in details_of(refused)["billing_address.country_code"]


async def test_a_query_parameter_with_a_nul_byte_is_named(accounts: Accounts) -> None:
    tokens = await accounts.sign_up()
    response = await accounts.http.get("/me/orders?limit=5&cursor=a%00b", headers=bearer(tokens))
    assert details_of(response) == {
        "query.cursor": "Ce champ contient un caractère nul, qui n'est pas accepté."
    }
