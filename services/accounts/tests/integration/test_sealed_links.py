"""No single-use link travels in clear: not on jg.accounts.customers (which checkout, payment
and fulfillment read), not in accounts' outbox. Only the link sealing key opens them."""

from typing import Any

import pytest
from jg_devstack.drivers import eventually
from jg_devstack.kafka_records import read_topic
from jg_events import LinkSealer, SealedLinkError, Topic, sealed_link_of, topic_name

from .conftest import PASSWORD, Accounts, bearer, token_of

pytestmark = pytest.mark.integration

LINK_EVENTS = {
    "CustomerRegistered",
    "EmailVerificationRequested",
    "PasswordResetRequested",
    "EmailChangeRequested",
}


async def test_every_link_is_sealed_in_kafka_and_in_the_outbox(accounts: Accounts) -> None:
    tokens = await accounts.sign_up(email="scellee@example.fr")
    assert (
        await accounts.http.post("/me/email-verification", headers=bearer(tokens))
    ).status_code == 202
    assert (
        await accounts.http.post("/password-reset", json={"email": "scellee@example.fr"})
    ).status_code == 202
    assert (
        await accounts.http.post(
            "/me/email",
            headers=bearer(tokens),
            json={"new_email": "scellee.bis@example.fr", "current_password": PASSWORD},
        )
    ).status_code == 202

    # What Kafka really holds, as any reader of the topic gets it.
    topic = topic_name(Topic.ACCOUNTS_CUSTOMERS, accounts.prefix)

    async def four_links() -> list[Any]:
        records = await read_topic(accounts.stack.kafka_bootstrap, topic, count=4, timeout=5)
        return [r for r in records if dict(r.headers or ())["event-type"].decode() in LINK_EVENTS]

    records = await eventually(four_links, lambda found: len(found) == 4, "the four link events")
    envelopes = await accounts.published(4)
    links = [accounts.link(e) for e in envelopes if e.type in LINK_EVENTS]
    secrets = [token_of(link) for link in links]
    assert len(set(secrets)) == 4

    async with accounts.pool.acquire() as conn:
        outbox = [bytes(r["body"]) for r in await conn.fetch("SELECT body FROM messaging_outbox")]
    assert len(outbox) == 4
    for secret in secrets:
        for value in [r.value for r in records] + outbox:
            assert secret.encode() not in value
    for value in [r.value for r in records]:
        assert b"token=" not in value and b"jgs1." in value

    # The links work: the email-change one, opened as notifications opens it, confirms.
    change = next(e for e in envelopes if e.type == "EmailChangeRequested")
    done = await accounts.http.post(
        "/email-change/confirm", json={"token": token_of(accounts.link(change))}
    )
    assert done.status_code == 200 and done.json()["email"] == "scellee.bis@example.fr"

    # Another key opens none of them.
    ref = sealed_link_of(change.payload)
    assert ref is not None
    with pytest.raises(SealedLinkError):
        LinkSealer("a-key-checkout-might-have-0000").open(
            ref.sealed, purpose=ref.purpose, customer_id=ref.customer_id, recipient=ref.recipient
        )
