"""FAQ, « Mon compte client »: changing one's name, email and password, the forgotten password
and the deletion of personal data, as the customer (and customer service, for a deletion asked
by email) goes through them; and what an account may do with an address it has not proven."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
from jg_devstack.drivers import Accounts, Mailbox, Shop, Storefront, eventually, plain, unique_email
from jg_devstack.kafka_records import read_topic
from jg_devstack.launcher import Platform
from jg_events import Envelope, Topic, parse, topic_name

PASSWORD = "Kintsugi-Bol-2026!"
NEW_PASSWORD = "Furoshiki-Vague-7788"


def link_token(text: str) -> str:
    """The token of the single link in an email's text."""
    (link,) = [line for line in text.splitlines() if "token=" in line]
    return parse_qs(urlsplit(link.strip()).query)["token"][0]


async def customers_topic(platform: Platform) -> list[bytes]:
    """Every message on jg.accounts.customers, as any service allowed to read it gets it."""
    topic = topic_name(Topic.ACCOUNTS_CUSTOMERS, platform.config.topic_prefix)
    records = await read_topic(platform.stack.kafka_bootstrap, topic, count=1, settle=1.0)
    return [bytes(r.value) for r in records]


async def published(platform: Platform, event_type: str, customer_id: str) -> Envelope[Any]:
    """The latest ``event_type`` accounts published about the customer (read from Kafka)."""

    async def found() -> list[Envelope[Any]]:
        events = [parse(value) for value in await customers_topic(platform)]
        return [
            e for e in events if e.type == event_type and str(e.payload.customer_id) == customer_id
        ]

    return (await eventually(found, what=f"{event_type} on jg.accounts.customers"))[-1]


async def accounts_outbox(platform: Platform) -> list[bytes]:
    conn = await asyncpg.connect(platform.config.databases["accounts"])
    try:
        return [bytes(r["body"]) for r in await conn.fetch("SELECT body FROM messaging_outbox")]
    finally:
        await conn.close()


async def welcome_link(mailbox: Mailbox, email: str, nth: int = 1) -> str:
    """The token of the verification link in the ``nth`` welcome email to ``email``."""
    messages = await eventually(
        lambda: mailbox.inbox(email),
        lambda found: len([m for m in found if "Bienvenue" in m["Subject"]]) >= nth,
        f"welcome email n° {nth} to {email}",
    )
    welcome = [m for m in messages if "Bienvenue" in m["Subject"]][nth - 1]
    text = plain((await mailbox.message(welcome["ID"]))["Text"])
    assert "est bien la vôtre" in text
    return link_token(text)


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
    platform: Platform, accounts: Accounts, mailbox: Mailbox
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
    # The link went to the mailbox only: checkout, payment and fulfillment read this topic, and
    # accounts' outbox keeps a copy of every event for days; neither holds the token.
    messages = await customers_topic(platform)
    assert any(b'"PasswordResetRequested"' in value for value in messages)
    assert not [value for value in messages if token.encode() in value]
    assert not [body for body in await accounts_outbox(platform) if token.encode() in body]

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
    # She confirms her address from the welcome email.
    assert (await accounts.verify_email(await welcome_link(mailbox, email))).status_code == 200
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
    requested = await published(
        platform, "CustomerErasureRequested", session["customer"]["customer_id"]
    )
    assert requested.payload.email_verified is True  # the others may erase by her address

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


async def test_an_address_one_has_not_proven_gives_no_power_over_its_orders(
    platform: Platform, shop: Shop, accounts: Accounts, mailbox: Mailbox
) -> None:
    email = unique_email("ines")
    # Inès orders as a guest.
    guest_order = await shop.paid_order(
        email, [("MATCHA-KYOTO-100", 1)], first_name="Inès", last_name="Garnier"
    )

    # Someone else signs up with her address, and orders as a customer.
    squatter = await accounts.sign_up(email, PASSWORD, "Mallory", "Intrus")
    token = squatter["access_token"]
    assert squatter["customer"]["email_verified"] is False
    own_order = await shop.paid_order(
        email, [("FUROSHIKI-SAKURA", 1)], as_customer=token, first_name="Mallory"
    )
    listed = await eventually(
        lambda: accounts.orders(token), lambda h: h["total"] >= 1, "the squatter's own order"
    )
    assert [o["order_id"] for o in listed["orders"]] == [own_order["id"]]  # not Inès's
    assert (await accounts.order(token, guest_order["id"])).status_code == 404

    # ... then asks for the erasure of "their" account: published as not proven.
    assert (await accounts.erase(token, PASSWORD)).status_code == 202
    requested = await published(
        platform, "CustomerErasureRequested", squatter["customer"]["customer_id"]
    )
    assert requested.payload.email == email and requested.payload.email_verified is False
    await mailbox.wait_for(email, "Votre compte JapanGoodz a été supprimé")
    squatters_link = await welcome_link(mailbox, email, nth=1)  # the one Inès ignored

    # Inès signs up herself and follows the link of her own welcome email.
    session = await accounts.sign_up(email, PASSWORD, "Inès", "Garnier")
    mine = session["access_token"]
    assert (await accounts.orders(mine))["total"] == 0  # nothing before the proof
    assert (await accounts.verify_email(squatters_link)).status_code == 400  # erased with it
    verified = await accounts.verify_email(await welcome_link(mailbox, email, nth=2))
    assert verified.status_code == 200, verified.text
    history = await eventually(
        lambda: accounts.orders(mine), lambda h: h["total"] == 1, "her guest order"
    )
    assert [o["order_id"] for o in history["orders"]] == [guest_order["id"]]

    # Her own erasure says the address is hers.
    assert (await accounts.erase(mine, PASSWORD)).status_code == 202
    hers = await published(platform, "CustomerErasureRequested", session["customer"]["customer_id"])
    assert hers.payload.email_verified is True
