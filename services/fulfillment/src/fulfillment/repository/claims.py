"""After-sales claims and their photos."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from jg_events import ClaimKind, ClaimResolution

from fulfillment.domain import CheckedPhoto, ClaimStatus
from fulfillment.repository._sql import dump


@dataclass(frozen=True)
class Claim:
    claim_id: UUID
    order_id: UUID
    kind: ClaimKind
    status: ClaimStatus
    items: list[dict[str, Any]]
    message: str | None
    tracking_number: str | None
    opened_at: datetime
    resolution: ClaimResolution | None
    resolution_message: str | None
    refund_amount: Decimal | None
    resolved_at: datetime | None
    photos: list[dict[str, Any]]


@dataclass(frozen=True)
class Photo:
    filename: str | None
    content_type: str
    data: bytes


async def insert_claim(
    conn: asyncpg.Connection,
    *,
    claim_id: UUID,
    order_id: UUID,
    kind: ClaimKind,
    items: Sequence[Mapping[str, Any]],
    message: str | None,
    tracking_number: str | None,
    opened_at: datetime,
    photos: Sequence[CheckedPhoto],
) -> None:
    await conn.execute(
        """INSERT INTO claims (claim_id, order_id, kind, status, items, message,
               tracking_number, opened_at)
           VALUES ($1, $2, $3, $8, $4::jsonb, $5, $6, $7)""",
        claim_id,
        order_id,
        kind.value,
        dump(list(items)),
        message,
        tracking_number,
        opened_at,
        ClaimStatus.OPEN.value,
    )
    await conn.executemany(
        """INSERT INTO claim_photos (photo_id, claim_id, position, filename, content_type,
               size_bytes, sha256, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        [
            (
                uuid4(),
                claim_id,
                position,
                photo.filename,
                photo.content_type,
                len(photo.data),
                hashlib.sha256(photo.data).hexdigest(),
                photo.data,
            )
            for position, photo in enumerate(photos)
        ],
    )


_CLAIM_SELECT = """SELECT c.claim_id, c.order_id, c.kind, c.status, c.items, c.message,
        c.tracking_number, c.opened_at, c.resolution, c.resolution_message, c.refund_amount,
        c.resolved_at,
        coalesce((SELECT json_agg(json_build_object(
                     'photo_id', p.photo_id, 'filename', p.filename,
                     'content_type', p.content_type, 'size_bytes', p.size_bytes,
                     'sha256', p.sha256, 'erased', p.data IS NULL) ORDER BY p.position)
                  FROM claim_photos p WHERE p.claim_id = c.claim_id), '[]') AS photos
    FROM claims c"""


def _claim(row: asyncpg.Record) -> Claim:
    data = dict(row)
    data["items"] = json.loads(data["items"])
    data["photos"] = json.loads(data["photos"])
    data["kind"] = ClaimKind(data["kind"])
    data["status"] = ClaimStatus(data["status"])
    data["resolution"] = ClaimResolution(data["resolution"]) if data["resolution"] else None
    return Claim(**data)


async def get_claim(
    conn: asyncpg.Connection, claim_id: UUID, *, for_update: bool = False
) -> Claim | None:
    lock = " FOR UPDATE OF c" if for_update else ""
    row = await conn.fetchrow(f"{_CLAIM_SELECT} WHERE c.claim_id = $1{lock}", claim_id)
    return _claim(row) if row else None


async def list_claims(
    conn: asyncpg.Connection, *, status: ClaimStatus | None = None, order_id: UUID | None = None
) -> list[Claim]:
    rows = await conn.fetch(
        f"{_CLAIM_SELECT} WHERE ($1::text IS NULL OR c.status = $1) "
        "AND ($2::uuid IS NULL OR c.order_id = $2) ORDER BY c.opened_at",
        status.value if status else None,
        order_id,
    )
    return [_claim(row) for row in rows]


async def get_photo(conn: asyncpg.Connection, claim_id: UUID, photo_id: UUID) -> Photo | None:
    row = await conn.fetchrow(
        "SELECT filename, content_type, data FROM claim_photos "
        "WHERE claim_id = $1 AND photo_id = $2 AND data IS NOT NULL",
        claim_id,
        photo_id,
    )
    return Photo(**dict(row)) if row else None


async def resolve_claim(
    conn: asyncpg.Connection,
    claim_id: UUID,
    *,
    resolution: ClaimResolution,
    message: str | None,
    refund_amount: Decimal | None,
    resolved_at: datetime,
    resolved_by: str | None = None,
) -> None:
    await conn.execute(
        """UPDATE claims SET status = $6, resolution = $2, resolution_message = $3,
               refund_amount = $4, resolved_at = $5, resolved_by = $7
           WHERE claim_id = $1""",
        claim_id,
        resolution.value,
        message,
        refund_amount,
        resolved_at,
        ClaimStatus.RESOLVED.value,
        resolved_by,
    )
