"""Password hashing (argon2id), the keys accounts signs, seals and pseudonymises with, tokens."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
import structlog
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from jg_auth import SigningKey, StaffRole, TokenVerifier
from jg_events import LinkPurpose, LinkSealer

from accounts import repository
from accounts.domain import normalise_password
from accounts.settings import AccountsSettings

log = structlog.get_logger(__name__)

SIGNING_KEY_NAME = "jwt_signing_key"
THROTTLE_KEY_NAME = "throttle_hmac_key"


class HashingBusyError(Exception):
    """Every slot that hashes new passwords is taken and too many requests already wait."""


class Passwords:
    """argon2id off the event loop, in two separate pools of slots.

    Verifying a password (login, the current password of ``/me/*``) and hashing a new one
    (sign-up, reset, password change) each have their own slots, so a flood of sign-ups waits
    for the hashing slots only and never queues a login. Requests waiting for a hashing slot
    are bounded: past ``hash_queue`` waiters, :meth:`hash` raises :class:`HashingBusyError` at
    once instead of piling up.
    """

    def __init__(
        self,
        settings: AccountsSettings,
        *,
        verify_slots: int | None = None,
        hash_slots: int | None = None,
        hash_queue: int | None = None,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self._verify_slots = asyncio.Semaphore(verify_slots or settings.password_verify_slots)
        hashes = hash_slots or settings.password_hash_slots
        self._hash_slots = asyncio.Semaphore(hashes)
        self._hash_capacity = hashes + (
            settings.password_hash_queue if hash_queue is None else hash_queue
        )
        self._hashing = 0  # requests holding or waiting for a hashing slot
        self._dummy: str | None = None

    async def warm_up(self) -> None:
        """Make the dummy hash now, so the first unknown-email login is not slower."""
        if self._dummy is None:
            self._dummy = await asyncio.to_thread(
                self._hasher.hash, normalise_password(secrets.token_urlsafe(16))
            )

    async def hash(self, password: str) -> str:
        """The argon2id hash of a new password (raises HashingBusyError when overloaded)."""
        if self._hashing >= self._hash_capacity:
            raise HashingBusyError
        self._hashing += 1
        try:
            async with self._hash_slots:
                return await asyncio.to_thread(self._hasher.hash, normalise_password(password))
        finally:
            self._hashing -= 1

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches. With no hash (unknown account) the same work is
        done against a dummy hash, so the answer takes as long either way."""
        await self.warm_up()
        assert self._dummy is not None
        target = password_hash or self._dummy
        async with self._verify_slots:
            try:
                await asyncio.to_thread(self._hasher.verify, target, normalise_password(password))
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False
        return password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


@dataclass
class Keyring:
    """The signing key of access tokens, the verifier of accounts' own endpoints, and the
    HMAC key that pseudonymises throttled subjects. Loaded at start-up (lifespan)."""

    settings: AccountsSettings
    signing_key: SigningKey | None = None
    verifier: TokenVerifier | None = None
    _throttle_key: bytes | None = None
    _sealer: LinkSealer | None = None

    def __post_init__(self) -> None:
        self._sealer = LinkSealer(self.settings.link_sealing_key.get_secret_value())

    def seal(self, link: str, *, purpose: LinkPurpose, customer_id: UUID, recipient: str) -> str:
        """``link`` sealed for notifications: what account events carry instead of the link."""
        assert self._sealer is not None
        return self._sealer.seal(
            link, purpose=purpose, customer_id=customer_id, recipient=recipient
        )

    async def load(self, conn: asyncpg.Connection) -> None:
        configured = self.settings.jwt_private_key
        if configured is not None:
            self.signing_key = SigningKey.from_pem(configured.get_secret_value())
            log.info("signing_key_from_settings", kid=self.signing_key.kid)
        else:
            candidate = SigningKey.generate("ES256").private_pem()
            pem = await repository.key_value(conn, SIGNING_KEY_NAME, candidate)
            self.signing_key = SigningKey.from_pem(pem)
            log.info("signing_key_from_database", kid=self.signing_key.kid)
        key_hex = await repository.key_value(conn, THROTTLE_KEY_NAME, secrets.token_hex(32))
        self._throttle_key = bytes.fromhex(key_hex)
        self.verifier = TokenVerifier(
            jwks=self.jwks(),
            issuer=self.settings.auth.issuer,
            audience=self.settings.auth.audience,
        )

    def _key(self) -> SigningKey:
        if self.signing_key is None:
            raise RuntimeError("the keyring is not loaded (service not started)")
        return self.signing_key

    def jwks(self) -> dict[str, list[dict[str, object]]]:
        return self._key().jwks()

    def guest_email(self, email: str) -> bytes:
        """HMAC-SHA256 of a guest order's address: how the order history recognises it."""
        return self.subject(f"guest-order:{email}")

    def subject(self, value: str) -> bytes:
        """HMAC-SHA256 of an email or client address (what the throttle table keeps)."""
        if self._throttle_key is None:
            raise RuntimeError("the keyring is not loaded (service not started)")
        return hmac.new(self._throttle_key, value.encode("utf-8"), hashlib.sha256).digest()

    def access_token(
        self, *, customer_id: UUID, session_id: UUID, email: str | None, now: datetime
    ) -> tuple[str, datetime]:
        lifetime = timedelta(seconds=self.settings.access_token_ttl_seconds)
        token = self._key().issue_access_token(
            customer_id=customer_id,
            session_id=session_id,
            issuer=self.settings.auth.issuer,
            audience=self.settings.auth.audience,
            email=email,
            lifetime=lifetime,
            now=now,
        )
        return token, now.replace(microsecond=0) + lifetime

    def staff_token(
        self, *, member_id: UUID, email: str, name: str, role: StaffRole, now: datetime
    ) -> tuple[str, datetime]:
        """A staff member's access token (audience ``<audience>/staff``, same keys)."""
        lifetime = timedelta(seconds=self.settings.staff_token_ttl_seconds)
        token = self._key().issue_staff_token(
            member_id=member_id,
            email=email,
            name=name,
            role=role.value,
            issuer=self.settings.auth.issuer,
            audience=self.settings.auth.audience,
            lifetime=lifetime,
            now=now,
        )
        return token, now.replace(microsecond=0) + lifetime
