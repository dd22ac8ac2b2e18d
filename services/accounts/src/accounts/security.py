"""Password hashing (argon2id), the keys accounts signs and pseudonymises with, token issuing."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import structlog
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from jg_auth import SigningKey, TokenVerifier

from accounts import repository
from accounts.domain import normalise_password
from accounts.settings import AccountsSettings

log = structlog.get_logger(__name__)

SIGNING_KEY_NAME = "jwt_signing_key"
THROTTLE_KEY_NAME = "throttle_hmac_key"


class Passwords:
    """argon2id hashing off the event loop, with a bounded number of hashes at once."""

    def __init__(self, settings: AccountsSettings, *, concurrency: int = 2) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self._slots = asyncio.Semaphore(concurrency)
        self._dummy: str | None = None

    async def warm_up(self) -> None:
        """Make the dummy hash now, so the first unknown-email login is not slower."""
        if self._dummy is None:
            self._dummy = await self.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, normalise_password(password))

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches. With no hash (unknown account) the same work is
        done against a dummy hash, so the answer takes as long either way."""
        await self.warm_up()
        assert self._dummy is not None
        target = password_hash or self._dummy
        async with self._slots:
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


def utcnow() -> datetime:
    return datetime.now(UTC)
