"""TokenVerifier: what it accepts, what it refuses and why, and how it fetches keys."""

import asyncio
import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from jg_auth import SigningKey, TokenError, TokenErrorReason, TokenVerifier
from jg_devstack.tokens import TEST_AUDIENCE, TEST_ISSUER, TEST_JWKS, TEST_KEY, mint_token
from jg_devstack.tokens import verifier_for_tests as make_verifier

pytestmark = pytest.mark.unit

JWKS_URL = "http://accounts.test/.well-known/jwks.json"


async def refused(verifier: TokenVerifier, token: str) -> TokenErrorReason:
    with pytest.raises(TokenError) as caught:
        await verifier.verify(token)
    return caught.value.reason


async def test_a_valid_token_gives_the_customer_session_email_and_expiry() -> None:
    customer_id, session_id = uuid4(), uuid4()
    now = datetime.now(UTC).replace(microsecond=0)
    token = mint_token(customer_id, session_id=session_id, email="aiko@example.fr", now=now)
    claims = await make_verifier().verify(token)
    assert claims.customer_id == customer_id
    assert claims.session_id == session_id
    assert claims.email == "aiko@example.fr"
    assert claims.expires_at == now + timedelta(minutes=15)


async def test_rs256_keys_are_accepted_too() -> None:
    key = SigningKey.generate("RS256", kid="rsa-1")
    verifier = make_verifier(jwks=key.jwks())
    claims = await verifier.verify(mint_token(customer_id := uuid4(), key=key))
    assert claims.customer_id == customer_id


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"lifetime": timedelta(minutes=-5)}, TokenErrorReason.EXPIRED),
        ({"issuer": "https://evil.example"}, TokenErrorReason.WRONG_ISSUER),
        ({"audience": "another-platform"}, TokenErrorReason.WRONG_AUDIENCE),
        ({"key": SigningKey.generate(kid="jg-test-key")}, TokenErrorReason.BAD_SIGNATURE),
        ({"key": SigningKey.generate(kid="stranger")}, TokenErrorReason.UNKNOWN_KEY),
        (
            {"now": datetime.now(UTC) + timedelta(hours=1), "extra_claims": {}},
            TokenErrorReason.NOT_YET_VALID,
        ),
    ],
    ids=["expired", "issuer", "audience", "forged-same-kid", "unknown-kid", "issued-in-future"],
)
async def test_bad_tokens_are_refused_with_their_reason(
    overrides: dict[str, Any], reason: TokenErrorReason
) -> None:
    token = mint_token(uuid4(), **overrides)
    assert await refused(make_verifier(), token) is reason


async def test_a_token_expired_within_the_leeway_still_passes_but_not_beyond() -> None:
    verifier = TokenVerifier(jwks=TEST_JWKS, issuer=TEST_ISSUER, audience=TEST_AUDIENCE, leeway=30)
    await verifier.verify(mint_token(uuid4(), lifetime=timedelta(seconds=-10)))
    assert await refused(verifier, mint_token(uuid4(), lifetime=timedelta(seconds=-60))) is (
        TokenErrorReason.EXPIRED
    )


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "iss": TEST_ISSUER,
        "aud": TEST_AUDIENCE,
        "sub": str(uuid4()),
        "sid": str(uuid4()),
        "iat": now,
        "exp": now + 600,
    }
    claims.update(extra)
    return {k: v for k, v in claims.items() if v is not None}


def _forge(header: dict[str, Any], claims: dict[str, Any], secret: bytes | None) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if secret is None:
        return signing_input + "."
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


async def test_symmetric_and_unsigned_tokens_are_refused() -> None:
    public_pem = TEST_KEY.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # HS256 "signed" with the public key: the classic algorithm-confusion attack
    hs = _forge({"alg": "HS256", "kid": TEST_KEY.kid, "typ": "at+jwt"}, _claims(), public_pem)
    unsigned = _forge({"alg": "none", "kid": TEST_KEY.kid, "typ": "at+jwt"}, _claims(), None)
    verifier = make_verifier()
    assert await refused(verifier, hs) is TokenErrorReason.WRONG_ALGORITHM
    assert await refused(verifier, unsigned) is TokenErrorReason.WRONG_ALGORITHM


async def test_a_token_whose_alg_does_not_match_its_key_is_refused() -> None:
    rsa = SigningKey.generate("RS256", kid=TEST_KEY.kid)  # same kid as the EC key
    token = jwt.encode(
        _claims(),
        rsa.private_key,
        algorithm="RS256",
        headers={"kid": TEST_KEY.kid, "typ": "at+jwt"},
    )
    assert await refused(make_verifier(), token) is TokenErrorReason.WRONG_ALGORITHM


