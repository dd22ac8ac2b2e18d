"""The FastAPI dependencies: storefront token, customer token, or 401 with a reason."""

from datetime import timedelta
from uuid import uuid4

import httpx
import pytest
from fastapi import Depends, FastAPI
from jg_auth import (
    AuthError,
    Customer,
    Principal,
    Storefront,
    auth_error_handler,
    bearer_customer,
    bearer_principal,
)
from jg_devstack.tokens import authorization, mint_token, verifier_for_tests
from pydantic import SecretStr

pytestmark = pytest.mark.unit

STOREFRONT = "storefront-secret-token"


def app(*, flat_errors: bool = True, storefront_token: str = STOREFRONT) -> FastAPI:
    verifier = verifier_for_tests()
    principal = bearer_principal(verifier, SecretStr(storefront_token))
    customer = bearer_customer(verifier)
    api = FastAPI()
    if flat_errors:
        api.add_exception_handler(AuthError, auth_error_handler)

    @api.get("/who")
    async def who(p: Principal = Depends(principal)) -> dict[str, str]:  # noqa: B008
        match p:
            case Storefront():
                return {"kind": "storefront"}
            case Customer(claims=claims):
                return {"kind": "customer", "id": str(claims.customer_id)}

    @api.get("/me")
    async def me(c: Customer = Depends(customer)) -> dict[str, str]:  # noqa: B008
        return {"id": str(c.customer_id)}

    return api


def client(api: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://t")


async def test_the_storefront_token_and_customer_tokens_identify_the_caller() -> None:
    customer_id = uuid4()
    async with client(app()) as c:
        storefront = await c.get("/who", headers={"Authorization": f"Bearer {STOREFRONT}"})
        customer = await c.get("/who", headers=authorization(customer_id))
    assert storefront.json() == {"kind": "storefront"}
    assert customer.json() == {"kind": "customer", "id": str(customer_id)}


async def test_missing_or_bad_credentials_get_401_with_a_code_and_a_french_message() -> None:
    async with client(app()) as c:
        missing = await c.get("/who")
        basic = await c.get("/who", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        wrong = await c.get("/who", headers={"Authorization": "Bearer not-the-storefront"})
        expired = await c.get(
            "/who", headers=authorization(uuid4(), lifetime=timedelta(minutes=-5))
        )
    assert (missing.status_code, missing.json()["code"]) == (401, "missing_credentials")
    assert basic.json()["code"] == "missing_credentials"
    assert (wrong.status_code, wrong.json()["code"]) == (401, "token_malformed")
    assert (expired.status_code, expired.json()["code"]) == (401, "token_expired")
    assert "reconnecter" in expired.json()["message"]
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")


async def test_customer_only_routes_refuse_the_storefront_token() -> None:
    async with client(app()) as c:
        storefront = await c.get("/me", headers={"Authorization": f"Bearer {STOREFRONT}"})
        customer = await c.get("/me", headers={"Authorization": f"Bearer {mint_token(uuid4())}"})
    assert storefront.status_code == 401
    assert customer.status_code == 200


async def test_an_empty_configured_storefront_token_never_matches() -> None:
    # A deployment that forgot the storefront token must not let any bearer act as the storefront.
    async with client(app(storefront_token="")) as c:
        response = await c.get("/who", headers={"Authorization": "Bearer not-a-jwt"})
    assert response.status_code == 401
    assert response.json()["code"] != "missing_credentials"  # it was checked, and refused


async def test_without_the_handler_the_error_is_nested_in_detail() -> None:
    async with client(app(flat_errors=False)) as c:
        response = await c.get("/who")
    assert response.status_code == 401
    assert response.json()["detail"]["code"] == "missing_credentials"
