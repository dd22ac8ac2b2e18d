"""Signing keys: PEM round trip, stable key ids, refused key types."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jg_auth import SigningKey
from jg_auth.keys import generate_private_key_pem

pytestmark = pytest.mark.unit


def test_the_same_pem_always_gives_the_same_kid_and_public_key() -> None:
    pem = generate_private_key_pem()
    first, second = SigningKey.from_pem(pem), SigningKey.from_pem(pem)
    assert first.kid == second.kid
    assert first.public_jwk() == second.public_jwk()
    assert SigningKey.from_pem(first.private_pem()).kid == first.kid
    assert first.kid != SigningKey.generate().kid


def test_the_public_jwk_has_no_private_part() -> None:
    jwk = SigningKey.generate().public_jwk()
    assert jwk["kty"] == "EC" and jwk["alg"] == "ES256" and jwk["use"] == "sig"
    assert "d" not in jwk
    rsa = SigningKey.generate("RS256").public_jwk()
    assert rsa["kty"] == "RSA" and {"d", "p", "q"}.isdisjoint(rsa)


def test_weak_or_unsupported_keys_are_refused() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError, match="P-256"):
        SigningKey.from_pem(p384)
