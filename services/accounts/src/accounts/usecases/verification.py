"""Email ownership: the links that verify an account's address, and what a proof does."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import structlog
from jg_events import CustomerEmailVerified, EmailProof, EmailVerificationRequested, LinkPurpose
from jg_messaging import UnitOfWork, utcnow
from jg_web.http import ApiError

from accounts import domain, repository
from accounts.context import Context
from accounts.repository import Account
from accounts.usecases.common import live
from accounts.usecases.throttle import take_room, too_many

log = structlog.get_logger(__name__)

VERIFICATION_LINK_INVALID = (
    "Ce lien de vérification n'est plus valide : il a déjà été utilisé ou il a expiré. Vous "
    "pouvez demander un nouveau lien depuis votre espace client."
)


async def new_verification_link(
    ctx: Context, conn: repository.Conn, account: Account, now: datetime
) -> tuple[str, datetime]:
    """A new single-use link that verifies the account's current address, sealed for
    notifications, and when it expires."""
    settings = ctx.settings
    token, token_hash = domain.new_token()
    expires_at = now + timedelta(seconds=settings.email_verification_ttl_seconds)
    await repository.insert_email_verification(
        conn, token_hash, account.id, account.email, now, expires_at
    )
    sealed = ctx.keyring.seal(
        domain.link_with_token(settings.storefront_email_verification_url, token),
        purpose=LinkPurpose.EMAIL_VERIFICATION,
        customer_id=account.id,
        recipient=account.email,
    )
    return sealed, expires_at


async def prove_email(
    ctx: Context, uow: UnitOfWork, account: Account, proof: EmailProof, now: datetime
) -> None:
    """A link sent to the account's current address was followed: the address is the
    account's. Link the guest orders placed with it, and say so (once per address)."""
    await repository.use_email_verifications(uow.conn, account.id, now)
    if not await repository.mark_email_verified(uow.conn, account.id, now):
        return  # proven already
    guest_email_hash = ctx.keyring.guest_email(account.email)
    # Orders of the address being recorded right now are either seen here or see the proof.
    await repository.lock_guest_email(uow.conn, guest_email_hash)
    linked = await repository.link_guest_orders(uow.conn, account.id, guest_email_hash)
    await uow.publish(
        CustomerEmailVerified(
            customer_id=account.id,
            customer_number=account.customer_number,
            email=account.email,
            first_name=account.first_name,
            verified_at=now,
            proof=proof,
        )
    )
    log.info("email_verified", customer_id=str(account.id), proof=proof.value, guest_orders=linked)


async def resend_verification(ctx: Context, customer_id: UUID) -> str:
    """Send a new verification link (409 once verified, 429 past the limit); returns the
    address it goes to."""
    settings = ctx.settings
    now = utcnow()
    async with ctx.runtime.messaging.transaction() as uow:
        account = await live(uow.conn, customer_id, lock=True)
        if account.email_verified:
            raise ApiError(409, "email_already_verified", "Votre adresse e-mail est déjà vérifiée.")
        wait = await take_room(
            uow.conn,
            "verification_resend",
            ctx.keyring.subject(f"customer:{account.id}"),
            limit=settings.email_verification_resend_limit,
            window=settings.email_verification_resend_window_seconds,
            now=now,
        )
        if wait:
            raise too_many("Vous avez déjà demandé plusieurs liens de vérification.", wait)
        sealed, expires_at = await new_verification_link(ctx, uow.conn, account, now)
        await uow.publish(
            EmailVerificationRequested(
                customer_id=account.id,
                customer_number=account.customer_number,
                email=account.email,
                first_name=account.first_name,
                sealed_verification_url=sealed,
                expires_at=expires_at,
            )
        )
    return account.email


async def confirm_verification(ctx: Context, token: str) -> None:
    """Follow a verification link: the address is proven (400 when the link is not valid)."""
    now = utcnow()
    async with ctx.runtime.messaging.transaction() as uow:
        found = await repository.usable_email_verification(uow.conn, domain.hash_token(token), now)
        if found is None:
            raise ApiError(400, "verification_link_invalid", VERIFICATION_LINK_INVALID)
        account = await live(uow.conn, found.customer_id, lock=True)
        await prove_email(ctx, uow, account, EmailProof.VERIFICATION_LINK, now)
