"""'Informations et adresse de facturation': name, billing address, email, password."""

from typing import Any

import pytest
from jg_events import CustomerField

from .conftest import NEW_PASSWORD, PASSWORD, Accounts, bearer, token_of

pytestmark = pytest.mark.integration

ADDRESS = {
    "first_name": "Camille",
    "last_name": "Durand",
    "line1": "12 rue des Lilas",
    "postal_code": "69003",
    "city": "Lyon",
    "country_code": "FR",
    "phone": "+33612345678",
}


async def test_name_and_billing_address_changes_are_kept_and_announced(
    accounts: Accounts,
) -> None:
    tokens = await accounts.sign_up()
    response = await accounts.http.patch(
        "/me", headers=bearer(tokens), json={"last_name": "Martin", "billing_address": ADDRESS}
    )
    assert response.status_code == 200, response.text
    profile = response.json()
    assert profile["last_name"] == "Martin" and profile["first_name"] == "Camille"
    assert profile["billing_address"]["city"] == "Lyon"
    assert (await accounts.http.get("/me", headers=bearer(tokens))).json() == profile

    unchanged = await accounts.http.patch(
        "/me", headers=bearer(tokens), json={"first_name": "Camille"}
    )
    assert unchanged.status_code == 200

    [updated] = await accounts.published_of_type("CustomerUpdated")
    assert set(updated.payload.changed_fields) == {
        CustomerField.LAST_NAME,
        CustomerField.BILLING_ADDRESS,
    }
    assert updated.payload.last_name == "Martin"
    assert updated.payload.billing_address.phone == "+33612345678"

    removed = await accounts.http.patch(
        "/me", headers=bearer(tokens), json={"billing_address": None}
    )
    assert removed.json()["billing_address"] is None
    blank = await accounts.http.patch("/me", headers=bearer(tokens), json={"first_name": None})
    assert blank.status_code == 422


async def test_profile_needs_a_valid_token(accounts: Accounts) -> None:
    assert (await accounts.http.get("/me")).status_code == 401
    bad = await accounts.http.get("/me", headers={"Authorization": "Bearer abc.def.ghi"})
    assert bad.status_code == 401 and bad.json()["code"] == "token_malformed"


async def test_an_email_change_is_confirmed_from_the_new_mailbox_once(accounts: Accounts) -> None:
    tokens = await accounts.sign_up(email="old@example.fr")
    wrong = await accounts.http.post(
        "/me/email",
        headers=bearer(tokens),
        json={"new_email": "new@example.fr", "current_password": "Pas-le-bon-2026"},
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "wrong_password"

    asked = await accounts.http.post(
        "/me/email",
        headers=bearer(tokens),
        json={"new_email": " New@Example.fr ", "current_password": PASSWORD},
    )
    assert asked.status_code == 202, asked.text
    assert "new@example.fr" in asked.json()["message"]
    me = (await accounts.http.get("/me", headers=bearer(tokens))).json()
    assert (me["email"], me["pending_email"]) == ("old@example.fr", "new@example.fr")
    # nothing changes before the new mailbox confirms
    assert (await accounts.login("old@example.fr")).status_code == 200

    [requested] = await accounts.published_of_type("EmailChangeRequested")
    assert requested.payload.email == "old@example.fr"
    assert requested.payload.new_email == "new@example.fr"
    assert accounts.link(requested).startswith(
        "https://www.japangoodz.com/mon-compte/confirmation-email?token="
    )
    token = token_of(accounts.link(requested))

    confirmed = await accounts.http.post("/email-change/confirm", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email"] == "new@example.fr"
    assert confirmed.json()["pending_email"] is None
    again = await accounts.http.post("/email-change/confirm", json={"token": token})
    assert again.status_code == 400 and again.json()["code"] == "email_link_invalid"

    assert (await accounts.login("new@example.fr")).status_code == 200
    assert (await accounts.login("old@example.fr")).status_code == 401

    [updated] = await accounts.published_of_type("CustomerUpdated")
    assert updated.payload.changed_fields == (CustomerField.EMAIL,)
    assert (updated.payload.email, updated.payload.previous_email) == (
        "new@example.fr",
        "old@example.fr",
    )


async def test_an_address_already_used_by_another_account_cannot_be_taken(
    accounts: Accounts,
) -> None:
    await accounts.sign_up(email="taken@example.fr")
    tokens = await accounts.sign_up(email="mine@example.fr")
    response = await accounts.http.post(
        "/me/email",
        headers=bearer(tokens),
        json={"new_email": "taken@example.fr", "current_password": PASSWORD},
    )
    assert response.status_code == 409 and response.json()["code"] == "email_taken"


async def test_a_password_change_needs_the_current_one_and_ends_the_other_sessions(
    accounts: Accounts,
) -> None:
    email = "sessions@example.fr"
    here = await accounts.sign_up(email=email)
    elsewhere: dict[str, Any] = (await accounts.login(email)).json()

    wrong = await accounts.http.post(
        "/me/password",
        headers=bearer(here),
        json={"current_password": "Pas-le-bon-2026", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 403
    weak = await accounts.http.post(
        "/me/password",
        headers=bearer(here),
        json={"current_password": PASSWORD, "new_password": "sessions2026"},
    )
    assert weak.status_code == 422
    assert {d["rule"] for d in weak.json()["details"]} >= {"personal"}

    changed = await accounts.http.post(
        "/me/password",
        headers=bearer(here),
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 204, changed.text

    assert (await accounts.http.get("/me", headers=bearer(here))).status_code == 200
    ended = await accounts.http.get("/me", headers=bearer(elsewhere))
    assert ended.status_code == 401 and ended.json()["code"] == "session_ended"
    refresh = await accounts.http.post(
        "/sessions/refresh", json={"refresh_token": elsewhere["refresh_token"]}
    )
    assert refresh.status_code == 401
    assert (await accounts.login(email, PASSWORD)).status_code == 401
    assert (await accounts.login(email, NEW_PASSWORD)).status_code == 200

    [updated] = await accounts.published_of_type("CustomerUpdated")
    assert updated.payload.changed_fields == (CustomerField.PASSWORD,)
    body = updated.model_dump_json()
    assert PASSWORD not in body and NEW_PASSWORD not in body and "argon2" not in body
