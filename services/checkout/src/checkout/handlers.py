"""Event handlers: payment outcomes, fulfillment progress and GDPR erasure.

Each handler applies its event once (inbox), under the order's row lock, in one transaction
with the events it publishes (outbox).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog
from jg_events import (
    Backordered,
    CancellationReason,
    CancelledBy,
    CustomerErasureRequested,
    Delivered,
    Envelope,
    OrderProcessing,
    PaymentActionRequired,
    PaymentAuthenticationExpired,
    PaymentAuthorized,
    PaymentCancelled,
    PaymentCaptured,
    PaymentRefused,
    Shipped,
    Topic,
)
from jg_messaging import PermanentError, ServiceRuntime, handles, subscribe

from checkout import domain, repository, store
from checkout.domain import NextAction, Order, Outcome, Status, Tracking
from checkout.settings import CheckoutSettings

log = structlog.get_logger(__name__)

SERVICE = "checkout"
CONSUMED = (
    Topic.PAYMENT_PAYMENTS,
    Topic.FULFILLMENT_ORDERS,
    Topic.LOGISTICS_REQUESTS,
    Topic.ACCOUNTS_CUSTOMERS,
)


def register_handlers(runtime: ServiceRuntime, settings: CheckoutSettings) -> None:
    events = subscribe(
        runtime.broker, *CONSUMED, service=SERVICE, topic_prefix=settings.platform.topic_prefix
    )
    payments = fulfillment = logistics = customers = events
    delay = timedelta(seconds=settings.release_delay_seconds)
    days = (settings.delivery_business_days_min, settings.delivery_business_days_max)

    async def apply(event: Envelope[Any], decide: Callable[[Order], Outcome]) -> None:
        async with runtime.messaging.handling(event) as uow:
            if uow.already_processed:
                return
            order = await repository.get_order(uow.conn, event.payload.order_id, for_update=True)
            if order is None:
                raise PermanentError(f"unknown order {event.payload.order_id}")
            outcome = decide(order)
            if outcome.order is None:
                log.info("event_changes_nothing", order_id=str(order.id), status=order.status)
            await store.save(uow, outcome)

    @payments(filter=handles(PaymentAuthorized))
    async def on_payment_authorized(event: Envelope[PaymentAuthorized]) -> None:
        p = event.payload
        await apply(
            event,
            lambda order: domain.payment_authorized(
                order,
                order_revision=p.order_revision,
                now=domain.utcnow(),
                release_delay=delay,
                delivery_days=days,
            ),
        )

    @payments(filter=handles(PaymentActionRequired))
    async def on_payment_action_required(event: Envelope[PaymentActionRequired]) -> None:
        p = event.payload
        action = NextAction(
            type=p.next_action_type,
            url=p.next_action_url,
            payment_intent_id=p.payment_intent_id,
            client_secret=p.client_secret,
        )
        await apply(
            event,
            lambda order: domain.payment_action_required(
                order, order_revision=p.order_revision, action=action, now=domain.utcnow()
            ),
        )

    @payments(filter=handles(PaymentAuthenticationExpired))
    async def on_payment_authentication_expired(
        event: Envelope[PaymentAuthenticationExpired],
    ) -> None:
        p = event.payload
        await apply(
            event,
            lambda order: domain.authentication_expired(
                order,
                order_revision=p.order_revision,
                held_revision=p.held_revision,
                now=domain.utcnow(),
            ),
        )

    @payments(filter=handles(PaymentRefused))
    async def on_payment_refused(event: Envelope[PaymentRefused]) -> None:
        p = event.payload
        await apply(
            event,
            lambda order: domain.payment_refused(
                order, order_revision=p.order_revision, reason=p.reason.value, now=domain.utcnow()
            ),
        )

    @payments(filter=handles(PaymentCaptured))
    async def on_payment_captured(event: Envelope[PaymentCaptured]) -> None:
        await apply(event, lambda order: domain.payment_captured(order, now=domain.utcnow()))

    @payments(filter=handles(PaymentCancelled))
    async def on_payment_cancelled(event: Envelope[PaymentCancelled]) -> None:
        reason = event.payload.reason.value
        revision = event.payload.order_revision
        await apply(
            event,
            lambda order: domain.payment_cancelled(
                order, reason=reason, now=domain.utcnow(), order_revision=revision
            ),
        )

    @logistics(filter=handles(OrderProcessing))
    async def on_order_processing(event: Envelope[OrderProcessing]) -> None:
        await apply(
            event,
            lambda order: domain.progress(
                order,
                Status.PROCESSING,
                label="Commande en cours de traitement",
                now=domain.utcnow(),
            ),
        )

    @fulfillment(filter=handles(Backordered))
    async def on_backordered(event: Envelope[Backordered]) -> None:
        p = event.payload
        await apply(
            event,
            lambda order: domain.progress(
                order,
                Status.BACKORDERED,
                label="Article(s) en cours de réapprovisionnement",
                now=domain.utcnow(),
                delivery=p.delivery_estimate,
                detail={"skus": [line.sku for line in p.missing_lines]},
            ),
        )

    @fulfillment(filter=handles(Shipped))
    async def on_shipped(event: Envelope[Shipped]) -> None:
        p = event.payload
        tracking = Tracking(carrier=p.carrier.value, number=p.tracking_number, url=p.tracking_url)
        await apply(
            event,
            lambda order: domain.progress(
                order,
                Status.SHIPPED,
                label="Colis remis au transporteur",
                now=p.shipped_at,
                tracking=tracking,
                delivery=p.delivery_estimate,
                detail={"tracking_number": p.tracking_number},
            ),
        )

    @fulfillment(filter=handles(Delivered))
    async def on_delivered(event: Envelope[Delivered]) -> None:
        p = event.payload
        await apply(
            event,
            lambda order: domain.progress(
                order, Status.DELIVERED, label="Colis livré", now=p.delivered_at
            ),
        )

    @customers(filter=handles(CustomerErasureRequested))
    async def on_customer_erasure_requested(event: Envelope[CustomerErasureRequested]) -> None:
        p = event.payload
        async with runtime.messaging.handling(event) as uow:
            if uow.already_processed:
                return
            # Always the account's orders; guest orders placed with its address only when the
            # customer proved they own it (anyone may sign up with a stranger's address).
            ids = await repository.orders_of_customer(
                uow.conn, p.customer_id, p.email if p.email_verified else None
            )
            now = domain.utcnow()
            for order_id in ids:
                order = await repository.get_order(uow.conn, order_id)
                assert order is not None
                erased = domain.pseudonymise(order)
                await repository.update_order(uow.conn, erased)
                if erased.cancellable:
                    # Nothing may ship to an erased address: the hold is released instead.
                    await store.save(
                        uow,
                        domain.cancel(
                            erased,
                            reason=CancellationReason.OTHER,
                            cancelled_by=CancelledBy.SYSTEM,
                            note="Suppression des données personnelles demandée",
                            now=now,
                        ),
                    )
            await repository.mark_erased(uow.conn, ids)
            forgotten = await repository.forget_sent_messages(uow.conn, ids)
            log.info("customer_erased", orders=len(ids), outbox_rows_deleted=forgotten)
