"""Email ownership: an account gets power over what was done with an address (guest orders in
its history, erasure by that address) only once a link sent to the address was followed."""

from typing import Any

import pytest
from jg_devstack.drivers import eventually
from jg_events import EmailProof, Envelope, OrderPlaced, Shipped

from .conftest import NEW_PASSWORD, OPERATOR, PASSWORD, Accounts, bearer, token_of
from .orders import TOPIC_OF, Order

pytestmark = pytest.mark.integration

OWNER = "helene.marchand@example.fr"


async def handled(accounts: Accounts, *events: Envelope[Any]) -> None:
    async def all_in_inbox() -> bool:
        async with accounts.pool.acquire() as conn:
            sql = "SELECT count(*) FROM messaging_inbox WHERE event_id = ANY($1::uuid[])"
            return await conn.fetchval(sql, [e.event_id for e in events]) == len(events)

    await eventually(all_in_inbox, what="the order events handled")


async def guest_order(accounts: Accounts, number: str, email: str) -> tuple[Order, list[Any]]:
    """A guest's order (no account), placed then shipped, as checkout and fulfillment say."""
    order = Order(None, number, email=email, first_name="Hélène", last_name="Marchand")
    sent = []
    for cls in (OrderPlaced, Shipped):
        sent += await accounts.feed(TOPIC_OF[cls], order.event(cls))
    return order, sent


async def history(accounts: Accounts, tokens: dict[str, Any]) -> dict[str, Any]:
    response = await accounts.http.get("/me/orders", headers=bearer(tokens))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def latest(accounts: Accounts, event_type: str, customer_id: str) -> Envelope[Any]:
    async def found() -> list[Envelope[Any]]:
        events = await accounts.published_of_type(event_type, timeout=5)
        return [e for e in events if str(e.payload.customer_id) == customer_id]

    return (await eventually(found, what=f"{event_type} published"))[-1]


async def test_someone_elses_address_gives_no_power_over_their_orders_until_they_prove_it(
    accounts: Accounts,
) -> None:
    # Hélène ordered as a guest (checkout keeps the address as she typed it).
    placed_as_guest, sent = await guest_order(
        accounts, "JG-2026-000501", "Helene.Marchand@Example.FR"
    )

    # Someone else signs up with her address: the sign-up works, the address is not proven.
    squatter = await accounts.sign_up(email=OWNER, first_name="Mallory", last_name="Intrus")
    assert squatter["customer"]["email_verified"] is False
    await handled(accounts, *sent)
    assert (await history(accounts, squatter))["total"] == 0
    detail = await accounts.http.get(f"/me/orders/{placed_as_guest.id}", headers=bearer(squatter))
    assert detail.status_code == 404

    # ... and asks for the account's erasure: the event says the address was never proven.
    erased = await accounts.http.post(
        "/me/erasure", headers=bearer(squatter), json={"current_password": PASSWORD}
    )
    assert erased.status_code == 202, erased.text
    squatter_id = squatter["customer"]["customer_id"]
    requested = await latest(accounts, "CustomerErasureRequested", squatter_id)
    assert requested.payload.email == OWNER and requested.payload.email_verified is False
    await latest(accounts, "CustomerErased", squatter_id)
    async with accounts.pool.acquire() as conn:
        kept = await conn.fetchrow(
            "SELECT customer_id FROM order_history WHERE order_id = $1", placed_as_guest.id
        )
    assert kept is not None and kept["customer_id"] is None  # Hélène's order is untouched

    # Hélène signs up herself: still nothing of hers until she follows the link.
    owner = await accounts.sign_up(email=OWNER, first_name="Hélène", last_name="Marchand")
    owner_id = owner["customer"]["customer_id"]
    assert (await history(accounts, owner))["total"] == 0
    registered = await latest(accounts, "CustomerRegistered", owner_id)
    assert "token=" not in registered.model_dump_json()  # sealed for notifications
    link = accounts.link(registered)
    assert link.startswith("https://www.japangoodz.com/mon-compte/verification-email?token=")

    confirmed = await accounts.http.post(
        "/email-verification/confirm", json={"token": token_of(link)}
    )
    assert confirmed.status_code == 200, confirmed.text
    assert "Mes commandes et factures" in confirmed.json()["message"]
    again = await accounts.http.post("/email-verification/confirm", json={"token": token_of(link)})
    assert again.status_code == 400 and again.json()["code"] == "verification_link_invalid"
    assert "n'est plus valide" in again.json()["message"]

    me = (await accounts.http.get("/me", headers=bearer(owner))).json()
    assert me["email_verified"] is True
    mine = await history(accounts, owner)
    assert [(o["order_number"], o["status"]) for o in mine["orders"]] == [
        ("JG-2026-000501", "shipped")
    ]
    verified = await latest(accounts, "CustomerEmailVerified", owner_id)
    assert verified.payload.proof is EmailProof.VERIFICATION_LINK
    assert verified.payload.email == OWNER

    # Her next guest order joins the history as it arrives.
    later, sent = await guest_order(accounts, "JG-2026-000502", OWNER)
    await handled(accounts, *sent)
    numbers = [o["order_number"] for o in (await history(accounts, owner))["orders"]]
    assert sorted(numbers) == ["JG-2026-000501", "JG-2026-000502"]

    # Her erasure carries the proof, and takes her guest orders with it.
    done = await accounts.http.post(
        "/me/erasure", headers=bearer(owner), json={"current_password": PASSWORD}
    )
    assert done.status_code == 202
    requested = await latest(accounts, "CustomerErasureRequested", owner_id)
    assert requested.payload.email_verified is True
    await latest(accounts, "CustomerErased", owner_id)
    async with accounts.pool.acquire() as conn:
        left = await conn.fetchval(
            "SELECT count(*) FROM order_history WHERE order_id = ANY($1::uuid[])",
            [placed_as_guest.id, later.id],
        )
    assert left == 0


