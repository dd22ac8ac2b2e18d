"""asyncpg, plain SQL: sessions, the audit trail and the dead-letter copies."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from backoffice.domain import Action, AuditEntry, DeadLetter, Member, Outcome, Role, Session

Conn = Any  # asyncpg.Connection or Pool (untyped library)


async def insert_session(conn: Conn, session: Session) -> None:
    m = session.member
    await conn.execute(
        "INSERT INTO console_sessions (id, member_id, member_email, member_name, member_role,"
        " staff_token, token_expires_at, csrf_token, created_at, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        session.id,
        m.id,
        m.email,
        m.name,
        m.role.value,
        session.token,
        session.token_expires_at,
        session.csrf_token,
        session.created_at,
        session.expires_at,
    )


async def get_session(conn: Conn, session_id: str) -> Session | None:
    row = await conn.fetchrow("SELECT * FROM console_sessions WHERE id = $1", session_id)
    if row is None:
        return None
    member = Member(
        id=row["member_id"],
        email=row["member_email"],
        name=row["member_name"],
        role=Role(row["member_role"]),
    )
    return Session(
        id=row["id"],
        member=member,
        token=row["staff_token"],
        token_expires_at=row["token_expires_at"],
        csrf_token=row["csrf_token"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
    )


async def delete_session(conn: Conn, session_id: str) -> None:
    await conn.execute("DELETE FROM console_sessions WHERE id = $1", session_id)


async def delete_expired_sessions(conn: Conn, now: datetime) -> int:
    status: str = await conn.execute("DELETE FROM console_sessions WHERE expires_at <= $1", now)
    return int(status.split()[-1])


async def add_audit(conn: Conn, entry: AuditEntry) -> None:
    await conn.execute(
        "INSERT INTO audit_trail (at, actor, role, action, outcome, order_id, claim_id, target,"
        " detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)",
        entry.at,
        entry.actor,
        entry.role,
        entry.action.value,
        entry.outcome.value,
        entry.order_id,
        entry.claim_id,
        entry.target,
        json.dumps(entry.detail, ensure_ascii=False),
    )


async def list_audit(conn: Conn, limit: int = 200, order_id: str | None = None) -> list[AuditEntry]:
    rows = await conn.fetch(
        "SELECT * FROM audit_trail WHERE ($1::text IS NULL OR order_id = $1)"
        " ORDER BY at DESC, id DESC LIMIT $2",
        order_id,
        limit,
    )
    return [
        AuditEntry(
            at=r["at"],
            actor=r["actor"],
            role=r["role"],
            action=Action(r["action"]),
            outcome=Outcome(r["outcome"]),
            order_id=r["order_id"],
            claim_id=r["claim_id"],
            target=r["target"],
            detail=json.loads(r["detail"]) if isinstance(r["detail"], str) else r["detail"],
        )
        for r in rows
    ]


def _encode_headers(headers: list[tuple[str, bytes]]) -> str:
    return json.dumps([[k, base64.b64encode(v).decode()] for k, v in headers])


def _decode_headers(raw: Any) -> list[tuple[str, bytes]]:
    items = json.loads(raw) if isinstance(raw, str) else raw
    return [(str(k), base64.b64decode(v)) for k, v in items]


async def add_dead_letter(conn: Conn, letter: DeadLetter) -> bool:
    """Keep a copy; False when this (topic, partition, offset) is already kept."""
    status: str = await conn.execute(
        'INSERT INTO dead_letters (service, topic, partition, "offset", key, value, headers,'
        " received_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)"
        ' ON CONFLICT (topic, partition, "offset") DO NOTHING',
        letter.service,
        letter.topic,
        letter.partition,
        letter.offset,
        letter.key,
        letter.value,
        _encode_headers(letter.headers),
        letter.received_at,
    )
    return status.endswith(" 1")


def _letter(r: Any) -> DeadLetter:
    return DeadLetter(
        id=r["id"],
        service=r["service"],
        topic=r["topic"],
        partition=r["partition"],
        offset=r["offset"],
        key=r["key"],
        value=bytes(r["value"]),
        headers=_decode_headers(r["headers"]),
        received_at=r["received_at"],
        replayed_at=r["replayed_at"],
        replayed_by=r["replayed_by"],
    )


async def list_dead_letters(conn: Conn, limit: int = 200) -> list[DeadLetter]:
    rows = await conn.fetch(
        "SELECT * FROM dead_letters ORDER BY received_at DESC, id DESC LIMIT $1", limit
    )
    return [_letter(r) for r in rows]


async def get_dead_letter(
    conn: Conn, letter_id: int, *, for_update: bool = False
) -> DeadLetter | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT * FROM dead_letters WHERE id = $1{lock}", letter_id)  # noqa: S608 - a fixed suffix
    return None if row is None else _letter(row)


async def mark_replayed(conn: Conn, letter_id: int, at: datetime, by: str) -> None:
    await conn.execute(
        "UPDATE dead_letters SET replayed_at = $2, replayed_by = $3 WHERE id = $1",
        letter_id,
        at,
        by,
    )


__all__ = [
    "add_audit",
    "add_dead_letter",
    "delete_expired_sessions",
    "delete_session",
    "get_dead_letter",
    "get_session",
    "insert_session",
    "list_audit",
    "list_dead_letters",
    "mark_replayed",
]


async def set_flash(conn: Conn, session_id: str, message: str, ok: bool) -> None:
    await conn.execute(
        "UPDATE console_sessions SET flash = $2, flash_ok = $3 WHERE id = $1",
        session_id,
        message,
        ok,
    )


async def pop_flash(conn: Conn, session_id: str) -> tuple[str, bool] | None:
    row = await conn.fetchrow(
        "UPDATE console_sessions s SET flash = NULL FROM console_sessions old"
        " WHERE s.id = $1 AND old.id = s.id AND old.flash IS NOT NULL"
        " RETURNING old.flash, old.flash_ok",
        session_id,
    )
    return None if row is None else (row["flash"], row["flash_ok"])
