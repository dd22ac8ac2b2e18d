"""When customer service may resend an email."""

import pytest
from notifications.domain.resend import ResendRefusal, StoredEmail, resend_refusal

pytestmark = pytest.mark.unit

SENT = StoredEmail(
    status="sent", has_recipient=True, has_content=True, exempt_from_suppression=False
)


def refusal(email: StoredEmail = SENT, **flags: bool) -> ResendRefusal | None:
    return resend_refusal(
        email,
        customer_erased=flags.get("erased", False),
        address_suppressed=flags.get("suppressed", False),
    )


def test_a_sent_or_failed_email_with_its_content_may_be_resent() -> None:
    assert refusal() is None
    failed = StoredEmail("failed", True, True, False)
    assert refusal(failed) is None


def test_erasure_suppression_pending_or_forgotten_content_refuse_it() -> None:
    assert refusal(erased=True) is ResendRefusal.ERASED
    assert refusal(suppressed=True) is ResendRefusal.SUPPRESSED
    assert refusal(StoredEmail("sent", True, True, True), suppressed=True) is None
    assert refusal(StoredEmail("pending", True, True, False)) is ResendRefusal.STILL_PENDING
    assert refusal(StoredEmail("sent", True, False, False)) is ResendRefusal.CONTENT_GONE
    assert refusal(StoredEmail("sent", False, True, False)) is ResendRefusal.CONTENT_GONE


def test_every_refusal_is_explained_in_french() -> None:
    for reason in ResendRefusal:
        assert reason.message.endswith(".")
        assert "\u00a0: " in reason.message  # espace insécable avant les deux-points
        assert " :" not in reason.message
