"""The shop's team members (``staff_members``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from jg_auth import StaffRole

from accounts.repository.base import Conn


@dataclass(frozen=True)
class StaffMember:
    id: UUID
    email: str
    name: str
    role: StaffRole
    password_hash: str
    active: bool
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, row: Any) -> StaffMember:
        return cls(
            id=row["id"],
            email=row["email"],
            name=row["name"],
            role=StaffRole(row["role"]),
            password_hash=row["password_hash"],
            active=row["active"],
            created_at=row["created_at"],
            created_by=row["created_by"],
        )


async def insert_staff_member(
    conn: Conn,
    *,
    member_id: UUID,
    email: str,
    name: str,
    role: StaffRole,
    password_hash: str,
    now: datetime,
    created_by: str,
) -> StaffMember | None:
    """The new member, or None when the email already belongs to one."""
    row = await conn.fetchrow(
        """INSERT INTO staff_members (id, email, name, role, password_hash, created_at,
                                       created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (email) DO NOTHING
            RETURNING id, email, name, role, password_hash, active, created_at, created_by""",
        member_id,
        email,
        name,
        role.value,
        password_hash,
        now,
        created_by,
    )
    return StaffMember.of(row) if row is not None else None


async def staff_member_exists(conn: Conn, email: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM staff_members WHERE email = $1", email))


async def active_staff_member_by_email(conn: Conn, email: str) -> StaffMember | None:
    row = await conn.fetchrow(
        """SELECT id, email, name, role, password_hash, active, created_at, created_by
             FROM staff_members WHERE email = $1 AND active""",
        email,
    )
    return StaffMember.of(row) if row is not None else None


async def staff_members(conn: Conn) -> list[StaffMember]:
    rows = await conn.fetch(
        """SELECT id, email, name, role, password_hash, active, created_at, created_by
             FROM staff_members ORDER BY created_at, email"""
    )
    return [StaffMember.of(row) for row in rows]


async def rehash_staff_password(conn: Conn, member_id: UUID, old: str, new: str) -> None:
    await conn.execute(
        "UPDATE staff_members SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
        member_id,
        old,
        new,
    )
