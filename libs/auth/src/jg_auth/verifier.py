"""Stateless verification of accounts' access tokens against its JWK Set."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID

import httpx

if TYPE_CHECKING:
    import jwt

# PyJWT (and cryptography, which it loads for ES256/RS256: ~9 MB resident) is imported when the
# first key set is parsed or the first token read, not when a service starts.

from jg_auth.keys import ACCESS_TOKEN_TYPE, SUPPORTED_ALGORITHMS, staff_audience

__all__ = [
    "CustomerClaims",
    "StaffClaims",
    "StaffRole",
    "TokenError",
    "TokenErrorReason",
    "TokenVerifier",
]

log = logging.getLogger("jg_auth")


class TokenErrorReason(StrEnum):
    """Why a token was refused (machine code, also sent in 401 answers)."""

    MALFORMED = "token_malformed"
    EXPIRED = "token_expired"
    NOT_YET_VALID = "token_not_yet_valid"
    WRONG_ISSUER = "token_wrong_issuer"
    WRONG_AUDIENCE = "token_wrong_audience"
    WRONG_ALGORITHM = "token_wrong_algorithm"
    WRONG_TYPE = "token_wrong_type"
    UNKNOWN_KEY = "token_unknown_key"
    BAD_SIGNATURE = "token_bad_signature"
    MISSING_CLAIM = "token_missing_claim"
    KEYS_UNAVAILABLE = "token_keys_unavailable"


class TokenError(Exception):
    """A token was refused; ``reason`` says why, ``str(error)`` explains it in English."""

    def __init__(self, reason: TokenErrorReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class CustomerClaims:
    """What a valid access token says about its bearer."""

    customer_id: UUID
    email: str | None
    session_id: UUID
    expires_at: datetime
    token_id: str | None = None


class StaffRole(StrEnum):
    """A staff member's role; a manager may do all an agent may, and more."""

    AGENT = "agent"
    MANAGER = "manager"

    @property
    def rank(self) -> int:
        return 1 if self is StaffRole.MANAGER else 0

    def at_least(self, other: StaffRole) -> bool:
        return self.rank >= other.rank


@dataclass(frozen=True)
class StaffClaims:
    """What a valid staff access token says about its bearer (a member of the shop's team)."""

    member_id: UUID
    email: str
    name: str
    role: StaffRole
    expires_at: datetime
    token_id: str | None = None


@functools.cache
def _pyjwt_errors() -> tuple[tuple[type[Exception], TokenErrorReason], ...]:
    import jwt

    return (
        (jwt.ExpiredSignatureError, TokenErrorReason.EXPIRED),
        (jwt.ImmatureSignatureError, TokenErrorReason.NOT_YET_VALID),
        (jwt.InvalidIssuerError, TokenErrorReason.WRONG_ISSUER),
        (jwt.InvalidAudienceError, TokenErrorReason.WRONG_AUDIENCE),
        (jwt.MissingRequiredClaimError, TokenErrorReason.MISSING_CLAIM),
        (jwt.InvalidAlgorithmError, TokenErrorReason.WRONG_ALGORITHM),
        (jwt.InvalidSignatureError, TokenErrorReason.BAD_SIGNATURE),
    )


