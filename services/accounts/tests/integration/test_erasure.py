"""GDPR erasure: on the customer's or customer service's request, accounts forgets the person."""

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from accounts import repository
from jg_devstack.drivers import eventually
from jg_events import CustomerErasureRequested, ErasureRequestedBy, OrderPlaced, Shipped, Topic

from .conftest import OPERATOR, PASSWORD, Accounts, bearer, token_of
from .orders import Order

pytestmark = pytest.mark.integration

# ASCII on purpose: a JSON body could escape accented letters and hide them from the search.
EMAIL = "seraphine.vautrin@example.fr"
NEW_EMAIL = "s.vautrin-ogawa@example.org"
FIRST, LAST = "Seraphine", "Vautrin-Ogawa"
PHONE, STREET, CITY = "+33698765432", "7 impasse des Glycines", "Annecy-le-Vieux"
PERSONAL = [EMAIL, NEW_EMAIL, FIRST, LAST, PHONE, STREET, CITY]


async def personal_data_left(pool: asyncpg.Pool, needles: list[str]) -> list[str]:
    """Every ``table: value`` of the whole database that still contains one of ``needles``."""
    found = []
    async with pool.acquire() as conn:
        tables = await conn.fetch(
            """SELECT table_name FROM information_schema.tables
               WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"""
        )
        for table in (t["table_name"] for t in tables):
            for row in await conn.fetch(f'SELECT * FROM "{table}"'):  # noqa: S608
                for value in row.values():
                    text = (
                        value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                    ).lower()
                    found += [f"{table}: {n}" for n in needles if n.lower() in text]
    return found


async def a_customer_with_everything(accounts: Accounts) -> dict[str, Any]:
    """Profile, billing address, an order, a pending email change and a reset link."""
    tokens = await accounts.sign_up(email=EMAIL, first_name=FIRST, last_name=LAST)
    address = {
        "first_name": FIRST,
        "last_name": LAST,
        "line1": STREET,
        "postal_code": "74940",
        "city": CITY,
        "country_code": "FR",
        "phone": PHONE,
    }
    patched = await accounts.http.patch(
        "/me", headers=bearer(tokens), json={"billing_address": address}
    )
    assert patched.status_code == 200
    asked = await accounts.http.post(
        "/me/email",
        headers=bearer(tokens),
        json={"new_email": NEW_EMAIL, "current_password": PASSWORD},
    )
    assert asked.status_code == 202
    assert (await accounts.http.post("/password-reset", json={"email": EMAIL})).status_code == 202
    order = Order(
        tokens["customer"]["customer_id"],
        "JG-2026-000777",
        email=EMAIL,
        first_name=FIRST,
        last_name=LAST,
    )
    await accounts.feed(Topic.CHECKOUT_ORDERS, order.event(OrderPlaced))

    async def listed() -> bool:
        response = await accounts.http.get("/me/orders", headers=bearer(tokens))
        return response.json()["total"] == 1

    await eventually(listed)
    # and the published events were relayed (the outbox holds them until purged)
    await accounts.published_of_type("PasswordResetRequested")
    return tokens | {"order": order}


async def test_a_customer_erasure_leaves_no_name_email_phone_or_address(
    accounts: Accounts,
) -> None:
    tokens = await a_customer_with_everything(accounts)
    assert await personal_data_left(accounts.pool, PERSONAL)  # the search does find them

    wrong = await accounts.http.post(
        "/me/erasure", headers=bearer(tokens), json={"current_password": "Pas-le-bon-2026"}
    )
    assert wrong.status_code == 403
    response = await accounts.http.post(
        "/me/erasure", headers=bearer(tokens), json={"current_password": PASSWORD}
    )
    assert response.status_code == 202, response.text
    assert response.json()["customer_number"] == tokens["customer"]["customer_number"]

    # at once: no session, no login, no reset link
    assert (await accounts.http.get("/me", headers=bearer(tokens))).status_code == 401
    assert (await accounts.login(EMAIL)).status_code == 401

    [requested] = await accounts.published_of_type("CustomerErasureRequested")
    assert requested.payload.requested_by is ErasureRequestedBy.CUSTOMER
    assert (requested.payload.email, requested.payload.first_name) == (EMAIL, FIRST)
    [erased] = await accounts.published_of_type("CustomerErased")
    assert erased.payload.customer_id == requested.payload.customer_id
    assert erased.payload.email == EMAIL  # the last use: notifications confirms the deletion

    async def nothing_left() -> bool:
        return not await personal_data_left(accounts.pool, PERSONAL)

    await eventually(nothing_left)
    async with accounts.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM customers")
        listed = await conn.fetchrow("SELECT * FROM erasure_requests")
    assert row["customer_number"] == tokens["customer"]["customer_number"]
    assert row["erased_at"] is not None
    # on the erasure list (to apply it again after a restore): the request's id, no address
    # (it was not proven), no name
    assert listed["event_id"] == requested.event_id
    assert (listed["email_verified"], listed["email"]) == (False, None)

    # an order event arriving late does not bring the order back
    order: Order = tokens["order"]
    [late] = await accounts.feed(Topic.FULFILLMENT_ORDERS, order.event(Shipped))

    async def handled() -> bool:
        async with accounts.pool.acquire() as conn:
            sql = "SELECT true FROM messaging_inbox WHERE event_id = $1"
            return bool(await conn.fetchval(sql, late.event_id))

    await eventually(handled)
    assert await personal_data_left(accounts.pool, PERSONAL) == []
    async with accounts.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM order_history") == 0

    # the old reset link is dead too
    reset = await accounts.published(1, settle=0.5)
    links = [accounts.link(e) for e in reset if e.type == "PasswordResetRequested"]
    confirm = await accounts.http.post(
        "/password-reset/confirm",
        json={"token": token_of(links[0]), "new_password": "Nouveau-Depart-2026"},
    )
    assert confirm.status_code == 400


