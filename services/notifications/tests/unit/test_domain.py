"""Which events give which emails, and the rules around them (pure, no services)."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from jg_events import (
    ALL_EVENTS,
    CustomerEmailVerified,
    CustomerErased,
    CustomerErasureRequested,
    CustomerField,
    CustomerRegistered,
    CustomerUpdated,
    EmailChangeRequested,
    EmailChangeRequestedV1,
    EmailVerificationRequested,
    Event,
    InvoiceIssued,
    InvoiceKind,
    LinkSealer,
    OrderConfirmed,
    OrderModified,
    OrderPlaced,
    OrderReleased,
    PasswordResetRequested,
    PasswordResetRequestedV1,
    PaymentAuthenticationExpired,
    PaymentAuthorized,
    PaymentCancellationReason,
    PaymentCancelled,
    PaymentCaptured,
    PaymentRefused,
    Shipped,
)
from jg_events.examples import (
    EXAMPLE_LINK_SEALING_KEY,
    RESET_URL,
    VERIFICATION_URL,
    example,
)
from notifications import domain
from notifications.domain import LinkUnavailableError, Template, plan_emails
from notifications.preview import preview_plans

pytestmark = pytest.mark.unit


def variant(event: Event, **changes: Any) -> Any:
    return type(event).model_validate({**event.model_dump(), **changes})


LINKS = LinkSealer(EXAMPLE_LINK_SEALING_KEY)  # opens the examples' sealed links


def templates_of(event: Event) -> list[Template]:
    return [plan.template for plan in plan_emails(event, LINKS)]


def test_every_template_has_preview_data_and_every_email_is_reachable_from_an_event() -> None:
    plans = preview_plans()
    assert set(plans) == set(Template)
    reachable = {t for cls in ALL_EVENTS for t in templates_of(example(cls))}
    assert reachable >= set(Template) - {
        Template.CREDIT_NOTE_ISSUED,
        Template.PASSWORD_CHANGED,
        Template.MODIFICATION_NOT_APPLIED,
    }


def test_a_modification_undone_for_want_of_authentication_is_told_as_not_applied() -> None:
    modified = example(OrderModified)
    assert templates_of(modified) == [Template.ORDER_MODIFIED]
    undone = variant(
        modified,
        revision=2,
        previous_total=modified.new_total + 24,
        restores_authorized_revision=1,
    )
    assert templates_of(undone) == [Template.MODIFICATION_NOT_APPLIED]
    # The expiry itself is for checkout: the customer hears of it through that email only.
    assert templates_of(example(PaymentAuthenticationExpired)) == []


@pytest.mark.parametrize(
    "event_cls", [OrderPlaced, OrderReleased, PaymentAuthorized, PaymentCaptured]
)
def test_events_the_customer_is_not_told_about_give_no_email(event_cls: type[Event]) -> None:
    assert plan_emails(example(event_cls)) == []


def test_a_refused_payment_gives_the_refusal_email_and_never_a_confirmation() -> None:
    assert templates_of(example(PaymentRefused)) == [Template.PAYMENT_REFUSED]
    assert domain.confirmation_allowed(0, refused_revision=0) is False
    assert domain.confirmation_allowed(1, refused_revision=0) is True  # a later revision
    assert domain.confirmation_allowed(0, refused_revision=None) is True


@pytest.mark.parametrize(
    ("reason", "templates"),
    [
        (PaymentCancellationReason.ORDER_CANCELLED, [Template.PAYMENT_RELEASED]),
        (PaymentCancellationReason.SUPERSEDED, []),
        (PaymentCancellationReason.AUTHORIZATION_EXPIRED, []),
        (PaymentCancellationReason.OTHER, []),
    ],
)
def test_only_a_cancelled_orders_released_hold_is_emailed_never_a_superseded_one(
    reason: PaymentCancellationReason, templates: list[Template]
) -> None:
    assert templates_of(variant(example(PaymentCancelled), reason=reason)) == templates


def test_invoices_and_credit_notes_attach_their_pdf_from_payment() -> None:
    invoice = example(InvoiceIssued)
    (plan,) = plan_emails(invoice)
    assert plan.template is Template.INVOICE_ISSUED
    assert plan.attachment is not None
    assert plan.attachment.path == "/invoices/F-2026-000042.pdf"
    assert plan.attachment.filename == "facture-F-2026-000042.pdf"
    credit = variant(invoice, kind=InvoiceKind.CREDIT_NOTE, corrects_invoice_number="F-2026-000042")
    (plan,) = plan_emails(credit)
    assert plan.template is Template.CREDIT_NOTE_ISSUED
    assert plan.attachment is not None and plan.attachment.filename.startswith("avoir-")


def test_an_email_change_warns_the_previous_address_and_a_password_change_the_current_one() -> None:
    updated = example(CustomerUpdated)
    (plan,) = plan_emails(updated)
    assert plan.template is Template.EMAIL_CHANGED
    assert plan.to_email == updated.previous_email
    both = variant(updated, changed_fields=(CustomerField.EMAIL, CustomerField.PASSWORD))
    assert [(p.template, p.to_email) for p in plan_emails(both)] == [
        (Template.EMAIL_CHANGED, updated.previous_email),
        (Template.PASSWORD_CHANGED, updated.email),
    ]
    name_only = variant(updated, changed_fields=(CustomerField.LAST_NAME,), previous_email=None)
    assert plan_emails(name_only) == []


def test_an_email_change_request_sends_the_link_to_the_new_address_only_once() -> None:
    requested = example(EmailChangeRequested)
    (plan,) = plan_emails(requested, LINKS)  # nothing to the current address: warned on change
    assert plan.template is Template.EMAIL_CHANGE_CONFIRMATION
    assert plan.to_email == requested.new_email and plan.to_email != requested.email
    assert plan.customer_id == requested.customer_id
    assert plan.ordering_key == f"customer:{requested.customer_id}"
    assert not plan.exempt_from_suppression and not plan.forget_after_send
    # Once confirmed, CustomerUpdated warns the previous address, once.
    updated = example(CustomerUpdated)
    assert [(p.template, p.to_email) for p in plan_emails(updated)] == [
        (Template.EMAIL_CHANGED, updated.previous_email)
    ]


def test_erasure_emails_are_exempt_from_suppression_and_forget_the_address_once_sent() -> None:
    for event in (example(CustomerErasureRequested), example(CustomerErased)):
        (plan,) = plan_emails(event)
        assert plan.exempt_from_suppression and plan.forget_after_send
    (shipped,) = plan_emails(example(Shipped))
    assert not shipped.exempt_from_suppression and not shipped.forget_after_send


def test_order_emails_are_ordered_per_order_and_account_emails_per_customer() -> None:
    (shipped,) = plan_emails(example(Shipped))
    assert shipped.ordering_key == f"order:{example(Shipped).order_id}"
    (erased,) = plan_emails(example(CustomerErased))
    assert erased.ordering_key == f"customer:{example(CustomerErased).customer_id}"


def test_the_message_id_is_stable_per_event_and_template_and_distinct_otherwise() -> None:
    event_id = uuid4()
    first = domain.message_id(event_id, "order_shipped", "japangoodz.com")
    assert first == domain.message_id(event_id, "order_shipped", "japangoodz.com")
    assert first.startswith("<") and first.endswith("@japangoodz.com>")
    assert first != domain.message_id(event_id, "invoice_issued", "japangoodz.com")
    assert first != domain.message_id(uuid4(), "order_shipped", "japangoodz.com")


def test_the_suppression_hash_recognises_an_address_without_keeping_it() -> None:
    key = b"k1"
    digest = domain.recipient_hash(" Camille.Durand@Example.fr ", key)
    assert digest == domain.recipient_hash("camille.durand@example.fr", key)
    assert "camille" not in digest
    assert digest != domain.recipient_hash("camille.durand@example.fr", b"k2")


def test_a_new_account_an_email_change_or_a_new_order_after_an_erasure_lifts_the_suppression() -> (
    None
):
    requested = datetime(2026, 3, 10, tzinfo=UTC)
    later = requested + timedelta(days=30)
    registered = example(CustomerRegistered)
    assert domain.suppression_lifted(requested, registered, later)
    change = example(EmailChangeRequested)  # a customer moves their account to the address
    assert domain.suppression_lifted(requested, change, later)
    assert not domain.suppression_lifted(requested, change, requested - timedelta(1))
    assert not domain.suppression_lifted(requested, registered, requested - timedelta(1))
    confirmed = example(OrderConfirmed)  # placed 2026-03-02, before the request
    assert not domain.suppression_lifted(requested, confirmed, later)
    assert domain.suppression_lifted(requested, variant(confirmed, placed_at=later), later)
    assert not domain.suppression_lifted(requested, example(Shipped), later)


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("camille.durand@example.fr", True),
        ("jean-luc+shop@sub.example.co.uk", True),
        ("élodie@exemple.fr", True),
        ("camille@localhost", False),
        ("camille@@example.fr", False),
        ("camille durand@example.fr", False),
        ("camille@example", False),
        (".camille@example.fr", False),
        ("camille..d@example.fr", False),
        ("camille@-example.fr", False),
        ("a@b.c", False),
        # the pseudonym checkout, payment and fulfillment put in place of an erased customer
        ("efface-0123456789ab@erased.invalid", False),
        ("erased-0123456789abcdef@Erased.INVALID", False),
        ("x" * 250 + "@example.fr", False),
    ],
)
def test_undeliverable_addresses_are_recognised_before_sending(address: str, ok: bool) -> None:
    assert domain.is_deliverable_address(address) is ok


def test_retries_back_off_exponentially_up_to_a_ceiling_with_a_bounded_jitter() -> None:
    delays = [domain.retry_delay(n, first=2, maximum=60) for n in range(1, 8)]
    assert delays == [2, 4, 8, 16, 32, 60, 60]
    assert domain.retry_delay(3, first=2, maximum=60, jitter=1) == pytest.approx(9.6)
    assert domain.retry_delay(3, first=2, maximum=60, jitter=-1) == pytest.approx(6.4)
    assert domain.retry_delay(3, first=2, maximum=60, jitter=5) == pytest.approx(9.6)


def test_only_a_message_the_relay_keeps_deferring_for_days_is_given_up_never_an_outage() -> None:
    five_days = 5 * 24 * 3600.0
    # the relay (or payment) unreachable: the email waits, however long the outage lasts
    for waited in (0.0, five_days, 365 * 24 * 3600.0):
        assert not domain.gives_up(outage=True, deferred_for=waited, give_up_after=five_days)
    # the relay deferring this very message (4xx to RCPT or DATA): given up after the setting
    assert not domain.gives_up(outage=False, deferred_for=0.0, give_up_after=five_days)
    assert not domain.gives_up(outage=False, deferred_for=five_days - 1, give_up_after=five_days)
    assert domain.gives_up(outage=False, deferred_for=five_days, give_up_after=five_days)


def test_the_sealed_link_is_opened_for_the_plan_and_only_with_the_right_key() -> None:
    (plan,) = plan_emails(example(PasswordResetRequested), LINKS)
    assert plan.link == RESET_URL
    with pytest.raises(LinkUnavailableError):
        plan_emails(example(PasswordResetRequested))  # no key
    with pytest.raises(LinkUnavailableError, match="another key"):
        plan_emails(example(PasswordResetRequested), LinkSealer("not-accounts-key-0000"))
    # moved into an event for another recipient, it does not open either
    moved = variant(example(PasswordResetRequested), email="intrus@example.com")
    with pytest.raises(LinkUnavailableError, match="does not open"):
        plan_emails(moved, LINKS)


def test_version_1_events_written_before_the_upgrade_still_give_their_email() -> None:
    (reset,) = plan_emails(example(PasswordResetRequestedV1))  # the link was in clear
    assert (reset.template, reset.link) == (Template.PASSWORD_RESET, RESET_URL)
    (change,) = plan_emails(example(EmailChangeRequestedV1))
    assert change.template is Template.EMAIL_CHANGE_CONFIRMATION
    assert change.to_email == example(EmailChangeRequestedV1).new_email


def test_the_welcome_email_carries_the_verification_link_when_accounts_gave_one() -> None:
    (welcome,) = plan_emails(example(CustomerRegistered), LINKS)
    assert welcome.template is Template.WELCOME and welcome.link == VERIFICATION_URL
    older = variant(
        example(CustomerRegistered), sealed_verification_url=None, verification_expires_at=None
    )
    (plain_welcome,) = plan_emails(older)  # before email verification existed: no key needed
    assert plain_welcome.link is None
    (again,) = plan_emails(example(EmailVerificationRequested), LINKS)
    assert (again.template, again.link, again.to_email) == (
        Template.EMAIL_VERIFICATION,
        VERIFICATION_URL,
        example(EmailVerificationRequested).email,
    )
    assert plan_emails(example(CustomerEmailVerified)) == []
