"""The work queues: claims, returns received, backorders, refused logistics reports, stock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from backoffice.context import Context
from backoffice.domain import Action, Session, wording
from backoffice.usecases.common import Block, act, block, flash


async def claims(ctx: Context, session: Session) -> Block:
    read = ctx.services.get_json(
        "fulfillment", "/operator/claims", session.token, params={"status": "open"}
    )
    return await block("fulfillment", read)


async def claim(ctx: Context, session: Session, claim_id: UUID) -> Block:
    return await block(
        "fulfillment",
        ctx.services.get_json("fulfillment", f"/operator/claims/{claim_id}", session.token),
    )


async def photo(
    ctx: Context, session: Session, claim_id: UUID, photo_id: UUID
) -> tuple[bytes, str]:
    response = await ctx.services.call(
        "fulfillment", "GET", f"/operator/claims/{claim_id}/photos/{photo_id}", token=session.token
    )
    return response.content, response.headers.get("content-type", "application/octet-stream")


@dataclass(frozen=True)
class Decision:
    resolution: str  # refund | reship | rejected
    message: str | None
    amount: Decimal | None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"resolution": self.resolution}
        if self.message:
            body["message"] = self.message
        if self.amount is not None and self.resolution == "refund":
            body["amount"] = f"{self.amount:.2f}"
        return body


DECIDED = {
    "refund": "Le remboursement est demandé\u00a0; le client recevra un e-mail.",
    "reship": "Le renvoi des articles est lancé\u00a0; le client recevra un e-mail.",
    "rejected": "La réclamation est refusée\u00a0; le client recevra votre message.",
}


async def resolve(ctx: Context, session: Session, claim_id: UUID, decision: Decision) -> bool:
    async def call() -> Any:
        return await ctx.services.call(
            "fulfillment",
            "POST",
            f"/operator/claims/{claim_id}/resolution",
            token=session.token,
            json=decision.body(),
        )

    return await act(
        ctx,
        session,
        Action.RESOLVE_CLAIM,
        call,
        DECIDED[decision.resolution],
        claim_id=claim_id,
        resolution=decision.resolution,
        amount=None if decision.amount is None else f"{decision.amount:.2f}",
    )


@dataclass(frozen=True)
class Queues:
    returns: Block
    backorders: Block
    rejected: Block


async def others(ctx: Context, session: Session) -> Queues:
    s, token = ctx.services, session.token
    returns, backorders, rejected = await asyncio.gather(
        block(
            "fulfillment",
            s.get_json("fulfillment", "/operator/returns", token, params={"status": "received"}),
        ),
        block("fulfillment", s.get_json("fulfillment", "/operator/backorders", token)),
        block("fulfillment", s.get_json("fulfillment", "/operator/rejected-reports", token)),
    )
    return Queues(returns, backorders, rejected)


def age(since: object, now: datetime) -> str:
    """'3 jours' since a backorder started (French)."""
    start = wording.parse_time(since)
    if start is None:
        return ""
    days = (now - start).days
    if days >= 1:
        return f"{days}\u00a0jour{'s' if days > 1 else ''}"
    hours = int((now - start).total_seconds() // 3600)
    return f"{hours}\u00a0heure{'s' if hours > 1 else ''}" if hours >= 1 else "moins d’une heure"


@dataclass(frozen=True)
class Count:
    sku: str
    name_fr: str
    on_hand: int
    note: str | None


async def count_stock(ctx: Context, session: Session, count: Count) -> bool:
    body: dict[str, Any] = {"name_fr": count.name_fr, "on_hand": count.on_hand}
    if count.note:
        body["note"] = count.note

    async def call() -> Any:
        return await ctx.services.call(
            "fulfillment", "PUT", f"/operator/stock/{count.sku}", token=session.token, json=body
        )

    done = f"Inventaire enregistré\u00a0: {count.on_hand} article(s) pour {count.sku}."
    return await act(
        ctx, session, Action.COUNT_STOCK, call, done, target=count.sku, on_hand=count.on_hand
    )


async def say(ctx: Context, session: Session, message: str) -> None:
    """A form the member must correct: the message on the next page."""
    await flash(ctx, session, message, ok=False)