async def test_customer_service_erases_on_email_and_customer_number(accounts: Accounts) -> None:
    tokens = await accounts.sign_up(email="client.service@example.fr")
    number = tokens["customer"]["customer_number"]
    operator = {"Authorization": f"Bearer {OPERATOR}"}
    body = {"email": " Client.Service@example.fr", "customer_number": number}

    forged = await accounts.http.post(
        "/erasure-requests", json=body, headers={"Authorization": "Bearer guess"}
    )
    assert forged.status_code == 401
    customer_token = await accounts.http.post(
        "/erasure-requests", json=body, headers=bearer(tokens)
    )
    assert customer_token.status_code == 401
    mismatch = await accounts.http.post(
        "/erasure-requests",
        json={"email": "client.service@example.fr", "customer_number": "C-999999"},
        headers=operator,
    )
    assert mismatch.status_code == 404 and mismatch.json()["code"] == "customer_not_found"

    accepted = await accounts.http.post("/erasure-requests", json=body, headers=operator)
    assert accepted.status_code == 202, accepted.text
    again = await accounts.http.post("/erasure-requests", json=body, headers=operator)
    assert again.status_code in (202, 404)  # 404 once the address is forgotten

    [requested] = await accounts.published_of_type("CustomerErasureRequested")
    assert requested.payload.requested_by is ErasureRequestedBy.CUSTOMER_SERVICE
    assert requested.payload.customer_number == number
    await accounts.published_of_type("CustomerErased")

    async def erased() -> bool:
        return not await personal_data_left(accounts.pool, ["client.service@example.fr"])

    await eventually(erased)
    assert (await accounts.login("client.service@example.fr")).status_code == 401
    events = await accounts.published(3, settle=1.0)
    assert [e.type for e in events].count("CustomerErasureRequested") == 1


async def test_the_erasure_list_keeps_a_proven_address_only_while_backups_may_need_it(
    accounts: Accounts,
) -> None:
    """A proven address stays on the erasure list (to erase the guest orders placed with it
    again, should a database be restored from a backup taken before the erasure) for as long
    as such a backup exists; then only the account's id remains. A redelivered request
    changes nothing and is not announced twice."""
    tokens = await accounts.sign_up(email=EMAIL, first_name=FIRST, last_name=LAST)
    customer = tokens["customer"]
    request = CustomerErasureRequested(
        customer_id=customer["customer_id"],
        customer_number=customer["customer_number"],
        email=EMAIL,
        first_name=FIRST,
        requested_at=datetime.now(UTC),
        requested_by=ErasureRequestedBy.CUSTOMER,
        email_verified=True,
    )
    [envelope] = await accounts.feed(Topic.ACCOUNTS_CUSTOMERS, request)
    await accounts.published_of_type("CustomerErased")
    await accounts.feed_envelopes(Topic.ACCOUNTS_CUSTOMERS, envelope)  # a redelivery

    async def listed() -> asyncpg.Record | None:
        async with accounts.pool.acquire() as conn:
            return await conn.fetchrow("SELECT * FROM erasure_requests")

    row = await eventually(listed)
    assert row is not None
    assert (row["event_id"], row["email"]) == (envelope.event_id, EMAIL)
    # the outbox's copies are forgotten once Kafka acknowledged them (a moment after a
    # consumer may already read them): only the erasure list keeps the address
    await eventually(
        lambda: personal_data_left(accounts.pool, PERSONAL),
        lambda found: {f.split(":")[0] for f in found} == {"erasure_requests"},
        "personal data only on the erasure list",
    )
    beside_the_address = str({k: v for k, v in row.items() if k != "email"}).lower()
    assert not [p for p in PERSONAL if p.lower() in beside_the_address]  # never a name

    async with accounts.pool.acquire() as conn:
        kept = timedelta(days=repository.ERASURE_ADDRESS_KEPT_DAYS)
        # the housekeeping's pass, a day before and a day after the retention
        assert await repository.forget_erasure_addresses(conn, datetime.now(UTC) - kept) == 0
        later = datetime.now(UTC) + timedelta(days=1)
        assert await repository.forget_erasure_addresses(conn, later) == 1
        row = await conn.fetchrow("SELECT * FROM erasure_requests")
    assert row["email"] is None and row["email_forgotten_at"] is not None
    assert row["customer_id"] == request.customer_id  # the id of an erased account, nothing more
    assert await personal_data_left(accounts.pool, PERSONAL) == []
    everything = await accounts.published(3, settle=1.0)
    assert [e.type for e in everything].count("CustomerErased") == 1
