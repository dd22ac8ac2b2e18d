"""Signing keys and the access-token format, shared by the issuer (accounts) and tests.

An access token is a JWS (compact JWT) signed with ES256 (P-256) or RS256, header
``{"alg": ..., "kid": ..., "typ": "at+jwt"}`` and claims:

=========  ==================================================================
``iss``    the issuer (accounts' public base URL)
``aud``    the audience (the platform's APIs)
``sub``    the customer id (UUID)
``sid``    the session id (UUID); accounts ends sessions on a password change
``email``  the customer's email at issue time (informative, may be absent)
``iat``    issued at; ``exp`` expiry (short: 15 minutes by default)
``jti``    a unique token id
=========  ==================================================================
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

# PyJWT and cryptography (~9 MB resident once loaded) are imported where a key is loaded or a
# token signed: every service imports jg_auth, only accounts signs.

__all__ = [
    "ACCESS_TOKEN_TYPE",
    "STAFF_AUDIENCE_SUFFIX",
    "SUPPORTED_ALGORITHMS",
    "SigningKey",
    "generate_private_key_pem",
    "staff_audience",
]

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a token type, not a secret
"""The ``typ`` header of an access token (RFC 9068), checked by the verifier."""

SUPPORTED_ALGORITHMS: tuple[str, ...] = ("ES256", "RS256")
"""Asymmetric algorithms an access token may use; anything else (HS*, none) is refused."""

Algorithm = Literal["ES256", "RS256"]

STAFF_AUDIENCE_SUFFIX = "/staff"
"""A staff member's token is for ``<the platform audience>/staff``: no customer endpoint
(which expects the platform audience itself) accepts it, and no operator endpoint accepts a
customer's token."""


def staff_audience(audience: str) -> str:
    """The audience of staff members' access tokens for a platform ``audience``."""
    return f"{audience}{STAFF_AUDIENCE_SUFFIX}"


def generate_private_key_pem(algorithm: Algorithm = "ES256") -> str:
    """A new private key as PKCS#8 PEM (P-256 for ES256, 3072-bit RSA for RS256)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if algorithm == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    elif algorithm == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    else:  # pragma: no cover - guarded by the Literal
        raise ValueError(f"unsupported algorithm {algorithm!r}")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    """A private key that signs access tokens, with its key id and public JWK."""

    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    algorithm: Algorithm
    kid: str

    @classmethod
    def from_pem(cls, pem: str | bytes, kid: str | None = None) -> SigningKey:
        """Load a PEM private key (P-256 EC -> ES256, RSA >= 2048 bits -> RS256).

        ``kid`` defaults to the RFC 7638 thumbprint of the public key, so the same key always
        gets the same id.
        """
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        data = pem.encode("ascii") if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=None)
        algorithm: Algorithm
        if isinstance(key, ec.EllipticCurvePrivateKey):
            if not isinstance(key.curve, ec.SECP256R1):
                raise ValueError("an EC signing key must be on P-256 (ES256)")
            algorithm = "ES256"
        elif isinstance(key, rsa.RSAPrivateKey):
            if key.key_size < 2048:
                raise ValueError("an RSA signing key must have at least 2048 bits")
            algorithm = "RS256"
        else:
            raise ValueError("the signing key must be an EC P-256 or RSA private key")
        probe = cls(private_key=key, algorithm=algorithm, kid="")
        return cls(private_key=key, algorithm=algorithm, kid=kid or probe.thumbprint())

    @classmethod
    def generate(cls, algorithm: Algorithm = "ES256", kid: str | None = None) -> SigningKey:
        """A fresh key (development and tests)."""
        return cls.from_pem(generate_private_key_pem(algorithm), kid=kid)

    def private_pem(self) -> str:
        """The private key as PKCS#8 PEM (to store it; handle as a secret)."""
        from cryptography.hazmat.primitives import serialization

        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")

    def _bare_public_jwk(self) -> dict[str, Any]:
        from cryptography.hazmat.primitives.asymmetric import ec
        from jwt.algorithms import ECAlgorithm, RSAAlgorithm

        public = self.private_key.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):
            return ECAlgorithm.to_jwk(public, as_dict=True)
        return RSAAlgorithm.to_jwk(public, as_dict=True)

    def thumbprint(self) -> str:
        """RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key."""
        jwk = self._bare_public_jwk()
        members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
        canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
        return _b64(hashlib.sha256(canonical.encode("ascii")).digest())

    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK with ``kid``, ``alg`` and ``use: sig``."""
        jwk = {k: v for k, v in self._bare_public_jwk().items() if k != "key_ops"}
        jwk.update({"kid": self.kid, "alg": self.algorithm, "use": "sig"})
        return jwk

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """A JWK Set holding only this key's public half."""
        return {"keys": [self.public_jwk()]}

    def issue_access_token(
        self,
        *,
        customer_id: UUID,
        session_id: UUID,
        issuer: str,
        audience: str,
        email: str | None = None,
        lifetime: timedelta = timedelta(minutes=15),
        now: datetime | None = None,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """Sign an access token for a customer's session (see the module doc for the claims)."""
        issued = (now or datetime.now(UTC)).astimezone(UTC)
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": audience,
            "sub": str(customer_id),
            "sid": str(session_id),
            "iat": int(issued.timestamp()),
            "exp": int((issued + lifetime).timestamp()),
            "jti": str(uuid.uuid4()),
        }
        if email is not None:
            claims["email"] = email
        if extra_claims:
            claims.update(extra_claims)
        import jwt

        return jwt.encode(
            claims,
            self.private_key,
            algorithm=self.algorithm,
            headers={"kid": self.kid, "typ": ACCESS_TOKEN_TYPE},
        )

    def issue_staff_token(
        self,
        *,
        member_id: UUID,
        email: str,
        name: str,
        role: str,
        issuer: str,
        audience: str,
        lifetime: timedelta = timedelta(minutes=15),
        now: datetime | None = None,
    ) -> str:
        """Sign a staff member's access token: ``aud`` is :func:`staff_audience` of the
        platform ``audience``, claims ``sub`` (member id), ``email``, ``name``, ``role``; no
        ``sid`` (a customer verifier refuses it twice: audience and missing claim)."""
        issued = (now or datetime.now(UTC)).astimezone(UTC)
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": staff_audience(audience),
            "sub": str(member_id),
            "email": email,
            "name": name,
            "role": role,
            "iat": int(issued.timestamp()),
            "exp": int((issued + lifetime).timestamp()),
            "jti": str(uuid.uuid4()),
        }
        import jwt

        return jwt.encode(
            claims,
            self.private_key,
            algorithm=self.algorithm,
            headers={"kid": self.kid, "typ": ACCESS_TOKEN_TYPE},
        )
