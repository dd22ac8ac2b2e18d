"""Sealed account links: only the holder of the key opens them, only in their own context."""

import json
import uuid

import pytest
from jg_events import (
    ALL_EVENTS,
    EmailChangeRequested,
    LinkPurpose,
    LinkSealer,
    PasswordResetRequested,
    SealedLinkError,
    Topic,
    events_on,
    sealed_link_of,
)
from jg_events.examples import EXAMPLE_LINK_SEALING_KEY, RESET_URL, example, example_envelope

pytestmark = pytest.mark.unit

LINK = "https://www.japangoodz.com/mon-compte/reinitialisation?token=s3cr3t-T0ken_value-256bits"
CUSTOMER = uuid.UUID("11111111-2222-3333-4444-555555555555")


def seal(sealer: LinkSealer, **context: object) -> str:
    values = {
        "purpose": LinkPurpose.PASSWORD_RESET,
        "customer_id": CUSTOMER,
        "recipient": "camille@example.fr",
    }
    values.update(context)
    return sealer.seal(LINK, **values)  # type: ignore[arg-type]


def test_a_sealed_link_opens_with_the_same_key_and_context_and_hides_the_token() -> None:
    sealer = LinkSealer("a-long-random-secret-0123456789abcdef")
    sealed = seal(sealer)
    assert sealed.startswith("jgs1.")
    assert "s3cr3t" not in sealed and "token" not in sealed
    # the recipient's address is compared lower-cased and trimmed, as emails are
    opened = LinkSealer("a-long-random-secret-0123456789abcdef").open(
        sealed,
        purpose=LinkPurpose.PASSWORD_RESET,
        customer_id=CUSTOMER,
        recipient=" Camille@Example.FR ",
    )
    assert opened == LINK
    assert seal(sealer) != sealed  # a fresh nonce each time


def test_another_key_cannot_open_it_and_says_so() -> None:
    sealed = seal(LinkSealer("a-long-random-secret-0123456789abcdef"))
    with pytest.raises(SealedLinkError, match="another key"):
        LinkSealer("another-long-random-secret-987654").open(
            sealed,
            purpose=LinkPurpose.PASSWORD_RESET,
            customer_id=CUSTOMER,
            recipient="camille@example.fr",
        )


@pytest.mark.parametrize(
    "context",
    [
        {"purpose": LinkPurpose.EMAIL_CHANGE},  # a reset link used as an email confirmation
        {"customer_id": uuid.uuid4()},  # moved into another customer's event
        {"recipient": "attacker@example.com"},  # sent to another address
    ],
)
def test_a_link_moved_to_another_context_does_not_open(context: dict[str, object]) -> None:
    sealer = LinkSealer("a-long-random-secret-0123456789abcdef")
    sealed = seal(sealer)
    values = {
        "purpose": LinkPurpose.PASSWORD_RESET,
        "customer_id": CUSTOMER,
        "recipient": "camille@example.fr",
        **context,
    }
    with pytest.raises(SealedLinkError, match="does not open"):
        sealer.open(sealed, **values)  # type: ignore[arg-type]


def test_a_tampered_or_truncated_link_does_not_open() -> None:
    sealer = LinkSealer("a-long-random-secret-0123456789abcdef")
    sealed = seal(sealer)
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    context = {
        "purpose": LinkPurpose.PASSWORD_RESET,
        "customer_id": CUSTOMER,
        "recipient": "camille@example.fr",
    }
    for broken in (flipped, sealed[:20], "jgs1.!!!", LINK):
        with pytest.raises(SealedLinkError):
            sealer.open(broken, **context)  # type: ignore[arg-type]


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        LinkSealer("short")


def test_no_event_on_the_accounts_topic_carries_a_link_in_clear_except_the_old_versions() -> None:
    """The current version of every account event: no field is a URL with a token."""
    current = {}
    for cls in events_on(Topic.ACCOUNTS_CUSTOMERS):
        if cls.schema_version >= current.get(cls.event_type, cls).schema_version:
            current[cls.event_type] = cls
    for cls in current.values():
        text = json.dumps(example_envelope(cls).model_dump(mode="json"))
        assert "token=" not in text, cls.event_type
    old = [
        c for c in ALL_EVENTS if c.topic is Topic.ACCOUNTS_CUSTOMERS and c not in current.values()
    ]
    assert sorted(f"{c.event_type} v{c.schema_version}" for c in old) == [
        "EmailChangeRequested v1",
        "PasswordResetRequested v1",
    ]


def test_the_examples_open_with_the_example_key() -> None:
    sealer = LinkSealer(EXAMPLE_LINK_SEALING_KEY)
    ref = sealed_link_of(example(PasswordResetRequested))
    assert ref is not None and ref.recipient == example(PasswordResetRequested).email
    assert sealer.open(ref.sealed, purpose=ref.purpose, customer_id=ref.customer_id,
                       recipient=ref.recipient) == RESET_URL  # fmt: skip
    change = sealed_link_of(example(EmailChangeRequested))
    assert change is not None and change.recipient == example(EmailChangeRequested).new_email
