"""HTTP routes: sign-up, login and sessions, profile, email verification, password reset,
erasure, order history."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import structlog
from fastapi import APIRouter, Depends, Path, Query, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jg_auth import AuthError, CustomerClaims, TokenError
from jg_events import (
    Address,
    CustomerEmailVerified,
    CustomerErasureRequested,
    CustomerField,
    CustomerRegistered,
    CustomerUpdated,
    EmailChangeRequested,
    EmailProof,
    EmailVerificationRequested,
    ErasureRequestedBy,
    LinkPurpose,
    PasswordResetRequested,
)
from jg_messaging import ServiceRuntime
from jg_web import COUNTRY_NOT_DELIVERED, delivery_problem
from jg_web.http import ApiError, Problem

from accounts import domain, repository
from accounts.schemas import (
    Accepted,
    ConfirmToken,
    CustomerErasureRequest,
    EmailChange,
    ErasureAccepted,
    ErrorBody,
    Invoice,
    Login,
    OperatorErasureRequest,
    OrderDetail,
    OrderLineView,
    OrderList,
    OrderSummary,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    Profile,
    ProfileChange,
    Refresh,
    SessionInfo,
    SignUp,
    TimelineEntry,
    Tokens,
    Tracking,
)
from accounts.security import HashingBusyError, Keyring, Passwords, utcnow
from accounts.settings import AccountsSettings

log = structlog.get_logger(__name__)

RESET_ACCEPTED = (
    "Si un compte JapanGoodz est associé à cette adresse, vous allez recevoir dans quelques "
    "minutes un e-mail contenant un lien pour créer un nouveau mot de passe. Pensez à consulter "
    "votre dossier « Courrier indésirable » ou « Spams »."
)
RESET_LINK_INVALID = (
    "Ce lien de réinitialisation n'est plus valide : il a déjà été utilisé ou il a expiré. "
    "Veuillez faire une nouvelle demande depuis « Mot de passe perdu ? »."
)
SESSION_ENDED = "Votre session a pris fin, veuillez vous reconnecter."
VERIFICATION_LINK_INVALID = (
    "Ce lien de vérification n'est plus valide : il a déjà été utilisé ou il a expiré. Vous "
    "pouvez demander un nouveau lien depuis votre espace client."
)

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        401: "Not authenticated, or the session ended.",
        422: "Invalid input, with per-field details.",
    }.items()
}


def _error(*codes: int, body: bool = False) -> dict[int | str, dict[str, Any]]:
    """The errors of a route; ``body``: it reads a JSON body (400 when it is not UTF-8)."""
    texts = {
        400: "The link is no longer valid.",
        403: "The current password is wrong.",
        404: "Not found (or not yours).",
        409: "The email address already has an account.",
        429: "Too many attempts: wait (Retry-After).",
        503: "Too busy right now (hashing capacity taken): try again after Retry-After.",
    }
    if body:
        unreadable = "The body is not readable JSON (not UTF-8)."
        texts[400] = f"{texts[400]} Or: {unreadable}" if 400 in codes else unreadable
        codes = (*codes, 400)
    extra: dict[int | str, dict[str, Any]] = {
        c: {"model": ErrorBody, "description": texts[c]} for c in codes
    }
    return {**_ERRORS, **extra}


@dataclass
class Accounts:
    """What the routes and handlers share (built by create_app, usable once started)."""

    settings: AccountsSettings
    runtime: ServiceRuntime
    keyring: Keyring
    passwords: Passwords
    trusted_proxies: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = field(
        default_factory=list
    )
    # Sign-ups count against their limits one at a time per instance: a flood waits here, in
    # memory, instead of holding database connections (logins need them) while it queues on the
    # subject's advisory lock. A check takes a few milliseconds.
    sign_up_checks: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))

    def __post_init__(self) -> None:
        self.trusted_proxies = [
            ipaddress.ip_network(n, strict=False) for n in self.settings.trusted_proxies
        ]
        s = self.settings
        self.email_backoff = domain.Backoff(
            free_failures=s.login_free_failures_per_email,
            window=timedelta(seconds=s.login_window_seconds),
            base_delay=timedelta(seconds=s.login_base_delay_seconds),
            max_delay=timedelta(seconds=s.login_max_delay_seconds),
        )
        self.address_backoff = domain.Backoff(
            free_failures=s.login_free_failures_per_address,
            window=timedelta(seconds=s.login_window_seconds),
            base_delay=timedelta(seconds=s.login_base_delay_seconds),
            max_delay=timedelta(seconds=s.login_max_delay_seconds),
        )

    @property
    def pool(self) -> asyncpg.Pool:
        return self.runtime.pool

    def address_of(self, request: Request) -> str:
        peer = request.client.host if request.client else None
        return domain.client_address(
            peer, request.headers.get("x-forwarded-for"), self.trusted_proxies
        )


# --- helpers ---------------------------------------------------------------------------------


def _address(row: asyncpg.Record) -> Address | None:
    raw = row["billing_address"]
    return Address.model_validate(json.loads(raw)) if raw is not None else None


async def _profile(conn: repository.Conn, row: asyncpg.Record, now: datetime) -> Profile:
    return Profile(
        customer_id=row["id"],
        customer_number=row["customer_number"],
        email=row["email"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        billing_address=_address(row),
        pending_email=await repository.pending_email(conn, row["id"], now),
        email_verified=row["email_verified_at"] is not None,
        created_at=row["created_at"],
    )


def _customer_updated(
    row: asyncpg.Record, changed: list[CustomerField], previous_email: str | None = None
) -> CustomerUpdated:
    return CustomerUpdated(
        customer_id=row["id"],
        customer_number=row["customer_number"],
        email=row["email"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        billing_address=_address(row),
        changed_fields=tuple(changed),
        previous_email=previous_email,
    )


def _policy_error(problems: list[domain.PasswordProblem], field_name: str) -> ApiError:
    return ApiError(
        422,
        "password_policy",
        "Le mot de passe ne respecte pas les règles de sécurité.",
        problems=[
            Problem(field_name, p.value, domain.PASSWORD_MESSAGES[p], {"rule": p.value})
            for p in problems
        ],
    )


def _wait_text(seconds: float) -> str:
    return domain.wait_text(seconds)


def _too_many(message: str, wait: float) -> ApiError:
    return ApiError(
        429,
        "too_many_requests",
        f"{message} Veuillez réessayer dans {_wait_text(wait)}.",
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
    )


# --- the router --------------------------------------------------------------------------------


def accounts_router(ctx: Accounts) -> APIRouter:
    router = APIRouter()
    settings = ctx.settings
    customer_bearer = HTTPBearer(
        scheme_name="CustomerBearer",
        auto_error=False,
        description="The access token from POST /login (or sign-up, reset, refresh).",
    )
    operator_bearer = HTTPBearer(
        scheme_name="OperatorBearer",
        auto_error=False,
        description="Customer service's token (ACCOUNTS_OPERATOR_TOKEN).",
    )

    # --- authentication dependencies ----------------------------------------------------

    async def current_customer(
        credentials: HTTPAuthorizationCredentials | None = Security(customer_bearer),  # noqa: B008
    ) -> CustomerClaims:
        """A valid access token whose session is still open (checked in the database)."""
        if credentials is None or not credentials.credentials:
            raise AuthError("missing_credentials")
        assert ctx.keyring.verifier is not None
        try:
            claims = await ctx.keyring.verifier.verify(credentials.credentials)
        except TokenError as error:
            raise AuthError(error.reason) from error
        async with ctx.pool.acquire() as conn:
            alive = await repository.live_session(
                conn, claims.session_id, claims.customer_id, utcnow()
            )
        if alive is None:
            raise AuthError("session_ended", SESSION_ENDED)
        return claims

    async def operator(
        credentials: HTTPAuthorizationCredentials | None = Security(operator_bearer),  # noqa: B008
    ) -> None:
        expected = settings.operator_token.get_secret_value().encode()
        given = credentials.credentials.encode() if credentials else b""
        if not expected or not hmac.compare_digest(given, expected):
            raise AuthError("operator_token_invalid", "Accès réservé au service client.")

    # --- shared steps -------------------------------------------------------------------

    async def open_session(conn: repository.Conn, row: asyncpg.Record, now: datetime) -> Tokens:
        session_id = uuid4()
        refresh, refresh_hash = domain.new_token()
        refresh_expires = now + timedelta(days=settings.session_ttl_days)
        await repository.insert_session(
            conn,
            session_id=session_id,
            customer_id=row["id"],
            refresh_hash=refresh_hash,
            now=now,
            expires_at=refresh_expires,
        )
        return await tokens_for(conn, row, session_id, refresh, refresh_expires, now)

    async def tokens_for(
        conn: repository.Conn,
        row: asyncpg.Record,
        session_id: UUID,
        refresh: str,
        refresh_expires: datetime,
        now: datetime,
    ) -> Tokens:
        access, expires_at = ctx.keyring.access_token(
            customer_id=row["id"], session_id=session_id, email=row["email"], now=now
        )
        return Tokens(
            access_token=access,
            expires_in=settings.access_token_ttl_seconds,
            expires_at=expires_at,
            refresh_token=refresh,
            refresh_expires_at=refresh_expires,
            session_id=session_id,
            customer=await _profile(conn, row, now),
        )

    async def throttle_login(email: str, address: str, now: datetime) -> list[int]:
        """Record this attempt; refuse it (429) if recent failures impose a wait."""
        email_subject = ctx.keyring.subject(email)
        address_subject = ctx.keyring.subject(f"address:{address}")
        since = now - timedelta(seconds=settings.login_window_seconds)
        async with ctx.pool.acquire() as conn:
            ids = [
                await repository.record_attempt(conn, "login_email", email_subject, now),
                await repository.record_attempt(conn, "login_address", address_subject, now),
            ]
            by_email = await repository.attempts_since(
                conn, "login_email", email_subject, since, besides=ids[0]
            )
            by_address = await repository.attempts_since(
                conn, "login_address", address_subject, since, besides=ids[1]
            )
            wait = max(
                domain.wait_before_next_try(by_email, now, ctx.email_backoff),
                domain.wait_before_next_try(by_address, now, ctx.address_backoff),
            )
            if wait > 0:
                await repository.forget_attempts(conn, ids=ids)
                log.warning("login_slowed_down", wait=round(wait, 1))
                raise ApiError(
                    429,
                    "too_many_attempts",
                    f"Trop de tentatives de connexion. Veuillez réessayer dans {_wait_text(wait)}.",
                    headers={"Retry-After": str(math.ceil(wait))},
                )
        return ids

    async def login_succeeded(email: str, ids: list[int]) -> None:
        async with ctx.pool.acquire() as conn:
            await repository.forget_attempts(conn, ids=ids[1:])
            await repository.forget_attempts(
                conn, subject=ctx.keyring.subject(email), scopes=["login_email"]
            )

    async def check_password(row: asyncpg.Record, password: str, request: Request) -> None:
        """The current password of a logged-in customer (counted like a login attempt)."""
        now = utcnow()
        ids = await throttle_login(row["email"], ctx.address_of(request), now)
        if not await ctx.passwords.verify(row["password_hash"], password):
            raise ApiError(403, "wrong_password", "Le mot de passe actuel est incorrect.")
        await login_succeeded(row["email"], ids)

    async def take_room(
        conn: repository.Conn, scope: str, subject: bytes, *, limit: int, window: int, now: datetime
    ) -> float:
        """Count one request against a sliding-window limit (0: accepted and recorded), else
        the seconds to wait. Exact across instances: the subject is locked in the database."""
        await repository.lock_subject(conn, scope, subject)
        span = timedelta(seconds=window)
        recent = await repository.attempts_since(conn, scope, subject, now - span)
        wait = domain.wait_for_room(recent, now, limit=limit, window=span)
        if wait == 0:
            await repository.record_attempt(conn, scope, subject, now)
        return wait

    async def limit_sign_ups(email: str, address: str, now: datetime) -> None:
        """Sign-ups per client address and per email address (429 past either limit)."""
        window = settings.signup_window_seconds
        async with ctx.sign_up_checks, ctx.pool.acquire() as conn, conn.transaction():
            from_address = await take_room(
                conn,
                "signup_address",
                ctx.keyring.subject(f"address:{address}"),
                limit=settings.signup_limit_per_address,
                window=window,
                now=now,
            )
            if from_address:
                log.warning("sign_up_limited", per="address", wait=round(from_address))
                raise _too_many("Trop de créations de compte depuis votre connexion.", from_address)
            for_email = await take_room(
                conn,
                "signup_email",
                ctx.keyring.subject(email),
                limit=settings.signup_limit_per_email,
                window=window,
                now=now,
            )
            if for_email:  # the transaction rolls back: the address's count is not taken
                log.warning("sign_up_limited", per="email", wait=round(for_email))
                raise _too_many(
                    "Trop de tentatives d'inscription avec cette adresse e-mail.", for_email
                )

    async def new_verification_link(
        conn: repository.Conn, row: asyncpg.Record, now: datetime
    ) -> tuple[str, datetime]:
        """A new single-use link that verifies the account's current address, sealed for
        notifications, and when it expires."""
        token, token_hash = domain.new_token()
        expires_at = now + timedelta(seconds=settings.email_verification_ttl_seconds)
        await repository.insert_email_verification(
            conn, token_hash, row["id"], row["email"], now, expires_at
        )
        sealed = ctx.keyring.seal(
            domain.link_with_token(settings.storefront_email_verification_url, token),
            purpose=LinkPurpose.EMAIL_VERIFICATION,
            customer_id=row["id"],
            recipient=row["email"],
        )
        return sealed, expires_at

    async def prove_email(uow: Any, row: asyncpg.Record, proof: EmailProof, now: datetime) -> None:
        """A link sent to the account's current address was followed: the address is the
        account's. Link the guest orders placed with it, and say so (once per address)."""
        await repository.use_email_verifications(uow.conn, row["id"], now)
        if not await repository.mark_email_verified(uow.conn, row["id"], now):
            return  # proven already
        guest_email_hash = ctx.keyring.guest_email(row["email"])
        # Orders of the address being recorded right now are either seen here or see the proof.
        await repository.lock_guest_email(uow.conn, guest_email_hash)
        linked = await repository.link_guest_orders(uow.conn, row["id"], guest_email_hash)
        await uow.publish(
            CustomerEmailVerified(
                customer_id=row["id"],
                customer_number=row["customer_number"],
                email=row["email"],
                first_name=row["first_name"],
                verified_at=now,
                proof=proof,
            )
        )
        log.info(
            "email_verified", customer_id=str(row["id"]), proof=proof.value, guest_orders=linked
        )

    async def live(conn: repository.Conn, customer_id: UUID, *, lock: bool = False) -> Any:
        row = await repository.live_customer(conn, customer_id, lock=lock)
        if row is None:
            raise AuthError("session_ended", SESSION_ENDED)
        return row

    # --- keys and sessions --------------------------------------------------------------

    @router.get(
        "/.well-known/jwks.json",
        tags=["sessions"],
        summary="Public keys of access tokens (JWK Set)",
    )
    async def jwks(response: Response) -> dict[str, list[dict[str, object]]]:
        response.headers["Cache-Control"] = "public, max-age=300"
        return ctx.keyring.jwks()

    @router.post(
        "/customers",
        status_code=201,
        tags=["sessions"],
        summary="Sign up: create an account and log in (a link to verify the email is sent)",
        responses=_error(409, 429, 503, body=True),
    )
    async def sign_up(body: SignUp, request: Request) -> Tokens:
        problems = domain.password_problems(
            body.password, email=body.email, names=(body.first_name, body.last_name)
        )
        if problems:
            raise _policy_error(problems, "password")
        await limit_sign_ups(body.email, ctx.address_of(request), utcnow())
        password_hash = await ctx.passwords.hash(body.password)
        now = utcnow()
        try:
            async with ctx.runtime.messaging.transaction() as uow:
                number = domain.customer_number(await repository.next_customer_sequence(uow.conn))
                row = await repository.insert_customer(
                    uow.conn,
                    customer_id=uuid4(),
                    number=number,
                    email=body.email,
                    first_name=body.first_name,
                    last_name=body.last_name,
                    password_hash=password_hash,
                    now=now,
                )
                tokens = await open_session(uow.conn, row, now)
                sealed, expires_at = await new_verification_link(uow.conn, row, now)
                await uow.publish(
                    CustomerRegistered(
                        customer_id=row["id"],
                        customer_number=number,
                        email=body.email,
                        first_name=body.first_name,
                        last_name=body.last_name,
                        sealed_verification_url=sealed,
                        verification_expires_at=expires_at,
                    )
                )
        except asyncpg.UniqueViolationError as error:
            raise ApiError(
                409,
                "email_taken",
                "Un compte existe déjà avec cette adresse e-mail. Connectez-vous ou utilisez "
                "« Mot de passe perdu ? ».",
                problems=[Problem("email", "email_taken", "Adresse déjà utilisée.")],
            ) from error
        log.info("customer_registered", customer_id=str(row["id"]))
        return tokens

    @router.post(
        "/login",
        tags=["sessions"],
        summary="Log in with email and password",
        responses=_error(429, body=True),
    )
    async def login(body: Login, request: Request) -> Tokens:
        now = utcnow()
        ids = await throttle_login(body.email, ctx.address_of(request), now)
        async with ctx.pool.acquire() as conn:
            row = await repository.live_customer_by_email(conn, body.email)
        if not await ctx.passwords.verify(row["password_hash"] if row else None, body.password):
            log.info("login_failed")
            raise ApiError(401, "invalid_credentials", "Adresse e-mail ou mot de passe incorrect.")
        assert row is not None
        await login_succeeded(body.email, ids)
        if ctx.passwords.needs_rehash(row["password_hash"]):
            try:
                new_hash = await ctx.passwords.hash(body.password)
            except HashingBusyError:
                log.info("password_rehash_postponed")  # the next login will do it
            else:
                async with ctx.pool.acquire() as conn:
                    await repository.rehash_password(
                        conn, row["id"], row["password_hash"], new_hash
                    )
        async with ctx.pool.acquire() as conn, conn.transaction():
            tokens = await open_session(conn, row, now)
        log.info("customer_logged_in", customer_id=str(row["id"]))
        return tokens

    @router.post(
        "/sessions/refresh",
        tags=["sessions"],
        summary="New tokens for an open session (the refresh token is single-use)",
        responses=_error(body=True),
    )
    async def refresh(body: Refresh) -> Tokens:
        now = utcnow()
        async with ctx.pool.acquire() as conn, conn.transaction():
            session = await repository.session_by_refresh_token(
                conn, domain.hash_token(body.refresh_token), now
            )
            if session is None:
                raise AuthError("session_ended", SESSION_ENDED)
            row = await live(conn, session["customer_id"])
            new_refresh, new_hash = domain.new_token()
            await repository.rotate_refresh_token(conn, session["id"], new_hash, now)
            return await tokens_for(
                conn, row, session["id"], new_refresh, session["expires_at"], now
            )

    @router.get(
        "/sessions/validate",
        tags=["sessions"],
        summary="Is this access token's session still open? (for services that must know now)",
        responses=_ERRORS,
    )
    async def validate(claims: CustomerClaims = Depends(current_customer)) -> SessionInfo:  # noqa: B008
        return SessionInfo(
            customer_id=claims.customer_id,
            session_id=claims.session_id,
            expires_at=claims.expires_at,
        )

    @router.post(
        "/logout", status_code=204, tags=["sessions"], summary="End this session", responses=_ERRORS
    )
    async def logout(claims: CustomerClaims = Depends(current_customer)) -> Response:  # noqa: B008
        async with ctx.pool.acquire() as conn:
            await repository.end_session(conn, claims.session_id, "logout", utcnow())
        return Response(status_code=204)

    # --- profile --------------------------------------------------------------------------

    @router.get(
        "/me", tags=["profile"], summary="The logged-in customer's profile", responses=_ERRORS
    )
    async def me(claims: CustomerClaims = Depends(current_customer)) -> Profile:  # noqa: B008
        async with ctx.pool.acquire() as conn:
            return await _profile(conn, await live(conn, claims.customer_id), utcnow())

    @router.patch(
        "/me",
        tags=["profile"],
        summary="Change name or billing address ('Informations et adresse de facturation')",
        responses=_error(body=True),
    )
    async def change_profile(
        body: ProfileChange,
        claims: CustomerClaims = Depends(current_customer),  # noqa: B008
    ) -> Profile:
        given = body.model_fields_set
        for name in ("first_name", "last_name"):
            if name in given and getattr(body, name) is None:
                raise ApiError(
                    422,
                    "validation_error",
                    "Certaines informations sont invalides.",
                    problems=[Problem(name, "missing", "Ce champ est obligatoire.")],
                )
        new_address = body.billing_address.to_address() if body.billing_address else None
        if new_address is not None:
            reason = delivery_problem(new_address.country_code, settings.countries)
            if reason is not None:
                raise ApiError(
                    422,
                    "validation_error",
                    "Certaines informations sont invalides.",
                    problems=[
                        Problem("billing_address.country_code", COUNTRY_NOT_DELIVERED, reason)
                    ],
                )
        now = utcnow()
        async with ctx.runtime.messaging.transaction() as uow:
            row = await live(uow.conn, claims.customer_id, lock=True)
            first = body.first_name if body.first_name is not None else row["first_name"]
            last = body.last_name if body.last_name is not None else row["last_name"]
            current_address = _address(row)
            address = new_address if "billing_address" in given else current_address
            changed = [
                f
                for f, differs in (
                    (CustomerField.FIRST_NAME, first != row["first_name"]),
                    (CustomerField.LAST_NAME, last != row["last_name"]),
                    (CustomerField.BILLING_ADDRESS, address != current_address),
                )
                if differs
            ]
            if changed:
                row = await repository.update_profile(
                    uow.conn,
                    claims.customer_id,
                    first_name=first,
                    last_name=last,
                    billing_address=address.model_dump(mode="json") if address else None,
                    now=now,
                )
                await uow.publish(_customer_updated(row, changed))
            return await _profile(uow.conn, row, now)

    @router.post(
        "/me/email",
        status_code=202,
        tags=["profile"],
        summary="Change email: a confirmation link is sent to the new address",
        responses=_error(403, 409, 429, body=True),
    )
    async def change_email(
        body: EmailChange,
        request: Request,
        claims: CustomerClaims = Depends(current_customer),  # noqa: B008
    ) -> Accepted:
        async with ctx.pool.acquire() as conn:
            row = await live(conn, claims.customer_id)
        await check_password(row, body.current_password, request)
        if body.new_email == row["email"]:
            raise ApiError(
                422,
                "validation_error",
                "Certaines informations sont invalides.",
                problems=[Problem("new_email", "same_email", "C'est déjà votre adresse e-mail.")],
            )
        token, token_hash = domain.new_token()
        now = utcnow()
        expires_at = now + timedelta(seconds=settings.email_change_ttl_seconds)
        async with ctx.runtime.messaging.transaction() as uow:
            if await repository.email_in_use(uow.conn, body.new_email):
                raise ApiError(
                    409, "email_taken", "Cette adresse e-mail est déjà utilisée par un compte."
                )
            row = await live(uow.conn, claims.customer_id, lock=True)
            await repository.insert_email_change(
                uow.conn, token_hash, row["id"], body.new_email, now, expires_at
            )
            await uow.publish(
                EmailChangeRequested(
                    customer_id=row["id"],
                    customer_number=row["customer_number"],
                    email=row["email"],
                    first_name=row["first_name"],
                    new_email=body.new_email,
                    sealed_confirmation_url=ctx.keyring.seal(
                        domain.link_with_token(settings.storefront_email_confirm_url, token),
                        purpose=LinkPurpose.EMAIL_CHANGE,
                        customer_id=row["id"],
                        recipient=body.new_email,
                    ),
                    expires_at=expires_at,
                )
            )
        return Accepted(
            message=f"Un e-mail de confirmation a été envoyé à {body.new_email}. Cliquez sur le "
            "lien qu'il contient pour valider votre nouvelle adresse."
        )

    @router.post(
        "/email-change/confirm",
        tags=["profile"],
        summary="Confirm a new email with the token from the link (no login needed)",
        responses=_error(400, 409, body=True),
    )
    async def confirm_email(body: ConfirmToken) -> Profile:
        now = utcnow()
        async with ctx.runtime.messaging.transaction() as uow:
            change = await repository.usable_email_change(
                uow.conn, domain.hash_token(body.token), now
            )
            if change is None:
                raise ApiError(
                    400,
                    "email_link_invalid",
                    "Ce lien de confirmation n'est plus valide : il a déjà été utilisé ou il a "
                    "expiré. Vous pouvez refaire la demande depuis votre compte.",
                )
            row = await live(uow.conn, change["customer_id"], lock=True)
            previous = row["email"]
            try:
                async with uow.conn.transaction():  # a savepoint: the error leaves it usable
                    row = await repository.set_email(uow.conn, row["id"], change["new_email"], now)
            except asyncpg.UniqueViolationError as error:
                raise ApiError(
                    409, "email_taken", "Cette adresse e-mail est déjà utilisée par un compte."
                ) from error
            await repository.use_email_changes(uow.conn, row["id"], now)
            # Reset links went to the previous address: they prove nothing about this one.
            await repository.use_reset_tokens(uow.conn, row["id"], now)
            await uow.publish(_customer_updated(row, [CustomerField.EMAIL], previous))
            # The link went to the new address: following it proves the address.
            await prove_email(uow, row, EmailProof.EMAIL_CHANGE_LINK, now)
            row = await live(uow.conn, row["id"])
            return await _profile(uow.conn, row, now)

    # --- email verification -----------------------------------------------------------------

    @router.post(
        "/me/email-verification",
        status_code=202,
        tags=["email verification"],
        summary="Send a new link that verifies my email (rate-limited)",
        responses=_error(409, 429),
    )
    async def resend_verification(
        claims: CustomerClaims = Depends(current_customer),  # noqa: B008
    ) -> Accepted:
        now = utcnow()
        async with ctx.runtime.messaging.transaction() as uow:
            row = await live(uow.conn, claims.customer_id, lock=True)
            if row["email_verified_at"] is not None:
                raise ApiError(
                    409, "email_already_verified", "Votre adresse e-mail est déjà vérifiée."
                )
            wait = await take_room(
                uow.conn,
                "verification_resend",
                ctx.keyring.subject(f"customer:{row['id']}"),
                limit=settings.email_verification_resend_limit,
                window=settings.email_verification_resend_window_seconds,
                now=now,
            )
            if wait:
                raise _too_many("Vous avez déjà demandé plusieurs liens de vérification.", wait)
            sealed, expires_at = await new_verification_link(uow.conn, row, now)
            await uow.publish(
                EmailVerificationRequested(
                    customer_id=row["id"],
                    customer_number=row["customer_number"],
                    email=row["email"],
                    first_name=row["first_name"],
                    sealed_verification_url=sealed,
                    expires_at=expires_at,
                )
            )
        return Accepted(
            message=f"Un nouveau lien de vérification a été envoyé à {row['email']}. Pensez à "
            "consulter votre dossier « Courrier indésirable » ou « Spams »."
        )

    @router.post(
        "/email-verification/confirm",
        tags=["email verification"],
        summary="Verify an account's email with the token from the link (no login needed)",
        responses=_error(400, body=True),
    )
    async def confirm_verification(body: ConfirmToken) -> Accepted:
        now = utcnow()
        async with ctx.runtime.messaging.transaction() as uow:
            found = await repository.usable_email_verification(
                uow.conn, domain.hash_token(body.token), now
            )
            if found is None:
                raise ApiError(400, "verification_link_invalid", VERIFICATION_LINK_INVALID)
            row = await live(uow.conn, found["customer_id"], lock=True)
            await prove_email(uow, row, EmailProof.VERIFICATION_LINK, now)
        return Accepted(
            message="Merci, votre adresse e-mail est vérifiée. Les commandes passées avec "
            "cette adresse apparaissent désormais dans « Mes commandes et factures »."
        )

    @router.post(
        "/me/password",
        status_code=204,
        tags=["profile"],
        summary="Change password (current one required; the other sessions end)",
        responses=_error(403, 429, 503, body=True),
    )
    async def change_password(
        body: PasswordChange,
        request: Request,
        claims: CustomerClaims = Depends(current_customer),  # noqa: B008
    ) -> Response:
        async with ctx.pool.acquire() as conn:
            row = await live(conn, claims.customer_id)
        await check_password(row, body.current_password, request)
        problems = domain.password_problems(
            body.new_password, email=row["email"], names=(row["first_name"], row["last_name"])
        )
        if problems:
            raise _policy_error(problems, "new_password")
        password_hash = await ctx.passwords.hash(body.new_password)
        now = utcnow()
        async with ctx.runtime.messaging.transaction() as uow:
            row = await live(uow.conn, claims.customer_id, lock=True)
            await repository.set_password(uow.conn, row["id"], password_hash, now)
            ended = await repository.end_sessions(
                uow.conn, row["id"], "password_changed", now, keep=claims.session_id
            )
            await repository.use_reset_tokens(uow.conn, row["id"], now)
            await uow.publish(_customer_updated(row, [CustomerField.PASSWORD]))
        log.info("password_changed", customer_id=str(row["id"]), other_sessions_ended=ended)
        return Response(status_code=204)

    # --- forgotten password ---------------------------------------------------------------

    @router.post(
        "/password-reset",
        status_code=202,
        tags=["password reset"],
        summary="Forgotten password: email a single-use link (same answer for any address)",
        responses=_error(429, body=True),
    )
    async def request_password_reset(body: PasswordResetRequest, request: Request) -> Accepted:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            await _password_reset(body.email, ctx.address_of(request))
        finally:
            elapsed = loop.time() - started
            if elapsed > settings.reset_response_seconds:
                log.warning("password_reset_slower_than_floor", elapsed=round(elapsed, 3))
            await asyncio.sleep(max(0.0, settings.reset_response_seconds - elapsed))
        return Accepted(message=RESET_ACCEPTED)

    async def _password_reset(email: str, address: str) -> None:
        # The same work whatever the outcome: a token, its hash, two attempt rows, a lookup.
        token, token_hash = domain.new_token()
        now = utcnow()
        since = now - timedelta(seconds=settings.reset_window_seconds)
        email_subject = ctx.keyring.subject(email)
        address_subject = ctx.keyring.subject(f"address:{address}")
        async with ctx.runtime.messaging.transaction() as uow:
            from_address = await repository.attempts_since(
                uow.conn, "reset_address", address_subject, since
            )
            if domain.over_limit(len(from_address), settings.reset_limit_per_address):
                raise ApiError(
                    429,
                    "too_many_requests",
                    "Trop de demandes de réinitialisation. Veuillez réessayer plus tard.",
                    headers={"Retry-After": str(settings.reset_window_seconds)},
                )
            for_email = await repository.attempts_since(
                uow.conn, "reset_email", email_subject, since
            )
            await repository.record_attempt(uow.conn, "reset_address", address_subject, now)
            await repository.record_attempt(uow.conn, "reset_email", email_subject, now)
            row = await repository.live_customer_by_email(uow.conn, email, lock=True)
            if row is None:
                return
            if domain.over_limit(len(for_email), settings.reset_limit_per_email):
                log.warning("password_reset_email_limit", customer_id=str(row["id"]))
                return
            expires_at = now + timedelta(seconds=settings.reset_token_ttl_seconds)
            await repository.insert_reset_token(uow.conn, token_hash, row["id"], now, expires_at)
            await uow.publish(
                PasswordResetRequested(
                    customer_id=row["id"],
                    customer_number=row["customer_number"],
                    email=row["email"],
                    first_name=row["first_name"],
                    sealed_reset_url=ctx.keyring.seal(
                        domain.link_with_token(settings.storefront_reset_url, token),
                        purpose=LinkPurpose.PASSWORD_RESET,
                        customer_id=row["id"],
                        recipient=row["email"],
                    ),
                    expires_at=expires_at,
                )
            )

    @router.post(
        "/password-reset/confirm",
        tags=["password reset"],
        summary="Set a new password with the link's token; ends the link and logs in",
        responses=_error(400, 503, body=True),
    )
    async def confirm_password_reset(body: PasswordResetConfirm) -> Tokens:
        token_hash = domain.hash_token(body.token)
        invalid = ApiError(400, "reset_link_invalid", RESET_LINK_INVALID)
        async with ctx.pool.acquire() as conn:
            found = await repository.usable_reset_token(conn, token_hash, utcnow())
            row = await repository.live_customer(conn, found["customer_id"]) if found else None
        if row is None:
            raise invalid
        problems = domain.password_problems(
            body.new_password, email=row["email"], names=(row["first_name"], row["last_name"])
        )
        if problems:
            raise _policy_error(problems, "new_password")
        password_hash = await ctx.passwords.hash(body.new_password)
        now = utcnow()
        async with ctx.runtime.messaging.transaction() as uow:
            if await repository.usable_reset_token(uow.conn, token_hash, now, lock=True) is None:
                raise invalid  # used or expired meanwhile
            row = await live(uow.conn, row["id"], lock=True)
            await repository.use_reset_tokens(uow.conn, row["id"], now)
            await repository.set_password(uow.conn, row["id"], password_hash, now)
            await repository.end_sessions(uow.conn, row["id"], "password_reset", now)
            await uow.publish(_customer_updated(row, [CustomerField.PASSWORD]))
            # The link went to the account's address: following it proves the address.
            await prove_email(uow, row, EmailProof.PASSWORD_RESET_LINK, now)
            row = await live(uow.conn, row["id"])
            tokens = await open_session(uow.conn, row, now)
            # Control of the mailbox is proven: lift the slow-down on this email.
            await repository.forget_attempts(
                uow.conn, subject=ctx.keyring.subject(row["email"]), scopes=["login_email"]
            )
        log.info("password_reset_done", customer_id=str(row["id"]))
        return tokens

    # --- erasure (GDPR) -------------------------------------------------------------------

    async def request_erasure(
        uow: Any, row: asyncpg.Record, by: ErasureRequestedBy, now: datetime
    ) -> None:
        await repository.mark_erasure_requested(uow.conn, row["id"], by.value, now)
        await repository.end_sessions(uow.conn, row["id"], "erasure_requested", now)
        await repository.use_reset_tokens(uow.conn, row["id"], now)
        await repository.use_email_changes(uow.conn, row["id"], now)
        await repository.use_email_verifications(uow.conn, row["id"], now)
        verified = row["email_verified_at"] is not None
        await uow.publish(
            CustomerErasureRequested(
                customer_id=row["id"],
                customer_number=row["customer_number"],
                email=row["email"],
                first_name=row["first_name"],
                requested_at=now,
                requested_by=by,
                # Only a proven address lets the other services erase what they hold by it.
                email_verified=verified,
            )
        )
        log.info(
            "erasure_requested", customer_id=str(row["id"]), by=by.value, email_verified=verified
        )

    erasure_message = (
        "Votre demande de suppression de compte est enregistrée. Vos données personnelles vont "
        "être effacées ; seules les factures, que la loi nous impose de conserver, sont gardées. "
        "Un e-mail vous confirmera la suppression."
    )

    @router.post(
        "/me/erasure",
        status_code=202,
        tags=["erasure"],
        summary="Delete my account and personal data (current password required)",
        responses=_error(403, 429, body=True),
    )
    async def erase_me(
        body: CustomerErasureRequest,
        request: Request,
        claims: CustomerClaims = Depends(current_customer),  # noqa: B008
    ) -> ErasureAccepted:
        async with ctx.pool.acquire() as conn:
            row = await live(conn, claims.customer_id)
        await check_password(row, body.current_password, request)
        now = utcnow()
        async with ctx.runtime.messaging.transaction() as uow:
            row = await live(uow.conn, claims.customer_id, lock=True)
            await request_erasure(uow, row, ErasureRequestedBy.CUSTOMER, now)
        return ErasureAccepted(message=erasure_message, customer_number=row["customer_number"])

    @router.post(
        "/erasure-requests",
        status_code=202,
        tags=["erasure"],
        summary="Customer service: erase the account of an email + customer number",
        responses=_error(404, body=True),
    )
    async def erase_for_customer_service(
        body: OperatorErasureRequest,
        _: None = Depends(operator),
    ) -> ErasureAccepted:
        now = utcnow()
        async with ctx.runtime.messaging.transaction() as uow:
            row = await repository.customer_by_email_and_number(
                uow.conn, body.email, body.customer_number
            )
            if row is None:
                raise ApiError(
                    404,
                    "customer_not_found",
                    "Aucun compte ne correspond à cette adresse e-mail et à ce numéro client.",
                )
            if row["erasure_requested_at"] is None:
                await request_erasure(uow, row, ErasureRequestedBy.CUSTOMER_SERVICE, now)
        return ErasureAccepted(message=erasure_message, customer_number=row["customer_number"])

    # --- Mes commandes et factures ----------------------------------------------------------

    def _amount(content: dict[str, Any] | None, key: str) -> Any:
        return content["totals"][key] if content else None

    @router.get(
        "/me/orders",
        tags=["orders"],
        summary="'Mes commandes et factures': my orders, most recent first",
        responses=_ERRORS,
    )
    async def my_orders(
        claims: CustomerClaims = Depends(current_customer),  # noqa: B008
        limit: int = Query(20, ge=1, le=100, description="Orders per page."),
        offset: int = Query(0, ge=0, le=100_000, description="Orders to skip."),
    ) -> OrderList:
        async with ctx.pool.acquire() as conn:
            rows = await repository.customer_orders(
                conn, claims.customer_id, limit=limit, offset=offset
            )
            total = await repository.count_customer_orders(conn, claims.customer_id)
        orders = []
        for r in rows:
            content = json.loads(r["content"]) if r["content"] else None
            status = domain.OrderStatus(r["status"])
            orders.append(
                OrderSummary(
                    order_id=r["order_id"],
                    order_number=r["order_number"],
                    status=status,
                    status_label=domain.STATUS_LABELS[status],
                    placed_at=r["placed_at"],
                    total=_amount(content, "total"),
                    tracking_url=r["tracking_url"],
                    invoice_count=r["invoice_count"],
                )
            )
        return OrderList(orders=orders, total=total)

    @router.get(
        "/me/orders/{order_id}",
        tags=["orders"],
        summary="One of my orders: status, timeline, tracking link, invoices",
        responses=_error(404),
    )
    async def my_order(
        order_id: UUID = Path(description="Order id (from GET /me/orders)."),  # noqa: B008
        claims: CustomerClaims = Depends(current_customer),  # noqa: B008
    ) -> OrderDetail:
        async with ctx.pool.acquire() as conn:
            r = await repository.customer_order(conn, claims.customer_id, order_id)
            if r is None:
                raise ApiError(404, "order_not_found", "Commande introuvable.")
            timeline = await repository.order_timeline(conn, order_id)
            invoices = await repository.order_invoices(conn, order_id)
        content = json.loads(r["content"]) if r["content"] else None
        status = domain.OrderStatus(r["status"])
        tracking = (
            Tracking(
                carrier=r["carrier"],
                tracking_number=r["tracking_number"],
                tracking_url=r["tracking_url"],
                shipped_at=r["shipped_at"],
            )
            if r["tracking_url"]
            else None
        )
        return OrderDetail(
            order_id=r["order_id"],
            order_number=r["order_number"],
            status=status,
            status_label=domain.STATUS_LABELS[status],
            placed_at=r["placed_at"],
            lines=[OrderLineView.model_validate(line) for line in content["lines"]]
            if content
            else [],
            subtotal=_amount(content, "subtotal"),
            shipping=_amount(content, "shipping"),
            total=_amount(content, "total"),
            shipping_method=content["shipping_method"] if content else None,
            delivery_estimate=json.loads(r["delivery_estimate"])
            if r["delivery_estimate"]
            else None,
            tracking=tracking,
            delivered_at=r["delivered_at"],
            withdrawal_deadline=r["withdrawal_deadline"],
            invoices=[
                Invoice(
                    invoice_number=i["invoice_number"],
                    kind=i["kind"],
                    corrects_invoice_number=i["corrects_invoice_number"],
                    issue_date=i["issue_date"],
                    total_incl_vat=i["total_incl_vat"],
                    download_url=domain.invoice_download_url(
                        settings.payment_public_url, i["download_path"]
                    ),
                )
                for i in invoices
            ],
            timeline=[
                TimelineEntry(
                    at=t["at"],
                    step=domain.TimelineStep(t["step"]),
                    label=domain.TIMELINE_LABELS[domain.TimelineStep(t["step"])],
                    detail=json.loads(t["detail"]) if t["detail"] else None,
                )
                for t in timeline
            ],
        )

    return router