@pytest.mark.parametrize(
    ("claims", "headers", "reason"),
    [
        (_claims(sid=None), {"typ": "at+jwt"}, TokenErrorReason.MISSING_CLAIM),
        (_claims(exp=None), {"typ": "at+jwt"}, TokenErrorReason.MISSING_CLAIM),
        (_claims(sub="not-a-uuid"), {"typ": "at+jwt"}, TokenErrorReason.MALFORMED),
        (_claims(), {"typ": "JWT"}, TokenErrorReason.WRONG_TYPE),
        (_claims(), {}, TokenErrorReason.WRONG_TYPE),
    ],
    ids=["no-session", "no-expiry", "sub-not-uuid", "id-token-type", "no-type"],
)
async def test_tokens_that_are_not_proper_access_tokens_are_refused(
    claims: dict[str, Any], headers: dict[str, str], reason: TokenErrorReason
) -> None:
    token = jwt.encode(
        claims, TEST_KEY.private_key, algorithm="ES256", headers={"kid": TEST_KEY.kid, **headers}
    )
    assert await refused(make_verifier(), token) is reason


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x.y.z"])
async def test_garbage_is_malformed(garbage: str) -> None:
    assert await refused(make_verifier(), garbage) is TokenErrorReason.MALFORMED


# --- fetching the JWK Set ------------------------------------------------------------------


class FakeAccounts:
    """Serves a JWK Set through httpx.MockTransport and counts the requests."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = list(keys)
        self.requests = 0
        self.down = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == JWKS_URL
        self.requests += 1
        if self.down:
            return httpx.Response(503)
        return httpx.Response(200, json={"keys": [k.public_jwk() for k in self.keys]})

    def verifier(self, **kwargs: Any) -> TokenVerifier:
        return TokenVerifier(
            jwks_url=JWKS_URL,
            issuer=TEST_ISSUER,
            audience=TEST_AUDIENCE,
            transport=httpx.MockTransport(self.handler),
            **kwargs,
        )


async def test_the_key_set_is_fetched_once_and_cached() -> None:
    accounts = FakeAccounts(TEST_KEY)
    verifier = accounts.verifier()
    for _ in range(5):
        await verifier.verify(mint_token(uuid4()))
    assert accounts.requests == 1


async def test_a_rotated_key_is_picked_up_and_unknown_kids_refetch_at_most_once_per_interval() -> (
    None
):
    accounts = FakeAccounts(TEST_KEY)
    verifier = accounts.verifier(refetch_interval=0.2)
    await verifier.verify(mint_token(uuid4()))
    stranger = SigningKey.generate(kid="stranger")
    for _ in range(10):  # a flood of tokens with an unknown kid
        assert await refused(verifier, mint_token(uuid4(), key=stranger)) is (
            TokenErrorReason.UNKNOWN_KEY
        )
    assert accounts.requests == 1  # the first fetch was less than 0.2 s ago

    rotated = SigningKey.generate(kid="rotated")
    accounts.keys.append(rotated)
    await asyncio.sleep(0.25)
    await verifier.verify(mint_token(uuid4(), key=rotated))
    assert accounts.requests == 2


async def test_when_the_issuer_is_down_known_keys_keep_working() -> None:
    accounts = FakeAccounts(TEST_KEY)
    verifier = accounts.verifier(cache_ttl=0.0, refetch_interval=0.0)
    await verifier.verify(mint_token(uuid4()))
    accounts.down = True
    await verifier.verify(mint_token(uuid4()))  # stale cache, refresh fails, old key still used
    assert accounts.requests == 2


async def test_without_any_key_the_error_says_keys_are_unavailable() -> None:
    accounts = FakeAccounts(TEST_KEY)
    accounts.down = True
    assert await refused(accounts.verifier(), mint_token(uuid4())) is (
        TokenErrorReason.KEYS_UNAVAILABLE
    )


def test_symmetric_keys_in_a_key_set_are_ignored() -> None:
    verifier = TokenVerifier(
        jwks={"keys": [{"kty": "oct", "kid": "h", "k": "c2VjcmV0"}, TEST_KEY.public_jwk()]},
        issuer=TEST_ISSUER,
        audience=TEST_AUDIENCE,
    )
    assert set(verifier._keys) == {TEST_KEY.kid}


def test_the_verifier_needs_exactly_one_key_source_and_asymmetric_algorithms() -> None:
    with pytest.raises(ValueError):
        TokenVerifier(issuer="i", audience="a")
    with pytest.raises(ValueError):
        TokenVerifier(jwks_url=JWKS_URL, jwks=TEST_JWKS, issuer="i", audience="a")
    with pytest.raises(ValueError):
        TokenVerifier(jwks=TEST_JWKS, issuer="i", audience="a", algorithms=("HS256",))
