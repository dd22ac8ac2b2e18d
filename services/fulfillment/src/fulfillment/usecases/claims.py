"""Claims use cases: a customer opens a claim (missing or damaged item, with photos);
customer service resolves it (reship, refund or reject)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid4

import structlog
from jg_auth import Principal
from jg_events import ClaimOpened, ClaimResolution, ClaimResolved, ItemQuantity, RefundCause
from jg_messaging import UnitOfWork

from fulfillment import domain, repository
from fulfillment.context import Context
from fulfillment.usecases.common import publish_refund, visible_order
from fulfillment.usecases.errors import CommandError, Failure
from fulfillment.usecases.stock import publish_processing

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ClaimForm:
    """A claim as the customer sent it: the request, its photos (the first ones allowed, read),
    how many were sent, and the problems found while reading it."""

    request: domain.ClaimRequest
    photos: list[tuple[str | None, bytes]]
    photo_count: int
    problems: list[domain.Problem]


async def open_claim(
    ctx: Context, who: Principal, order_id: UUID, form: ClaimForm
) -> repository.Claim:
    """Record the claim and its photos; ClaimOpened (acknowledgement email)."""
    checked, photo_problems = domain.check_photos(
        form.photos, form.photo_count, ctx.settings.photo_limits()
    )
    now = ctx.clock()
    claim_id = uuid4()
    async with ctx.runtime.messaging.transaction() as uow:
        order = await visible_order(uow.conn, order_id, who)
        items = await repository.get_items(uow.conn, order_id)
        parcels = await repository.get_parcels(uow.conn, order_id)
        decision = domain.decide_claim(
            form.request,
            order_number=order.order_number,
            items={i.sku: domain.ShippedItem(i.name, i.shipped) for i in items},
            tracking_numbers=frozenset(p.tracking_number for p in parcels),
            problems=[*form.problems, *photo_problems],
        )
        if isinstance(decision, domain.ClaimRefusal):
            failure = (
                Failure.CONFLICT
                if decision.code is domain.ClaimRefusalCode.ORDER_NOT_SHIPPED
                else Failure.INVALID
            )
            raise CommandError(failure, decision.code, decision.message, problems=decision.problems)
        kind = form.request.kind
        claim_items = [
            {"sku": item.sku, "name": item.name, "quantity": item.quantity}
            for item in decision.items
        ]
        await repository.insert_claim(
            uow.conn,
            claim_id=claim_id,
            order_id=order_id,
            kind=kind,
            items=claim_items,
            message=decision.message,
            tracking_number=decision.tracking_number,
            opened_at=now,
            photos=checked,
        )
        await uow.publish(
            ClaimOpened(
                order_id=order.order_id,
                order_number=order.order_number,
                customer=order.contact,
                claim_id=claim_id,
                kind=kind,
                items=tuple(ItemQuantity(**item) for item in claim_items),
                message=decision.message,
                tracking_number=decision.tracking_number,
                photo_count=len(checked),
            )
        )
        claim = await repository.get_claim(uow.conn, claim_id)
    assert claim is not None
    log.info("claim_opened", order_id=str(order_id), claim_id=str(claim_id), kind=kind.value)
    return claim


def claim_not_found() -> CommandError:
    return CommandError(Failure.NOT_FOUND, "claim_not_found", "No such claim.")


async def resolve_claim(
    ctx: Context,
    claim_id: UUID,
    resolution: ClaimResolution,
    message: str | None,
    amount: Decimal | None,
    actor: str | None = None,
) -> repository.Claim:
    """Customer service's decision: reship (stock reserved, OrderProcessing), refund
    (RefundRequested) or reject; ClaimResolved tells the customer."""
    now = ctx.clock()
    incomplete = domain.check_resolution(resolution, message, amount)
    if incomplete is not None:
        text, problem = incomplete
        raise CommandError(Failure.INVALID, "invalid_request", text, problems=[problem])
    async with ctx.runtime.messaging.transaction() as uow:
        claim = await repository.get_claim(uow.conn, claim_id, for_update=True)
        if claim is None:
            raise claim_not_found()
        if claim.status is not domain.ClaimStatus.OPEN:
            raise CommandError(
                Failure.CONFLICT,
                "claim_already_resolved",
                f"Claim already resolved: {claim.resolution}.",
            )
        order = await repository.get_order(uow.conn, claim.order_id, for_update=True)
        assert order is not None
        claimed = {c["sku"]: int(c["quantity"]) for c in claim.items}
        refund_amount: Decimal | None = None
        if resolution is ClaimResolution.REFUND:
            refund_amount = await _refund(uow, order, claim, claimed, amount)
        elif resolution is ClaimResolution.RESHIP:
            await _reship(ctx, uow, order, claimed, now)
        await repository.resolve_claim(
            uow.conn,
            claim.claim_id,
            resolution=resolution,
            message=message,
            refund_amount=refund_amount,
            resolved_at=now,
            resolved_by=actor,
        )
        await uow.publish(
            ClaimResolved(
                order_id=order.order_id,
                order_number=order.order_number,
                customer=order.contact,
                claim_id=claim.claim_id,
                kind=claim.kind,
                resolution=resolution,
                items=tuple(ItemQuantity(**item) for item in claim.items),
                amount=refund_amount,
                message=message,
            )
        )
        resolved = await repository.get_claim(uow.conn, claim.claim_id)
    assert resolved is not None
    log.info("claim_resolved", claim_id=str(claim_id), resolution=resolution.value)
    return resolved


async def _refund(
    uow: UnitOfWork,
    order: repository.Order,
    claim: repository.Claim,
    claimed: dict[str, int],
    amount: Decimal | None,
) -> Decimal:
    """RefundRequested for the claimed items (their price, or ``amount``); the amount."""
    items = {i.sku: i for i in await repository.get_items(uow.conn, order.order_id)}
    lines = [
        domain.ReturnLine(
            sku=sku,
            name=items[sku].name,
            quantity=quantity,
            unit_price=items[sku].unit_price,
            vat_rate=items[sku].vat_rate,
        )
        for sku, quantity in claimed.items()
    ]
    try:
        parts = domain.claim_refund(lines, amount)
    except ValueError as exc:
        raise CommandError(
            Failure.INVALID,
            "invalid_request",
            str(exc),
            problems=[domain.Problem("amount", "too_large", str(exc))],
        ) from exc
    event = await publish_refund(
        uow,
        order,
        cause=RefundCause.CLAIM,
        reference_id=claim.claim_id,
        lines=list(parts),
        shipping_refund=domain.ZERO,
    )
    return event.amount


async def _reship(
    ctx: Context,
    uow: UnitOfWork,
    order: repository.Order,
    quantities: dict[str, int],
    now: datetime,
) -> None:
    """Send the claimed items again: reserve them and hand them to logistics."""
    products = await repository.lock_products(uow.conn, quantities)
    short = domain.reship_shortfall(
        quantities, {sku: product.available for sku, product in products.items()}
    )
    if short:
        raise CommandError(
            Failure.CONFLICT,
            "insufficient_stock",
            "Not enough stock to reship: " + ", ".join(f"{s} x{q}" for s, q in short.items()),
        )
    for sku, quantity in sorted(quantities.items()):
        await repository.reserve(uow.conn, sku, quantity)
        await repository.add_item_reservation(uow.conn, order.order_id, sku, quantity)
    await repository.hand_off_items(uow.conn, order.order_id, quantities)
    estimate = domain.usual_estimate(domain.paris_date(now), ctx.estimates)
    await repository.set_order_processing(uow.conn, order.order_id, estimate, now)
    await publish_processing(uow, order, quantities, products, estimate)