class TokenVerifier:
    """Verifies customers' access tokens (ES256/RS256 JWTs issued by accounts).

    Give either ``jwks_url`` (accounts' ``/.well-known/jwks.json``, fetched on first use and
    cached ``cache_ttl`` seconds) or a static ``jwks`` dict (tests, pinned keys). A token
    signed by an unknown ``kid`` triggers one refetch, at most once every
    ``refetch_interval`` seconds, so garbage tokens cannot make the service hammer accounts.
    When a refresh fails, the keys already known keep working.

    The verification is stateless: a token stays valid until it expires (accounts issues
    short-lived tokens, 15 minutes by default) even if its session was ended meanwhile.
    """

    def __init__(
        self,
        jwks_url: str | None = None,
        jwks: dict[str, Any] | None = None,
        *,
        issuer: str,
        audience: str,
        algorithms: tuple[str, ...] = SUPPORTED_ALGORITHMS,
        leeway: float = 30.0,
        cache_ttl: float = 600.0,
        refetch_interval: float = 30.0,
        http_timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if (jwks_url is None) == (jwks is None):
            raise ValueError("give exactly one of jwks_url or jwks")
        if not issuer or not audience:
            raise ValueError("issuer and audience are required")
        refused = set(algorithms) - set(SUPPORTED_ALGORITHMS)
        if refused or not algorithms:
            raise ValueError(f"only asymmetric algorithms {SUPPORTED_ALGORITHMS} are allowed")
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self.algorithms = tuple(algorithms)
        self.leeway = leeway
        self.cache_ttl = cache_ttl
        self.refetch_interval = refetch_interval
        self._http_timeout = http_timeout
        self._transport = transport
        self._lock = asyncio.Lock()
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # monotonic time of the last fetch attempt
        self._loaded_at: float | None = None  # monotonic time of the last successful load
        if jwks is not None:
            self._keys = self._parse_jwks(jwks)
            self._loaded_at = time.monotonic()

    # --- keys ------------------------------------------------------------------------------

    @staticmethod
    def _parse_jwks(data: Any) -> dict[str, jwt.PyJWK]:
        import jwt

        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ValueError("a JWK Set is an object with a 'keys' list")
        keys: dict[str, jwt.PyJWK] = {}
        for raw in data["keys"]:
            if not isinstance(raw, dict) or not raw.get("kid") or raw.get("use", "sig") != "sig":
                continue
            if raw.get("kty") not in ("EC", "RSA"):
                continue  # never accept a symmetric ("oct") key
            try:
                keys[str(raw["kid"])] = jwt.PyJWK(raw)
            except jwt.PyJWTError as error:
                log.warning("ignoring unusable JWK %s: %s", raw.get("kid"), error)
        return keys

    async def _fetch(self) -> None:
        assert self.jwks_url is not None
        self._fetched_at = time.monotonic()
        try:
            async with httpx.AsyncClient(
                timeout=self._http_timeout, transport=self._transport
            ) as client:
                response = await client.get(self.jwks_url, headers={"Accept": "application/json"})
                response.raise_for_status()
                keys = self._parse_jwks(response.json())
        except (httpx.HTTPError, ValueError) as error:
            log.warning("could not fetch JWKS from %s: %s", self.jwks_url, error)
            if not self._keys:
                raise TokenError(
                    TokenErrorReason.KEYS_UNAVAILABLE,
                    "the issuer's public keys could not be fetched",
                ) from error
            return
        self._keys = keys
        self._loaded_at = time.monotonic()

    async def _key_for(self, kid: str) -> jwt.PyJWK:
        if self.jwks_url is not None:
            now = time.monotonic()
            stale = self._loaded_at is None or now - self._loaded_at > self.cache_ttl
            unknown = kid not in self._keys
            may_refetch = (
                self._fetched_at is None or now - self._fetched_at >= self.refetch_interval
            )
            if (stale or unknown) and may_refetch:
                async with self._lock:
                    # another task may have refreshed while we waited
                    now = time.monotonic()
                    recently = (
                        self._fetched_at is not None
                        and now - self._fetched_at < self.refetch_interval
                    )
                    if not recently:
                        await self._fetch()
        key = self._keys.get(kid)
        if key is None:
            raise TokenError(TokenErrorReason.UNKNOWN_KEY, f"no known key with kid {kid!r}")
        return key

    async def refresh(self) -> None:
        """Fetch the JWK Set now (e.g. at start-up, to fail early); no-op for a static set."""
        if self.jwks_url is not None:
            async with self._lock:
                await self._fetch()

    # --- verification ----------------------------------------------------------------------

    async def _decode(self, token: str, audience: str, required: list[str]) -> dict[str, Any]:
        """Check signature, algorithm, type, issuer, audience and expiry; the claims."""
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise TokenError(TokenErrorReason.MALFORMED, "the token is not a JWT") from error
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise TokenError(TokenErrorReason.WRONG_ALGORITHM, f"algorithm {alg!r} is not accepted")
        if str(header.get("typ", "")).lower() not in (
            ACCESS_TOKEN_TYPE,
            f"application/{ACCESS_TOKEN_TYPE}",
        ):
            raise TokenError(TokenErrorReason.WRONG_TYPE, "the token is not an access token")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenError(TokenErrorReason.MALFORMED, "the token has no key id (kid)")
        key = await self._key_for(kid)
        if key.algorithm_name != alg:
            raise TokenError(
                TokenErrorReason.WRONG_ALGORITHM,
                f"algorithm {alg!r} does not match key {kid!r} ({key.algorithm_name})",
            )
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": required},
            )
        except jwt.PyJWTError as error:
            for kind, reason in _pyjwt_errors():
                if isinstance(error, kind):
                    raise TokenError(reason, str(error)) from error
            raise TokenError(TokenErrorReason.MALFORMED, str(error)) from error
        return claims

    async def verify(self, token: str) -> CustomerClaims:
        """A customer's access token: check signature, algorithm, type, issuer, audience
        and expiry; return the claims.

        Raises :class:`TokenError` with a :class:`TokenErrorReason` otherwise.
        """
        claims = await self._decode(
            token, self.audience, ["exp", "iat", "iss", "aud", "sub", "sid"]
        )
        try:
            customer_id = UUID(str(claims["sub"]))
            session_id = UUID(str(claims["sid"]))
        except ValueError as error:
            raise TokenError(TokenErrorReason.MALFORMED, "sub and sid must be UUIDs") from error
        email = claims.get("email")
        return CustomerClaims(
            customer_id=customer_id,
            email=email if isinstance(email, str) else None,
            session_id=session_id,
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=UTC),
            token_id=str(claims["jti"]) if claims.get("jti") else None,
        )

    async def verify_staff(self, token: str) -> StaffClaims:
        """A staff member's access token (audience ``<audience>/staff``); the same checks as
        :meth:`verify`, plus the ``email``, ``name`` and ``role`` claims."""
        claims = await self._decode(
            token,
            staff_audience(self.audience),
            ["exp", "iat", "iss", "aud", "sub", "email", "name", "role"],
        )
        try:
            member_id = UUID(str(claims["sub"]))
            role = StaffRole(str(claims["role"]))
        except ValueError as error:
            raise TokenError(
                TokenErrorReason.MALFORMED, "sub must be a UUID and role agent or manager"
            ) from error
        return StaffClaims(
            member_id=member_id,
            email=str(claims["email"]),
            name=str(claims["name"]),
            role=role,
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=UTC),
            token_id=str(claims["jti"]) if claims.get("jti") else None,
        )
