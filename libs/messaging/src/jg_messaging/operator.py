"""Parked outbox rows for the console's managers: list them, replay one (as
tools/outbox_replay.py does). Every service includes :func:`parked_outbox_router`; the routes
need the service's staff gate (``jg_auth.install_staff_gate``) and a manager's staff token or
the service's static operator token."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, HTTPException
from jg_auth import Operator, StaffRole, staff_or_operator
from jg_web.ids import row_id_path
from pydantic import BaseModel, Field

from jg_messaging import outbox
from jg_messaging.runtime import ServiceRuntime

__all__ = ["ParkedRow", "parked_outbox_router"]

log = structlog.get_logger(__name__)


class ParkedRow(BaseModel):
    id: int = Field(description="The outbox row's id (to replay it).")
    topic: str = Field(description="Kafka topic the row is for.")
    event_type: str = Field(description="The event's type, e.g. 'OrderPlaced'.")
    key: str = Field(description="The message key (the order's id, usually).")
    attempts: int = Field(description="Failed publications before it was parked.")
    last_error: str | None = Field(description="Why the last publication failed.")
    created_at: datetime = Field(description="When the event was written (UTC).")


class Replayed(BaseModel):
    id: int = Field(description="The row put back to pending.")
    event_type: str = Field(description="Its event's type.")


Manager = Annotated[Operator, Depends(staff_or_operator(StaffRole.MANAGER))]


def parked_outbox_router(runtime: ServiceRuntime) -> APIRouter:
    """``GET /operator/outbox/parked`` and ``POST /operator/outbox/parked/{id}/replay``."""
    router = APIRouter(
        prefix="/operator/outbox",
        tags=["operations"],
        responses={
            401: {"description": "No staff or operator token (or an invalid one)"},
            403: {"description": "A staff token below the manager role"},
            422: {"description": "An id that is not a positive 64-bit integer"},
        },
    )

    @router.get("/parked", summary="Outbox rows the relay gave up on (managers)")
    async def list_parked(_: Manager) -> list[ParkedRow]:
        async with runtime.pool.acquire() as conn:
            rows = await outbox.parked(conn)
        return [
            ParkedRow(
                id=r["id"],
                topic=r["topic"],
                event_type=r["event_type"],
                key=r["message_key"],
                attempts=r["attempts"],
                last_error=r["last_error"],
                created_at=r["created_at"],
            )
            for r in rows
        ]

    @router.post(
        "/parked/{row_id}/replay",
        status_code=202,
        summary="Send a parked row again, then the rows of its key behind it (managers)",
        responses={404: {"description": "No parked row with this id"}},
    )
    async def replay(
        row_id: Annotated[int, row_id_path("The parked row's id")], who: Manager
    ) -> Replayed:
        async with runtime.pool.acquire() as conn:
            rows = await outbox.replay_parked(conn, [row_id])
        if not rows:
            raise HTTPException(404, "Aucune ligne en attente avec cet identifiant.")
        log.info("outbox_row_replayed", row_id=row_id, event_type=rows[0]["event_type"])
        return Replayed(id=row_id, event_type=rows[0]["event_type"])

    return router
