"""The use cases' decision paths, without services: which row a send intent becomes, what a
failed send leads to, which handler an event goes to, and the previews' 404.

The repository functions are replaced by an in-memory stand-in (the SQL itself is proven by
the integration tests); the context's runtime is never started, so nothing here can reach
PostgreSQL, Kafka or SMTP.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
import structlog
from jg_events import (
    ALL_EVENTS,
    CustomerErased,
    CustomerErasureRequested,
    CustomerRegistered,
    Envelope,
    Event,
    OrderConfirmed,
    PasswordResetRequested,
    PaymentRefused,
    Shipped,
)
from jg_events.examples import EXAMPLE_LINK_SEALING_KEY, example
from jg_messaging import PermanentError, ServiceRuntime
from jg_web.http import ApiError
from notifications import domain, repository
from notifications.app import MIGRATIONS
from notifications.context import SERVICE, Context, renderer_for
from notifications.domain import EmailStatus, FailureKind, Template
from notifications.handlers import HANDLERS, TOPICS, on_order_confirmed, on_order_event
from notifications.mail import Failure
from notifications.repository import ClaimedEmail, NewEmail
from notifications.settings import NotificationsSettings
from notifications.usecases import delivery, previews
from notifications.usecases.emails import planned, record_emails
from pydantic import SecretStr
from structlog.testing import capture_logs

pytestmark = pytest.mark.unit


def context(key: str = EXAMPLE_LINK_SEALING_KEY) -> Context:
    settings = NotificationsSettings(link_sealing_key=SecretStr(key))
    runtime = ServiceRuntime(SERVICE, settings, MIGRATIONS)  # opens nothing
    return Context(runtime, settings, renderer_for(settings))


def wrap(event: Event) -> Envelope[Any]:
    return Envelope.wrap(event, correlation_id="test-usecases")


@dataclass
class Store:
    """What the repository would hold, for the use cases' reads and writes."""

    suppressed: dict[str, datetime] = field(default_factory=dict)
    erased: set[UUID] = field(default_factory=set)
    inserted: list[NewEmail] = field(default_factory=list)
    lifted: list[str] = field(default_factory=list)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Store:
    held = Store()

    async def suppressed_since(_: Any, address_hash: str) -> datetime | None:
        return held.suppressed.get(address_hash)

    async def customer_erased(_: Any, customer_id: UUID | None) -> bool:
        return customer_id in held.erased

    async def insert_email(_: Any, email: NewEmail) -> bool:
        if any((e.event_id, e.template) == (email.event_id, email.template) for e in held.inserted):
            return False
        held.inserted.append(email)
        return True

    async def lift_suppression(_: Any, address_hash: str) -> None:
        held.lifted.append(address_hash)
        held.suppressed.pop(address_hash, None)

    for name, fake in [
        ("suppressed_since", suppressed_since),
        ("customer_erased", customer_erased),
        ("insert_email", insert_email),
        ("lift_suppression", lift_suppression),
    ]:
        monkeypatch.setattr(repository, name, fake)
    return held


async def recorded(ctx: Context, envelope: Envelope[Any]) -> int:
    return await record_emails(ctx, None, envelope, planned(ctx, envelope))


# --- recording the emails of an event ----------------------------------------------------------


async def test_an_email_to_send_is_recorded_pending_rendered_with_its_stable_message_id(
    store: Store,
) -> None:
    ctx, envelope = context(), wrap(example(Shipped))
    assert await recorded(ctx, envelope) == 1
    (email,) = store.inserted
    assert email.status is EmailStatus.PENDING and email.template == Template.ORDER_SHIPPED
    assert email.recipient == envelope.payload.customer.email
    assert email.subject and email.body_text and email.body_html
    assert email.message_id == domain.message_id(
        envelope.event_id, Template.ORDER_SHIPPED, ctx.sender_domain
    )
    assert email.ordering_key == f"order:{envelope.payload.order_id}"
    # the same event again records nothing more (and wakes no dispatcher)
    assert await recorded(ctx, envelope) == 0 and len(store.inserted) == 1


