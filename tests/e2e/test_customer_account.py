"""FAQ, « Mon compte client »: changing one's name, email and password, the forgotten password
and the deletion of personal data, as the customer (and customer service, for a deletion asked
by email) goes through them."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from jg_devstack.drivers import Accounts, Mailbox, Shop, Storefront, eventually, plain, unique_email
from jg_devstack.launcher import Platform

PASSWORD = "Kintsugi-Bol-2026!"
NEW_PASSWORD = "Furoshiki-Vague-7788"


def link_token(text: str) -> str:
    """The token of the single link in an email's text."""
    (link,) = [line for line in text.splitlines() if "token=" in line]
    return parse_qs(urlsplit(link.strip()).query)["token"][0]


async def test_name_email_and_password_are_changed_in_the_customer_space(
    accounts: Accounts, mailbox: Mailbox
) -> None:
    email = unique_email("julie")
    session = await accounts.sign_up(email, PASSWORD, "Julie", "Roux")
    token = session["access_token"]
    bearer = accounts.bearer(token)

    renamed = await accounts.http.patch(
        "/me",
        headers=bearer,
        json={
            "last_name": "Roux-Garnier",
            "billing_address": {
                "first_name": "Julie",
                "last_name": "Roux-Garnier",
                "line1": "5 rue Mercière",
                "postal_code": "69002",
                "city": "Lyon",
                "country_code": "FR",
            },
        },
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["last_name"] == "Roux-Garnier"
    assert renamed.json()["billing_address"]["line1"] == "5 rue Mercière"

    # A new address: confirmed from a link sent to it; the old address is told afterwards.
    new_email = unique_email("julie.rg")
    asked = await accounts.http.post(
        "/me/email", headers=bearer, json={"new_email": new_email, "current_password": PASSWORD}
    )
    assert asked.status_code == 202, asked.text
    assert (await accounts.me(token)).json()["email"] == email  # unchanged until confirmed
    link = await mailbox.wait_for(new_email, "Confirmez votre nouvelle adresse")
    confirmed = await accounts.http.post(
        "/email-change/confirm", json={"token": link_token(plain(link["Text"]))}
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email"] == new_email
    notice = await mailbox.wait_for(email, "a été modifiée")
    assert new_email in plain(notice["Text"])

    changed = await accounts.http.post(
        "/me/password",
        headers=bearer,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 204, changed.text
    await mailbox.wait_for(new_email, "Votre mot de passe JapanGoodz a été modifié")
    assert (await accounts.login(new_email, PASSWORD)).status_code == 401
    again = await accounts.login(new_email, NEW_PASSWORD)
    assert again.status_code == 200
    assert again.json()["customer"]["last_name"] == "Roux-Garnier"


async def test_a_forgotten_password_is_reset_through_a_link_that_works_once(
    accounts: Accounts, mailbox: Mailbox
) -> None:
    email = unique_email("chloe")
    await accounts.sign_up(email, PASSWORD, "Chloé", "Bernard")

    asked = await accounts.http.post("/password-reset", json={"email": email})
    stranger = await accounts.http.post("/password-reset", json={"email": unique_email("nobody")})
    assert asked.status_code == stranger.status_code == 202
    assert asked.json() == stranger.json()  # the answer tells nothing about the account

    message = await mailbox.wait_for(email, "Réinitialisation de votre mot de passe")
    text = plain(message["Text"])
    token = link_token(text)
    assert "qu'une seule fois" in text
    assert "« Courrier indésirable » ou « Spams »" in text

    confirmed = await accounts.http.post(
        "/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert confirmed.status_code == 200, confirmed.text
    me = await accounts.me(confirmed.json()["access_token"])  # logged in with the new password
    assert me.status_code == 200 and me.json()["email"] == email

    assert (await accounts.login(email, PASSWORD)).status_code == 401
    assert (await accounts.login(email, NEW_PASSWORD)).status_code == 200
    again = await accounts.http.post(
        "/password-reset/confirm", json={"token": token, "new_password": "Autre-Mot-De-Passe-42"}
    )
    assert again.status_code == 400
    assert again.json()["code"] == "reset_link_invalid"
    assert (await accounts.login(email, NEW_PASSWORD)).status_code == 200


async def test_an_account_deleted_on_request_leaves_nothing_in_the_customer_space(
    platform: Platform,
    shop: Shop,
    accounts: Accounts,
    mailbox: Mailbox,
    storefront: Storefront,
) -> None:
    email = unique_email("emma")
    session = await accounts.sign_up(email, PASSWORD, "Emma", "Lefèvre")
    token = session["access_token"]
    customer_number = session["customer"]["customer_number"]
    order = await shop.paid_order(
        email, [("YUKATA-INDIGO-M", 1)], as_customer=token, first_name="Emma", last_name="Lefèvre"
    )

    async def history() -> dict[str, Any]:
        return await accounts.orders(token)

    await eventually(history, lambda h: h["total"] == 1, "the order in « Mes commandes »")

    # As the FAQ says: the customer writes to contact@ with their email and customer number,
    # and customer service files the request.
    operator = {"Authorization": f"Bearer {platform.secrets.accounts_operator}"}
    async with httpx.AsyncClient(base_url=platform.url("accounts"), timeout=15) as client:
        wrong = await client.post(
            "/erasure-requests",
            headers=operator,
            json={"email": email, "customer_number": "C-999999"},
        )
        assert wrong.status_code == 404  # the number must match the address
        filed = await client.post(
            "/erasure-requests",
            headers=operator,
            json={"email": email, "customer_number": customer_number},
        )
    assert filed.status_code == 202, filed.text

    received = await mailbox.wait_for(email, "demande de suppression de compte")
    assert customer_number in plain(received["Text"])
    done = await mailbox.wait_for(email, "Votre compte JapanGoodz a été supprimé")
    assert "factures" in plain(done["Text"])  # kept ten years, the rest is gone

    # The customer space is gone: no login, the old session refused.
    assert (await accounts.login(email, PASSWORD)).status_code == 401
    assert (await accounts.me(token)).status_code == 401
    old_history = await accounts.http.get("/me/orders", headers=accounts.bearer(token))
    assert old_history.status_code == 401
    # A new account with the same address starts empty: nothing of the old one comes back.
    fresh = await accounts.sign_up(email, PASSWORD, "Emma", "Lefèvre")
    assert fresh["customer"]["customer_number"] != customer_number
    assert (await accounts.orders(fresh["access_token"]))["total"] == 0
    # The shop's own copy of the order no longer names her.
    seen = await eventually(
        lambda: storefront.order(order["id"]),
        lambda o: email not in json.dumps(o),
        "the order pseudonymised at checkout",
    )
    assert "Lefèvre" not in json.dumps(seen, ensure_ascii=False)
