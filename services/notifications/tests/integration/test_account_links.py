"""Account links reach the customer's mailbox opened, though Kafka only carried them sealed;
links written in clear before the upgrade still go out; a link sealed under another key is
never guessed at: the event is dead-lettered, to be replayed once the keys match."""

import uuid
from typing import Any

import pytest
from jg_devstack.kafka_records import read_topic
from jg_events import (
    CustomerRegistered,
    EmailVerificationRequested,
    LinkPurpose,
    LinkSealer,
    PasswordResetRequested,
    PasswordResetRequestedV1,
    dead_letter_topic,
)
from jg_events.examples import RESET_URL, VERIFICATION_URL, example

from .conftest import Mailpit, Notifications, for_customer, wrap

pytestmark = pytest.mark.integration


def text_of(message: dict[str, Any]) -> str:
    return str(message["Text"]).replace("\r\n", "\n")


async def test_sealed_links_arrive_opened_and_old_clear_links_still_go_out(
    notifications: Notifications, mailpit: Mailpit, recipient: str
) -> None:
    customer = {"customer_id": uuid.uuid4()}
    welcome = wrap(for_customer(example(CustomerRegistered), recipient, **customer))
    again = wrap(for_customer(example(EmailVerificationRequested), recipient, **customer))
    reset = wrap(for_customer(example(PasswordResetRequested), recipient, **customer))
    old_reset = wrap(for_customer(example(PasswordResetRequestedV1), recipient, **customer))
    assert b"token=" not in reset.to_json_bytes() and b"token=" in old_reset.to_json_bytes()

    async with notifications.running():
        await notifications.publish(welcome, again, reset, old_reset)
        messages = await mailpit.wait_for(recipient, 4, timeout=60, settle=1.0)

    by_subject = {}
    for summary in messages:
        subject = summary["Subject"].replace("\u202f", " ")  # French typography's thin space
        by_subject.setdefault(subject, []).append(await mailpit.message(summary["ID"]))
    assert sorted((s, len(m)) for s, m in by_subject.items()) == [
        ("Bienvenue chez JapanGoodz, Camille !", 1),
        ("Confirmez votre adresse e-mail JapanGoodz", 1),
        ("Réinitialisation de votre mot de passe JapanGoodz", 2),
    ]
    [welcomed] = by_subject["Bienvenue chez JapanGoodz, Camille !"]
    assert VERIFICATION_URL in text_of(welcomed)
    [verification] = by_subject["Confirmez votre adresse e-mail JapanGoodz"]
    assert VERIFICATION_URL in text_of(verification)
    for message in by_subject["Réinitialisation de votre mot de passe JapanGoodz"]:
        assert RESET_URL in text_of(message) and "jgs1." not in text_of(message)


async def test_a_link_sealed_under_another_key_is_dead_lettered_and_sends_nothing(
    notifications: Notifications, mailpit: Mailpit, recipient: str
) -> None:
    customer_id = uuid.uuid4()
    stranger = LinkSealer("a-key-notifications-does-not-have")
    foreign = wrap(
        for_customer(
            example(PasswordResetRequested),
            recipient,
            customer_id=customer_id,
            sealed_reset_url=stranger.seal(
                RESET_URL,
                purpose=LinkPurpose.PASSWORD_RESET,
                customer_id=customer_id,
                recipient=recipient,
            ),
        )
    )
    async with notifications.running():
        await notifications.publish(foreign)
        topic = dead_letter_topic("notifications", notifications.prefix)
        [dead] = await read_topic(notifications.stack.kafka_bootstrap, topic, count=1, timeout=60)
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers["event-id"] == str(foreign.event_id)
    assert "cannot open the account link" in headers["dlq-error"]
    assert await mailpit.search(recipient) == []
    rows = await notifications.rows("SELECT count(*) AS n FROM notification_emails")
    assert rows[0]["n"] == 0
