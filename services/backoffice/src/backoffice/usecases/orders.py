"""Finding an order and reading it whole: one call per service, in parallel, one timeline."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from backoffice.context import Context
from backoffice.domain import Action, Session, timeline
from backoffice.usecases.common import Block, act, block


async def search(ctx: Context, session: Session, query: str) -> Block:
    """Orders by number (exact), email (exact) or name (part of it); newest first, 50 at most."""
    read = ctx.services.get_json(
        "checkout", "/operator/orders", session.token, params={"q": query.strip()}
    )
    return await block("checkout", read)


@dataclass(frozen=True)
class OrderPage:
    order: Block  # checkout's order
    payments: Block  # payment's events and documents
    fulfillment: Block  # hand-off, parcels, returns, claims
    emails: Block  # notifications' emails of the order
    entries: list[timeline.Entry]

    @property
    def missing(self) -> list[str]:
        """The French messages of the services that did not answer."""
        blocks = (self.order, self.payments, self.fulfillment, self.emails)
        return [b.error for b in blocks if b.error]


async def read_order(ctx: Context, session: Session, order_id: UUID) -> OrderPage:
    """Everything the four services know of one order, and the merged timeline."""
    s, token, oid = ctx.services, session.token, str(order_id)
    order, payments, fulfillment, emails = await asyncio.gather(
        block("checkout", s.get_json("checkout", f"/operator/orders/{oid}", token)),
        block("payment", s.get_json("payment", f"/operator/orders/{oid}/payments", token)),
        block("fulfillment", s.get_json("fulfillment", f"/operator/orders/{oid}", token)),
        block(
            "notifications", s.get_json("notifications", f"/operator/orders/{oid}/emails", token)
        ),
    )
    entries = timeline.merge(
        timeline.checkout_entries(_obj(order)),
        timeline.payment_entries(_obj(payments)),
        timeline.fulfillment_entries(_obj(fulfillment)),
        timeline.email_entries(emails.data if isinstance(emails.data, list) else []),
    )
    return OrderPage(order, payments, fulfillment, emails, entries)


def _obj(b: Block) -> dict[str, Any]:
    return b.data if isinstance(b.data, dict) else {}


async def cancel(ctx: Context, session: Session, order_id: UUID, note: str) -> bool:
    """Cancel on the customer's behalf (checkout applies the customer's window rule)."""
    oid = str(order_id)

    async def call() -> Any:
        return await ctx.services.call(
            "checkout",
            "POST",
            f"/operator/orders/{oid}/cancel",
            token=session.token,
            json={"note": note},
        )

    done = "La commande est annulée. Le client en est informé par e-mail."
    return await act(ctx, session, Action.CANCEL_ORDER, call, done, order_id=oid, note=note)


async def resend_email(ctx: Context, session: Session, order_id: UUID, email_id: int) -> bool:
    """Send an email of the order again, same content, same recipient."""

    async def call() -> Any:
        return await ctx.services.call(
            "notifications", "POST", f"/operator/emails/{email_id}/resend", token=session.token
        )

    done = "L’e-mail sera renvoyé au client dans quelques instants."
    return await act(
        ctx, session, Action.RESEND_EMAIL, call, done, order_id=order_id, target=email_id
    )


async def document(ctx: Context, session: Session, number: str) -> tuple[bytes, str]:
    """An invoice or credit note PDF, fetched from payment with the member's token."""
    response = await ctx.services.call(
        "payment", "GET", f"/invoices/{number}.pdf", token=session.token
    )
    return response.content, response.headers.get("content-type", "application/pdf")