async def test_the_link_expires_and_a_changed_address_voids_it(accounts: Accounts) -> None:
    tokens = await accounts.sign_up(email="avant@example.fr")
    customer_id = tokens["customer"]["customer_id"]
    first = accounts.link(await latest(accounts, "CustomerRegistered", customer_id))
    async with accounts.pool.acquire() as conn:
        await conn.execute("UPDATE email_verifications SET expires_at = now() - interval '1 s'")
    late = await accounts.http.post("/email-verification/confirm", json={"token": token_of(first)})
    assert late.status_code == 400 and late.json()["code"] == "verification_link_invalid"

    resent = await accounts.http.post("/me/email-verification", headers=bearer(tokens))
    assert resent.status_code == 202, resent.text
    assert "avant@example.fr" in resent.json()["message"]
    second = accounts.link(await latest(accounts, "EmailVerificationRequested", customer_id))

    # The customer moves to another address before following it: the link proves nothing now.
    asked = await accounts.http.post(
        "/me/email",
        headers=bearer(tokens),
        json={"new_email": "apres@example.fr", "current_password": PASSWORD},
    )
    assert asked.status_code == 202
    change = accounts.link(await latest(accounts, "EmailChangeRequested", customer_id))
    changed = await accounts.http.post("/email-change/confirm", json={"token": token_of(change)})
    assert changed.status_code == 200, changed.text
    # ... and the email-change link, followed from the new mailbox, proved the new address.
    assert changed.json()["email"] == "apres@example.fr"
    assert changed.json()["email_verified"] is True
    verified = await latest(accounts, "CustomerEmailVerified", customer_id)
    assert verified.payload.proof is EmailProof.EMAIL_CHANGE_LINK
    assert verified.payload.email == "apres@example.fr"
    stale = await accounts.http.post(
        "/email-verification/confirm", json={"token": token_of(second)}
    )
    assert stale.status_code == 400


async def test_a_new_link_can_be_asked_for_a_few_times_only(start: Any) -> None:
    accounts: Accounts = await start(email_verification_resend_limit=2)
    tokens = await accounts.sign_up(email="patient@example.fr")
    answers = [
        (await accounts.http.post("/me/email-verification", headers=bearer(tokens)))
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [202, 202, 429]
    refused = answers[-1]
    assert refused.json()["code"] == "too_many_requests"
    assert "plusieurs liens de vérification" in refused.json()["message"]
    assert "Veuillez réessayer dans" in refused.json()["message"]
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    customer_id = tokens["customer"]["customer_id"]
    sent = await accounts.published_of_type("EmailVerificationRequested", count=2)
    assert len([e for e in sent if str(e.payload.customer_id) == customer_id]) == 2

    # once the address is proven there is nothing to send
    link = accounts.link(sent[-1])
    ok = await accounts.http.post("/email-verification/confirm", json={"token": token_of(link)})
    assert ok.status_code == 200
    already = await accounts.http.post("/me/email-verification", headers=bearer(tokens))
    assert already.status_code == 409 and already.json()["code"] == "email_already_verified"


async def test_a_followed_password_reset_link_proves_the_address_too(accounts: Accounts) -> None:
    order, sent = await guest_order(accounts, "JG-2026-000601", "oublieuse@example.fr")
    tokens = await accounts.sign_up(email="oublieuse@example.fr")
    customer_id = tokens["customer"]["customer_id"]
    await handled(accounts, *sent)
    assert (await history(accounts, tokens))["total"] == 0

    assert (
        await accounts.http.post("/password-reset", json={"email": "oublieuse@example.fr"})
    ).status_code == 202
    reset = await latest(accounts, "PasswordResetRequested", customer_id)
    confirmed = await accounts.http.post(
        "/password-reset/confirm",
        json={"token": token_of(accounts.link(reset)), "new_password": NEW_PASSWORD},
    )
    assert confirmed.status_code == 200, confirmed.text
    session = confirmed.json()
    assert session["customer"]["email_verified"] is True
    assert [o["order_number"] for o in (await history(accounts, session))["orders"]] == [
        order.number
    ]
    verified = await latest(accounts, "CustomerEmailVerified", customer_id)
    assert verified.payload.proof is EmailProof.PASSWORD_RESET_LINK


async def test_customer_service_erasure_says_whether_the_address_was_proven(
    accounts: Accounts,
) -> None:
    tokens = await accounts.sign_up(email="service@example.fr")
    response = await accounts.http.post(
        "/erasure-requests",
        headers={"Authorization": f"Bearer {OPERATOR}"},
        json={
            "email": "service@example.fr",
            "customer_number": tokens["customer"]["customer_number"],
        },
    )
    assert response.status_code == 202
    requested = await latest(
        accounts, "CustomerErasureRequested", tokens["customer"]["customer_id"]
    )
    assert requested.payload.email_verified is False
