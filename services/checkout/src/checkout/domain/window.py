"""Customer commands during the modification window: cancel and modify, or the reason why not."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from jg_events import (
    Address,
    CancellationReason,
    CancelledBy,
    OrderCancelled,
    OrderLine,
    OrderModified,
)

from checkout.domain.errors import ConflictError, OrderRejectedError, Problem
from checkout.domain.order import (
    BEFORE_PAYMENT,
    HANDED_OFF_RANK,
    NOTHING,
    Cancellation,
    Order,
    Outcome,
    Status,
    TimelineEntry,
)
from checkout.domain.pricing import (
    Limits,
    ShippingOption,
    compute_totals,
)


def refuse_if_past_window(order: Order, *, modification: bool) -> None:
    """Raise :class:`ConflictError` with the reason when the order can no longer change."""
    if order.status in HANDED_OFF_RANK:
        raise ConflictError(
            "order_released",
            "Votre commande a déjà été transmise à nos équipes logistiques : elle ne peut plus "
            "être modifiée ni annulée. Après réception, vous pourrez exercer votre droit de "
            "rétractation.",
        )
    if order.status is Status.CANCELLED:
        raise ConflictError("order_cancelled", "Cette commande a déjà été annulée.")
    if order.status is Status.PAYMENT_REFUSED:
        raise ConflictError(
            "payment_refused",
            "Le paiement de cette commande a été refusé : elle ne peut pas être modifiée.",
        )
    if modification and order.status in BEFORE_PAYMENT:
        raise ConflictError(
            "payment_pending",
            "Le paiement de cette commande est en cours d'autorisation : elle pourra être "
            "modifiée une fois validée.",
        )


def cancel(
    order: Order,
    *,
    reason: CancellationReason,
    cancelled_by: CancelledBy,
    note: str | None,
    now: datetime,
    actor: str | None = None,
) -> Outcome:
    """Cancel before release; cancelling a cancelled order again changes nothing. ``actor``:
    the team member who cancelled on the customer's behalf (kept in the timeline's detail,
    never shown to the customer)."""
    if order.status is Status.CANCELLED:
        return NOTHING
    refuse_if_past_window(order, modification=False)
    cancelled = replace(
        order,
        status=Status.CANCELLED,
        cancellation=Cancellation(reason=reason, cancelled_by=cancelled_by, note=note, at=now),
        release_at=None,
        next_action=None,
    )
    event = OrderCancelled(
        order_id=order.id,
        order_number=order.number,
        customer=order.customer,
        reason=reason,
        cancelled_by=cancelled_by,
        note=note,
        total=order.totals.total,
    )
    detail = {"reason": reason.value, **({"actor": actor} if actor else {})}
    entry = TimelineEntry(now, "cancelled", "Commande annulée", detail)
    return Outcome(cancelled, (entry,), (event,))


@dataclass(frozen=True)
class Modification:
    """What the customer wants to change; None leaves a part as it is.

    ``quantities`` maps a sku already in the order to its new quantity (0 removes the line).
    """

    shipping_address: Address | None = None
    billing_address: Address | None = None
    shipping: ShippingOption | None = None
    quantities: Mapping[str, int] | None = None


def modify(order: Order, change: Modification, *, limits: Limits, now: datetime) -> Outcome:
    """Apply a modification before release.

    Line prices stay those of the order (the price agreed at placement). A modification that
    changes nothing publishes nothing. Every effective one increments the revision and
    publishes OrderModified with the whole new snapshot; when the total changed, payment must
    authorise the new amount before the order can be released.
    """
    refuse_if_past_window(order, modification=True)
    lines = order.lines
    if change.quantities is not None:
        lines = _requantify(order.lines, change.quantities, limits)
    method = change.shipping.as_method() if change.shipping else order.shipping_method
    updated = replace(
        order,
        lines=lines,
        shipping_method=method,
        shipping_address=change.shipping_address or order.shipping_address,
        billing_address=change.billing_address or order.billing_address,
    )
    updated = replace(updated, totals=compute_totals(updated.lines, updated.shipping_method))
    if updated == order:
        return NOTHING
    revision = order.revision + 1
    amount_changed = updated.totals.total != order.totals.total
    updated = replace(
        updated,
        revision=revision,
        amount_revision=revision if amount_changed else order.amount_revision,
    )
    event = OrderModified(
        **updated.snapshot_fields(),
        previous_total=order.totals.total,
        new_total=updated.totals.total,
        amount_changed=amount_changed,
    )
    entry = TimelineEntry(
        now,
        "modified",
        "Commande modifiée" + (" : nouveau montant à autoriser" if amount_changed else ""),
        {
            "revision": revision,
            "previous_total": str(order.totals.total),
            "new_total": str(updated.totals.total),
        },
    )
    return Outcome(updated, (entry,), (event,))


def _requantify(
    lines: tuple[OrderLine, ...], quantities: Mapping[str, int], limits: Limits
) -> tuple[OrderLine, ...]:
    problems: list[Problem] = []
    known = {line.sku for line in lines}
    for sku, quantity in quantities.items():
        if sku not in known:
            problems.append(
                Problem(
                    f"lines.{sku}",
                    "sku_not_in_order",
                    f"L'article « {sku} » ne fait pas partie de cette commande.",
                )
            )
        elif not 0 <= quantity <= limits.max_quantity_per_line:
            problems.append(
                Problem(
                    f"lines.{sku}.quantity",
                    "quantity_out_of_range",
                    f"La quantité doit être comprise entre 0 (retirer l'article) et "
                    f"{limits.max_quantity_per_line} ({quantity} demandée).",
                )
            )
    if problems:
        raise OrderRejectedError(problems)
    new_lines = []
    for line in lines:
        quantity = quantities.get(line.sku, line.quantity)
        if quantity == 0:
            continue
        new_lines.append(
            line.model_copy(update={"quantity": quantity, "line_total": line.unit_price * quantity})
        )
    if not new_lines:
        raise OrderRejectedError(
            [
                Problem(
                    "lines",
                    "order_would_be_empty",
                    "Une commande doit garder au moins un article ; pour tout retirer, "
                    "annulez la commande.",
                )
            ]
        )
    return tuple(new_lines)