async def test_an_email_to_a_suppressed_address_is_recorded_suppressed_without_content(
    store: Store,
) -> None:
    ctx, envelope = context(), wrap(example(Shipped))
    store.suppressed[ctx.hash(envelope.payload.customer.email.upper())] = datetime.now(UTC)
    assert await recorded(ctx, envelope) == 0
    (email,) = store.inserted
    assert email.status is EmailStatus.SUPPRESSED
    assert (email.recipient, email.recipient_name, email.subject, email.body_text) == (
        None,
        None,
        None,
        None,
    )


async def test_an_erased_account_gets_no_order_email_but_its_erasure_acknowledgement(
    store: Store,
) -> None:
    ctx = context()
    shipped = example(Shipped)
    store.erased.add(shipped.customer.customer_id)
    assert await recorded(ctx, wrap(shipped)) == 0
    assert store.inserted[-1].status is EmailStatus.SUPPRESSED
    request = example(CustomerErasureRequested)
    store.erased.add(request.customer_id)
    store.suppressed[ctx.hash(request.email)] = datetime.now(UTC)
    assert await recorded(ctx, wrap(request)) == 1  # exempt: it goes out, then forgets
    acknowledgement = store.inserted[-1]
    assert acknowledgement.status is EmailStatus.PENDING
    assert acknowledgement.exempt_from_suppression and acknowledgement.forget_after_send


async def test_an_undeliverable_address_is_recorded_failed_and_never_sent(store: Store) -> None:
    shipped = example(Shipped)
    pseudonym = type(shipped).model_validate(
        {
            **shipped.model_dump(),
            "customer": {**shipped.customer.model_dump(), "email": "erased-1@customers.invalid"},
        }
    )
    assert await recorded(context(), wrap(pseudonym)) == 0
    (email,) = store.inserted
    assert email.status is EmailStatus.FAILED
    assert email.failure_kind is FailureKind.INVALID_ADDRESS
    assert email.subject and email.body_text is None and email.body_html is None


async def test_a_new_account_with_an_erased_address_lifts_its_suppression(store: Store) -> None:
    ctx = context()
    registered = example(CustomerRegistered)
    envelope = wrap(registered)
    address_hash = ctx.hash(registered.email)
    store.suppressed[address_hash] = envelope.occurred_at - timedelta(days=1)
    assert await recorded(ctx, envelope) == 1
    assert store.lifted == [address_hash]
    assert store.inserted[0].status is EmailStatus.PENDING


async def test_an_older_event_does_not_lift_a_suppression(store: Store) -> None:
    ctx = context()
    registered = example(CustomerRegistered)
    envelope = wrap(registered)
    store.suppressed[ctx.hash(registered.email)] = envelope.occurred_at + timedelta(seconds=1)
    assert await recorded(ctx, envelope) == 0
    assert store.lifted == [] and store.inserted[0].status is EmailStatus.SUPPRESSED


def test_an_account_link_sealed_with_another_key_is_a_permanent_error_never_logged() -> None:
    envelope = wrap(example(PasswordResetRequested))
    with capture_logs() as logs, pytest.raises(PermanentError):
        planned(context("another-key-than-accounts-one"), envelope)
    assert [e["event"] for e in logs] == ["account_link_unreadable"]
    assert "http" not in str(logs)  # the link itself is never logged


def test_the_intent_status_decision() -> None:
    def status(**kw: bool) -> EmailStatus:
        flags = {"address_suppressed": False, "account_erased": False, "exempt": False}
        return domain.intent_status(**{**flags, "deliverable": True, **kw})

    assert status() is EmailStatus.PENDING
    assert status(address_suppressed=True) is EmailStatus.SUPPRESSED
    assert status(account_erased=True) is EmailStatus.SUPPRESSED
    assert status(account_erased=True, exempt=True) is EmailStatus.PENDING
    assert status(deliverable=False) is EmailStatus.FAILED
    assert status(address_suppressed=True, deliverable=False) is EmailStatus.SUPPRESSED


# --- the handlers' table ----------------------------------------------------------------------


def test_every_event_that_gives_an_email_has_a_handler_and_others_are_not_read() -> None:
    links = context().links
    giving = {cls for cls in ALL_EVENTS if domain.plan_emails(example(cls), links)}
    assert giving <= set(HANDLERS)
    assert {cls.topic for cls in HANDLERS} == set(TOPICS) and len(TOPICS) == 5
    assert HANDLERS[OrderConfirmed] is on_order_confirmed  # withheld after a refusal
    assert HANDLERS[Shipped] is on_order_event
    for cls in (PaymentRefused, CustomerErasureRequested, CustomerErased):
        assert HANDLERS[cls] is not on_order_event  # each keeps state of its own


