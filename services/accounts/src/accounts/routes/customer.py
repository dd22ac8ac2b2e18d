"""The customer's own account: profile, email (change, verification), password, erasure."""

from __future__ import annotations

from fastapi import APIRouter, Response
from jg_web.http import ApiError, Problem

from accounts import domain
from accounts.routes.dependencies import Caller, ClientAddress, Ctx
from accounts.routes.responses import ERRORS, errors
from accounts.routes.views import profile
from accounts.schemas import (
    Accepted,
    ConfirmToken,
    CustomerErasureRequest,
    EmailChange,
    ErasureAccepted,
    PasswordChange,
    Profile,
    ProfileChange,
)
from accounts.usecases import email_change, erasure, verification
from accounts.usecases import profile as profiles

router = APIRouter()

ERASURE_ACCEPTED = (
    "Votre demande de suppression de compte est enregistrée. Vos données personnelles vont "
    "être effacées ; seules les factures, que la loi nous impose de conserver, sont gardées. "
    "Un e-mail vous confirmera la suppression."
)


@router.get("/me", tags=["profile"], summary="The logged-in customer's profile", responses=ERRORS)
async def me(claims: Caller, ctx: Ctx) -> Profile:
    return profile(await profiles.show_profile(ctx, claims.customer_id))


@router.patch(
    "/me",
    tags=["profile"],
    summary="Change name or billing address ('Informations et adresse de facturation')",
    responses=errors(body=True),
)
async def change_profile(body: ProfileChange, claims: Caller, ctx: Ctx) -> Profile:
    given = body.model_fields_set
    for name in ("first_name", "last_name"):
        if name in given and getattr(body, name) is None:
            raise ApiError(
                422,
                "validation_error",
                "Certaines informations sont invalides.",
                problems=[Problem(name, "missing", "Ce champ est obligatoire.")],
            )
    change = domain.ProfileChange(
        first_name=body.first_name,
        last_name=body.last_name,
        billing_address=body.billing_address.to_address() if body.billing_address else None,
        address_given="billing_address" in given,
    )
    return profile(await profiles.change_profile(ctx, claims.customer_id, change))


@router.post(
    "/me/email",
    status_code=202,
    tags=["profile"],
    summary="Change email: a confirmation link is sent to the new address",
    responses=errors(403, 409, 429, body=True),
)
async def change_email(
    body: EmailChange, claims: Caller, ctx: Ctx, address: ClientAddress
) -> Accepted:
    await email_change.request_email_change(
        ctx, claims.customer_id, body.new_email, body.current_password, address
    )
    return Accepted(
        message=f"Un e-mail de confirmation a été envoyé à {body.new_email}. Cliquez sur le "
        "lien qu'il contient pour valider votre nouvelle adresse."
    )


@router.post(
    "/email-change/confirm",
    tags=["profile"],
    summary="Confirm a new email with the token from the link (no login needed)",
    responses=errors(400, 409, body=True),
)
async def confirm_email(body: ConfirmToken, ctx: Ctx) -> Profile:
    return profile(await email_change.confirm_email_change(ctx, body.token))


@router.post(
    "/me/email-verification",
    status_code=202,
    tags=["email verification"],
    summary="Send a new link that verifies my email (rate-limited)",
    responses=errors(409, 429),
)
async def resend_verification(claims: Caller, ctx: Ctx) -> Accepted:
    email = await verification.resend_verification(ctx, claims.customer_id)
    return Accepted(
        message=f"Un nouveau lien de vérification a été envoyé à {email}. Pensez à "
        "consulter votre dossier « Courrier indésirable » ou « Spams »."
    )


@router.post(
    "/email-verification/confirm",
    tags=["email verification"],
    summary="Verify an account's email with the token from the link (no login needed)",
    responses=errors(400, body=True),
)
async def confirm_verification(body: ConfirmToken, ctx: Ctx) -> Accepted:
    await verification.confirm_verification(ctx, body.token)
    return Accepted(
        message="Merci, votre adresse e-mail est vérifiée. Les commandes passées avec "
        "cette adresse apparaissent désormais dans « Mes commandes et factures »."
    )


@router.post(
    "/me/password",
    status_code=204,
    tags=["profile"],
    summary="Change password (current one required; the other sessions end)",
    responses=errors(403, 429, 503, body=True),
)
async def change_password(
    body: PasswordChange, claims: Caller, ctx: Ctx, address: ClientAddress
) -> Response:
    await profiles.change_password(ctx, claims, body.current_password, body.new_password, address)
    return Response(status_code=204)


@router.post(
    "/me/erasure",
    status_code=202,
    tags=["erasure"],
    summary="Delete my account and personal data (current password required)",
    responses=errors(403, 429, body=True),
)
async def erase_me(
    body: CustomerErasureRequest, claims: Caller, ctx: Ctx, address: ClientAddress
) -> ErasureAccepted:
    number = await erasure.request_own_erasure(
        ctx, claims.customer_id, body.current_password, address
    )
    return ErasureAccepted(message=ERASURE_ACCEPTED, customer_number=number)
