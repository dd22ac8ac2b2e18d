"""Payment outcomes: authorised, 3-D Secure, expired authentication, refused, captured,
cancelled."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from jg_events import (
    CancellationReason,
    CancelledBy,
    OrderConfirmed,
    OrderModified,
)

from checkout.domain.delivery import delivery_estimate
from checkout.domain.order import (
    BEFORE_PAYMENT,
    CANCELLABLE,
    NOTHING,
    AuthorizedContent,
    NextAction,
    Order,
    Outcome,
    Refusal,
    Status,
    TimelineEntry,
)
from checkout.domain.pricing import compute_totals
from checkout.domain.window import cancel


def payment_authorized(
    order: Order,
    *,
    order_revision: int,
    now: datetime,
    release_delay: timedelta,
    delivery_days: tuple[int, int] = (10, 15),
) -> Outcome:
    """Confirm the order on the first authorisation of its current amount.

    A later authorisation (after a modification that changed the amount) only records that the
    new amount is held; a stale one (for an amount since changed) and one for an ended or
    released order change nothing.
    """
    if order_revision < order.amount_revision or (
        order.authorized_revision is not None and (order_revision <= order.authorized_revision)
    ):
        return NOTHING
    if order.status in BEFORE_PAYMENT:
        estimate = delivery_estimate(now, *delivery_days)
        release_at = now + release_delay
        confirmed = replace(
            order,
            status=Status.CONFIRMED,
            authorized_revision=order_revision,
            authorized_content=_covered(order, order_revision),
            confirmed_at=now,
            release_at=release_at,
            delivery=estimate,
            next_action=None,
        )
        event = OrderConfirmed(
            **confirmed.snapshot_fields(), delivery_estimate=estimate, modifiable_until=release_at
        )
        entry = TimelineEntry(
            now,
            "confirmed",
            "Paiement autorisé, commande validée",
            {"modifiable_until": release_at.isoformat()},
        )
        return Outcome(confirmed, (entry,), (event,))
    if order.status is Status.CONFIRMED:
        updated = replace(
            order,
            authorized_revision=order_revision,
            authorized_content=_covered(order, order_revision),
            next_action=None,
        )
        entry = TimelineEntry(now, "payment_reauthorized", "Nouveau montant autorisé")
        return Outcome(updated, (entry,))
    return NOTHING


def _covered(order: Order, revision: int) -> AuthorizedContent:
    return AuthorizedContent(
        revision=revision, lines=order.lines, shipping_method=order.shipping_method
    )


def authentication_expired(
    order: Order, *, order_revision: int, held_revision: int, now: datetime
) -> Outcome:
    """A modification's new total stayed unauthenticated past payment's timeout.

    The hold of an earlier revision still stands: the order goes back to the lines and
    shipping method it covers (a new revision, OrderModified with
    ``restores_authorized_revision``, so payment authorises nothing and the customer is told
    by email), and is released on that amount when its window ends. An order modified again
    since, authorised since, or no longer before release changes nothing. Without a record of
    what the hold covers (an order authorised before that record existed), the order is
    cancelled by the system rather than left waiting: every hold is released.
    """
    if (
        order.status is not Status.CONFIRMED
        or order_revision < order.amount_revision
        or order.amount_authorized
    ):
        return NOTHING
    content = order.authorized_content
    if content is None or content.revision != held_revision:
        return cancel(
            order,
            reason=CancellationReason.PAYMENT_NOT_COMPLETED,
            cancelled_by=CancelledBy.SYSTEM,
            note=None,
            now=now,
        )
    revision = order.revision + 1
    restored = replace(
        order,
        revision=revision,
        amount_revision=content.revision,
        lines=content.lines,
        shipping_method=content.shipping_method,
        totals=compute_totals(content.lines, content.shipping_method),
        next_action=None,
    )
    event = OrderModified(
        **restored.snapshot_fields(),
        previous_total=order.totals.total,
        new_total=restored.totals.total,
        amount_changed=restored.totals.total != order.totals.total,
        restores_authorized_revision=content.revision,
    )
    entry = TimelineEntry(
        now,
        "modification_not_authenticated",
        "Authentification bancaire non effectuée à temps : modification non appliquée, "
        "commande rétablie",
        {
            "revision": revision,
            "abandoned_revision": order_revision,
            "restored_revision": content.revision,
            "previous_total": str(order.totals.total),
            "new_total": str(restored.totals.total),
        },
    )
    return Outcome(restored, (entry,), (event,))


def payment_action_required(
    order: Order, *, order_revision: int, action: NextAction, now: datetime
) -> Outcome:
    """3-D Secure: expose the next step (not a failure)."""
    if order_revision < order.amount_revision or order.status not in CANCELLABLE:
        return NOTHING
    if order.authorized_revision is not None and order_revision <= order.authorized_revision:
        return NOTHING
    status = Status.PAYMENT_ACTION_REQUIRED if order.status in BEFORE_PAYMENT else order.status
    updated = replace(order, status=status, next_action=action)
    entry = TimelineEntry(
        now,
        "payment_action_required",
        "Authentification 3-D Secure demandée par votre banque",
        {"next_action_type": action.type},
    )
    return Outcome(updated, (entry,))


REFUSAL_LABELS: dict[str, str] = {
    "incorrect_card_details": "coordonnées bancaires incorrectes",
    "limit_reached": "plafond de paiement atteint",
    "insufficient_funds": "fonds insuffisants",
    "authentication_failed": "échec de l'authentification",
    "unsupported_method": "moyen de paiement non accepté",
    "other": "refus de la banque",
}


def payment_refused(order: Order, *, order_revision: int, reason: str, now: datetime) -> Outcome:
    """A refusal of the current amount ends the order (before release); stale ones are ignored."""
    if order_revision < order.amount_revision or order.status not in CANCELLABLE:
        return NOTHING
    ended = replace(
        order,
        status=Status.PAYMENT_REFUSED,
        refusal=Refusal(reason=reason, at=now),
        next_action=None,
        release_at=None,
    )
    label = REFUSAL_LABELS.get(reason, REFUSAL_LABELS["other"])
    entry = TimelineEntry(now, "payment_refused", f"Paiement refusé : {label}", {"reason": reason})
    return Outcome(ended, (entry,))


def payment_captured(order: Order, *, now: datetime) -> Outcome:
    return Outcome(order, (TimelineEntry(now, "payment_captured", "Paiement encaissé"),))


def payment_cancelled(
    order: Order, *, reason: str, now: datetime, order_revision: int | None = None
) -> Outcome:
    """A released hold. An expired authorisation before release cancels the order (system).

    The hold of an amount the order has since changed (``order_revision`` older than the
    current amount) is only recorded: the newest amount's authorisation decides the order.
    """
    stale = order_revision is not None and order_revision < order.amount_revision
    if reason == "superseded" or stale:
        return Outcome(
            order,
            (TimelineEntry(now, "payment_superseded", "Ancienne autorisation de paiement levée"),),
        )
    entry = TimelineEntry(now, "payment_cancelled", "Autorisation de paiement levée")
    if reason == "order_cancelled" or not order.cancellable:
        return Outcome(order, (entry,))
    cancelled = cancel(
        order,
        reason=CancellationReason.PAYMENT_NOT_COMPLETED,
        cancelled_by=CancelledBy.SYSTEM,
        note=None,
        now=now,
    )
    return Outcome(cancelled.order, (entry, *cancelled.timeline), cancelled.events)