# --- delivery outcomes --------------------------------------------------------------------------


class FakePool:
    """A pool whose connection nobody uses: the repository's marks are replaced."""

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[None]:
        yield None


def claimed(*, deferred_for: float | None = None, age: float = 60.0) -> ClaimedEmail:
    now = datetime.now(UTC)
    return ClaimedEmail(
        id=7,
        event_id=uuid.uuid4(),
        template="order_shipped",
        message_id="<m@japangoodz.com>",
        recipient="camille@example.fr",
        recipient_name="Camille Durand",
        subject="Votre commande est en route",
        body_text="Bonjour",
        body_html="<p>Bonjour</p>",
        attachment_path=None,
        attachment_filename=None,
        attachment_type=None,
        date_header=now,
        created_at=now - timedelta(seconds=age),
        attempts=3,
        exempt_from_suppression=False,
        suppressed=False,
        outcome_unknown=False,
        lease_token=uuid.uuid4(),
        deferred_since=None if deferred_for is None else now - timedelta(seconds=deferred_for),
    )


@pytest.fixture
def marks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []

    async def mark_failed(_: Any, email_id: int, token: UUID, kind: Any, error: str) -> bool:
        calls.append(("failed", kind))
        return True

    async def mark_retry(
        _: Any, email_id: int, token: UUID, error: str, delay: float, *, deferred: bool
    ) -> bool:
        calls.append(("retry", delay, deferred))
        return True

    monkeypatch.setattr(repository, "mark_failed", mark_failed)
    monkeypatch.setattr(repository, "mark_retry", mark_retry)
    return calls


async def fail(email: ClaimedEmail, failure: Failure) -> list[str]:
    settings = NotificationsSettings()
    pool: Any = FakePool()
    with capture_logs() as logs:
        bound = structlog.stdlib.get_logger("test")
        await delivery.record_failure(pool, email, failure, settings, bound)
    return [e["event"] for e in logs]


async def test_a_permanent_refusal_ends_the_email(marks: list[tuple[Any, ...]]) -> None:
    events = await fail(claimed(), Failure(True, "recipient refused: 550 no such user"))
    assert marks == [("failed", FailureKind.PERMANENT)]
    assert events == ["email_failed_permanently"]


async def test_a_message_deferred_for_too_long_is_given_up(marks: list[tuple[Any, ...]]) -> None:
    five_days = NotificationsSettings().give_up_after
    events = await fail(claimed(deferred_for=five_days + 1), Failure(False, "data: 451 later"))
    assert marks == [("failed", FailureKind.EXPIRED)]
    assert events == ["email_given_up"]


async def test_an_outage_however_long_only_delays(marks: list[tuple[Any, ...]]) -> None:
    long_ago = NotificationsSettings().give_up_after * 10
    failure = Failure(False, "ConnectionRefusedError", outage=True)
    events = await fail(claimed(deferred_for=long_ago, age=long_ago), failure)
    [(outcome, delay, deferred)] = marks
    assert outcome == "retry" and delay > 0 and deferred is False
    assert events == ["email_retry_scheduled"]


async def test_a_retry_under_a_lost_lease_is_discarded_and_said(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def lease_lost(*_: Any, **__: Any) -> bool:
        return False

    monkeypatch.setattr(repository, "mark_retry", lease_lost)
    events = await fail(claimed(deferred_for=10), Failure(False, "data: 451 later"))
    assert events == ["email_outcome_discarded_lease_lost"]


# --- previews ---------------------------------------------------------------------------------


def test_a_preview_of_an_unknown_template_is_a_404_listing_the_templates() -> None:
    renderer = context().renderer
    with pytest.raises(ApiError) as unknown:
        previews.preview_email(renderer, "nope")
    assert (unknown.value.status, unknown.value.code) == (404, "unknown_template")
    assert unknown.value.extra["templates"] == [t.value for t in Template]
    assert "« nope »" in unknown.value.message
    assert previews.preview_email(renderer, "order_shipped").subject
