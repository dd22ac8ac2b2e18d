"""The shop's team: sign-in (staff tokens), the members a manager adds, development seeding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

import structlog
from jg_auth import StaffRole
from jg_messaging import utcnow
from jg_web.http import ApiError

from accounts.context import Context
from accounts.domain import staff as rules
from accounts.repository import staff as members
from accounts.repository.base import Conn
from accounts.repository.staff import StaffMember
from accounts.security import HashingBusyError, Passwords
from accounts.usecases import throttle
from accounts.usecases.common import check_new_password

log = structlog.get_logger(__name__)

INVALID_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."


@dataclass(frozen=True)
class StaffSignIn:
    access_token: str
    expires_at: datetime
    member: StaffMember


@dataclass(frozen=True)
class NewStaffMember:
    email: str
    name: str
    role: StaffRole
    password: str


async def log_in(ctx: Context, email: str, password: str, address: str) -> StaffSignIn:
    """A staff token for an active member's right email and password (401 otherwise, in the
    same time for an unknown email; failures slow down like customers' logins: 429)."""
    now = utcnow()
    ids = await throttle.throttle_login(ctx, f"staff:{email}", address, now)
    async with ctx.pool.acquire() as conn:
        member = await members.active_staff_member_by_email(conn, email)
    if not await ctx.passwords.verify(member.password_hash if member else None, password):
        log.info("staff_login_failed")
        raise ApiError(401, "invalid_credentials", INVALID_CREDENTIALS)
    assert member is not None
    await throttle.login_succeeded(ctx, f"staff:{email}", ids)
    if ctx.passwords.needs_rehash(member.password_hash):
        try:
            new_hash = await ctx.passwords.hash(password)
        except HashingBusyError:
            log.info("password_rehash_postponed")
        else:
            async with ctx.pool.acquire() as conn:
                await members.rehash_staff_password(conn, member.id, member.password_hash, new_hash)
    token, expires_at = ctx.keyring.staff_token(
        member_id=member.id, email=member.email, name=member.name, role=member.role, now=now
    )
    log.info("staff_logged_in", member_id=str(member.id), role=member.role.value)
    return StaffSignIn(token, expires_at, member)


async def list_members(ctx: Context) -> list[StaffMember]:
    async with ctx.pool.acquire() as conn:
        return await members.staff_members(conn)


async def add_member(ctx: Context, new: NewStaffMember, actor: str) -> StaffMember:
    """A new member (the password policy applies: 422; an email already used: 409)."""
    first, _, last = new.name.partition(" ")
    check_new_password(new.password, email=new.email, names=(first, last), field_name="password")
    async with ctx.pool.acquire() as conn:
        member = await insert_member(conn, ctx.passwords, new, actor)
    if member is None:
        raise ApiError(409, "email_taken", "Un membre de l'équipe utilise déjà cette adresse.")
    log.info("staff_member_added", member_id=str(member.id), role=member.role.value)
    return member


async def insert_member(
    conn: Conn, passwords: Passwords, new: NewStaffMember, actor: str
) -> StaffMember | None:
    """Hash the password and insert the member (None when the email is taken)."""
    if await members.staff_member_exists(conn, new.email):
        return None
    return await members.insert_staff_member(
        conn,
        member_id=uuid4(),
        email=new.email,
        name=new.name,
        role=new.role,
        password_hash=await passwords.hash(new.password),
        now=utcnow(),
        created_by=actor,
    )


async def seed_development_staff(ctx: Context, conn: Conn) -> None:
    """In development only, the manager and the agent of the local console (known password);
    nothing in test or production."""
    for dev in rules.dev_staff_to_seed(ctx.settings.platform.environment):
        new = NewStaffMember(dev.email, dev.name, dev.role, rules.DEV_STAFF_PASSWORD)
        if await insert_member(conn, ctx.passwords, new, "development-seed") is not None:
            log.info("staff_member_seeded", email=dev.email, role=dev.role.value)
