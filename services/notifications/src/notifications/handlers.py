"""Event handlers: one consumer group (``notifications``) on the customer-facing topics.

Each ``on_<event>`` records, in one transaction with the inbox record, the send intents of the
emails the event gives (rendered, with their Message-ID); the dispatcher sends them afterwards.
Nothing here talks to SMTP.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import structlog
from jg_events import (
    Backordered,
    ClaimOpened,
    ClaimResolved,
    CustomerErased,
    CustomerErasureRequested,
    CustomerRegistered,
    CustomerUpdated,
    Delivered,
    EmailChangeRequested,
    EmailChangeRequestedV1,
    EmailVerificationRequested,
    Envelope,
    Event,
    InvoiceIssued,
    LinkSealer,
    OrderCancelled,
    OrderConfirmed,
    OrderModified,
    OrderProcessing,
    PasswordResetRequested,
    PasswordResetRequestedV1,
    PaymentCancelled,
    PaymentRefused,
    RefundIssued,
    ReturnAccepted,
    ReturnRejected,
    Shipped,
    Topic,
)
from jg_messaging import PermanentError, ServiceRuntime, handles, subscribe

from notifications import domain, repository
from notifications.domain import EmailPlan
from notifications.rendering import Renderer
from notifications.settings import NotificationsSettings

__all__ = ["SERVICE", "TOPICS", "EmailRecorder", "register_handlers"]

SERVICE = "notifications"

TOPICS: tuple[Topic, ...] = (
    Topic.CHECKOUT_ORDERS,
    Topic.PAYMENT_PAYMENTS,
    Topic.FULFILLMENT_ORDERS,
    Topic.LOGISTICS_REQUESTS,
    Topic.ACCOUNTS_CUSTOMERS,
)
"""The customer-facing topics this service reads, in one consumer group."""

log = structlog.get_logger(__name__)


class EmailRecorder:
    """Applies one event: state it keeps (refusals, suppressions), then its send intents."""

    def __init__(
        self,
        runtime: ServiceRuntime,
        settings: NotificationsSettings,
        renderer: Renderer,
        on_recorded: Callable[[], None],
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.renderer = renderer
        self.on_recorded = on_recorded
        self._hash_key = settings.recipient_hash_key.get_secret_value().encode()
        self._links = LinkSealer(settings.link_sealing_key.get_secret_value())
        self._domain = settings.sender_address.domain

    def hash(self, address: str) -> str:
        return domain.recipient_hash(address, self._hash_key)

    async def handle(self, envelope: Envelope[Any]) -> None:
        async with self.runtime.messaging.handling(envelope) as uow:
            if uow.already_processed:
                return
            plans = await self._apply_state(uow.conn, envelope)
            recorded = 0
            for plan in plans:
                recorded += await self._record(uow.conn, envelope, plan)
        if recorded:
            self.on_recorded()

    async def _apply_state(
        self, conn: asyncpg.Connection, envelope: Envelope[Any]
    ) -> list[EmailPlan]:
        """What the event changes here, and the emails it still gives after the rules."""
        event: Event = envelope.payload
        try:
            plans = domain.plan_emails(event, self._links)
        except domain.LinkUnavailableError as error:
            # Another key than accounts' (a misconfiguration): retried, then dead-lettered, to
            # be replayed once the keys match. Never logged with the link.
            log.error("account_link_unreadable", reason=str(error))
            raise PermanentError(f"cannot open the account link of {envelope.type}") from error
        match event:
            case PaymentRefused():
                await repository.record_refusal(conn, event.order_id, event.order_revision)
            case OrderConfirmed():
                refused = await repository.order_refused_revision(conn, event.order_id)
                await repository.record_confirmation(conn, event.order_id, event.revision)
                if not domain.confirmation_allowed(event.revision, refused):
                    log.warning(
                        "confirmation_withheld_payment_refused",
                        order_id=str(event.order_id),
                        revision=event.revision,
                        refused_revision=refused,
                    )
                    return []
            case CustomerErasureRequested() | CustomerErased():
                # Suppress first, then forget what we hold; the acknowledgement (or the final
                # confirmation) is exempt and forgets its own address once sent. Always the
                # account (its id); the address itself only when the customer proved they own
                # it: anyone may sign up with a stranger's address, and the stranger's mail
                # (their guest orders) is not theirs to stop or erase.
                if isinstance(event, CustomerErasureRequested):
                    requested_at, proven = event.requested_at, event.email_verified
                else:  # whether the address was proven is the request's, read first (same key)
                    requested_at, proven = envelope.occurred_at, False
                await repository.record_erased_customer(
                    conn, event.customer_id, requested_at, proven
                )
                verified = await repository.erasure_verified(conn, event.customer_id)
                address_hash = self.hash(event.email) if verified else None
                if address_hash is not None:
                    await repository.add_suppression(
                        conn, address_hash, event.customer_id, requested_at
                    )
                forgotten = await repository.forget_customer(conn, address_hash, event.customer_id)
                log.info(
                    "customer_forgotten",
                    emails=forgotten,
                    erasure_event=event.event_type,
                    by_address=verified,
                )
        for plan in plans:
            await self._lift_suppression_if_renewed(conn, envelope, plan)
        return plans

    async def _lift_suppression_if_renewed(
        self, conn: asyncpg.Connection, envelope: Envelope[Any], plan: EmailPlan
    ) -> None:
        address_hash = self.hash(plan.to_email)
        since = await repository.suppressed_since(conn, address_hash)
        if since is not None and domain.suppression_lifted(
            since, envelope.payload, envelope.occurred_at
        ):
            await repository.lift_suppression(conn, address_hash)
            log.info("suppression_lifted", reason=envelope.type)

    async def _record(
        self, conn: asyncpg.Connection, envelope: Envelope[Any], plan: EmailPlan
    ) -> int:
        address_hash = self.hash(plan.to_email)
        common: dict[str, Any] = {
            "event_id": envelope.event_id,
            "event_type": envelope.type,
            "event_occurred_at": envelope.occurred_at,
            "template": plan.template.value,
            "message_id": domain.message_id(envelope.event_id, plan.template, self._domain),
            "correlation_id": envelope.correlation_id,
            "ordering_key": plan.ordering_key,
            "order_id": plan.order_id,
            "customer_id": plan.customer_id,
            "recipient_hash": address_hash,
            "exempt_from_suppression": plan.exempt_from_suppression,
            "forget_after_send": plan.forget_after_send,
            "attachment_path": plan.attachment.path if plan.attachment else None,
            "attachment_filename": plan.attachment.filename if plan.attachment else None,
            "attachment_type": plan.attachment.content_type if plan.attachment else None,
        }
        address_suppressed = await repository.suppressed_since(conn, address_hash) is not None
        account_erased = await repository.customer_erased(conn, plan.customer_id)
        if (address_suppressed or account_erased) and not plan.exempt_from_suppression:
            email = repository.NewEmail(
                **common,
                recipient=None,
                recipient_name=None,
                subject=None,
                body_text=None,
                body_html=None,
                status="suppressed",
            )
            await repository.insert_email(conn, email)
            log.info("email_suppressed", template=plan.template.value)
            return 0
        rendered = self.renderer.render(plan)
        if not domain.is_deliverable_address(plan.to_email):
            email = repository.NewEmail(
                **common,
                recipient=plan.to_email,
                recipient_name=plan.to_name,
                subject=rendered.subject,
                body_text=None,
                body_html=None,
                status="failed",
                failure_kind="invalid_address",
                last_error="the recipient address is not deliverable",
            )
            await repository.insert_email(conn, email)
            log.error("email_invalid_address", template=plan.template.value)
            return 0
        email = repository.NewEmail(
            **common,
            recipient=plan.to_email,
            recipient_name=plan.to_name,
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            status="pending",
        )
        inserted = await repository.insert_email(conn, email)
        if inserted:
            log.info("email_recorded", template=plan.template.value, message_id=email.message_id)
        return int(inserted)


def register_handlers(runtime: ServiceRuntime, recorder: EmailRecorder) -> None:
    """One subscriber, one consumer group, on every customer-facing topic."""
    events = subscribe(
        runtime.broker,
        *TOPICS,
        service=SERVICE,
        topic_prefix=runtime.settings.platform.topic_prefix,
    )
    handle = recorder.handle

    # --- jg.checkout.orders ---
    @events(filter=handles(OrderConfirmed))
    async def on_order_confirmed(event: Envelope[OrderConfirmed]) -> None:
        await handle(event)

    @events(filter=handles(OrderModified))
    async def on_order_modified(event: Envelope[OrderModified]) -> None:
        await handle(event)

    @events(filter=handles(OrderCancelled))
    async def on_order_cancelled(event: Envelope[OrderCancelled]) -> None:
        await handle(event)

    # --- jg.payment.payments ---
    @events(filter=handles(PaymentRefused))
    async def on_payment_refused(event: Envelope[PaymentRefused]) -> None:
        await handle(event)

    @events(filter=handles(PaymentCancelled))
    async def on_payment_cancelled(event: Envelope[PaymentCancelled]) -> None:
        await handle(event)  # only a cancelled order's released hold gives an email

    @events(filter=handles(RefundIssued))
    async def on_refund_issued(event: Envelope[RefundIssued]) -> None:
        await handle(event)

    @events(filter=handles(InvoiceIssued))
    async def on_invoice_issued(event: Envelope[InvoiceIssued]) -> None:
        await handle(event)

    # --- jg.logistics.requests ---
    @events(filter=handles(OrderProcessing))
    async def on_order_processing(event: Envelope[OrderProcessing]) -> None:
        await handle(event)

    # --- jg.fulfillment.orders ---
    @events(filter=handles(Backordered))
    async def on_backordered(event: Envelope[Backordered]) -> None:
        await handle(event)

    @events(filter=handles(Shipped))
    async def on_shipped(event: Envelope[Shipped]) -> None:
        await handle(event)

    @events(filter=handles(Delivered))
    async def on_delivered(event: Envelope[Delivered]) -> None:
        await handle(event)

    @events(filter=handles(ReturnAccepted))
    async def on_return_accepted(event: Envelope[ReturnAccepted]) -> None:
        await handle(event)

    @events(filter=handles(ReturnRejected))
    async def on_return_rejected(event: Envelope[ReturnRejected]) -> None:
        await handle(event)

    @events(filter=handles(ClaimOpened))
    async def on_claim_opened(event: Envelope[ClaimOpened]) -> None:
        await handle(event)

    @events(filter=handles(ClaimResolved))
    async def on_claim_resolved(event: Envelope[ClaimResolved]) -> None:
        await handle(event)

    # --- jg.accounts.customers ---
    @events(filter=handles(CustomerRegistered))
    async def on_customer_registered(event: Envelope[CustomerRegistered]) -> None:
        await handle(event)

    @events(filter=handles(CustomerUpdated))
    async def on_customer_updated(event: Envelope[CustomerUpdated]) -> None:
        await handle(event)

    @events(filter=handles(PasswordResetRequested))
    async def on_password_reset_requested(event: Envelope[PasswordResetRequested]) -> None:
        await handle(event)  # the link comes sealed for us

    @events(filter=handles(PasswordResetRequestedV1))
    async def on_password_reset_requested_v1(event: Envelope[PasswordResetRequestedV1]) -> None:
        await handle(event)  # written before the upgrade, the link in clear

    @events(filter=handles(EmailChangeRequested))
    async def on_email_change_requested(event: Envelope[EmailChangeRequested]) -> None:
        await handle(event)  # the confirmation link, to the new address only

    @events(filter=handles(EmailChangeRequestedV1))
    async def on_email_change_requested_v1(event: Envelope[EmailChangeRequestedV1]) -> None:
        await handle(event)

    @events(filter=handles(EmailVerificationRequested))
    async def on_email_verification_requested(
        event: Envelope[EmailVerificationRequested],
    ) -> None:
        await handle(event)  # a new link that verifies the account's address

    @events(filter=handles(CustomerErasureRequested))
    async def on_customer_erasure_requested(event: Envelope[CustomerErasureRequested]) -> None:
        await handle(event)  # suppress, forget, acknowledge (see EmailRecorder._apply_state)

    @events(filter=handles(CustomerErased))
    async def on_customer_erased(event: Envelope[CustomerErased]) -> None:
        await handle(event)
