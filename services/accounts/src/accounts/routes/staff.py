"""The shop's team: sign-in to the console (staff tokens) and the members a manager adds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from jg_auth import Operator, StaffRole, staff_or_operator

from accounts.repository.staff import StaffMember
from accounts.routes.dependencies import ClientAddress, Ctx
from accounts.routes.responses import errors
from accounts.schemas import (
    NewStaffMemberIn,
    StaffLogin,
    StaffMemberDetail,
    StaffMemberOut,
    StaffTokens,
)
from accounts.usecases import staff

router = APIRouter(prefix="/staff", tags=["staff"])

Manager = Annotated[Operator, Depends(staff_or_operator(StaffRole.MANAGER))]


def _out(member: StaffMember) -> StaffMemberOut:
    return StaffMemberOut(
        id=member.id, email=member.email, name=member.name, role=member.role.value
    )


def _detail(member: StaffMember) -> StaffMemberDetail:
    return StaffMemberDetail(
        **_out(member).model_dump(),
        active=member.active,
        created_at=member.created_at,
        created_by=member.created_by,
    )


@router.post(
    "/login",
    summary="A team member signs in: a staff access token (15 minutes)",
    responses=errors(429, body=True),
)
async def login(body: StaffLogin, ctx: Ctx, address: ClientAddress) -> StaffTokens:
    signed_in = await staff.log_in(ctx, body.email, body.password, address)
    return StaffTokens(
        access_token=signed_in.access_token,
        expires_in=ctx.settings.staff_token_ttl_seconds,
        member=_out(signed_in.member),
    )


@router.get("/members", summary="The team's members (managers)", responses=errors(403))
async def list_members(ctx: Ctx, _: Manager) -> list[StaffMemberDetail]:
    return [_detail(member) for member in await staff.list_members(ctx)]


@router.post(
    "/members",
    status_code=201,
    summary="Add a team member (managers)",
    responses=errors(403, 409, body=True),
)
async def add_member(body: NewStaffMemberIn, ctx: Ctx, who: Manager) -> StaffMemberDetail:
    new = staff.NewStaffMember(body.email, body.name, StaffRole(body.role), body.password)
    return _detail(await staff.add_member(ctx, new, who.actor))
