"""Operator endpoints: staff tokens by role, the static operator token, and what is refused."""

from datetime import timedelta
from uuid import uuid4

import httpx
import pytest
from fastapi import Depends, FastAPI
from jg_auth import (
    AuthError,
    Operator,
    auth_error_handler,
    bearer_customer,
    install_staff_gate,
    staff_or_operator,
)
from jg_devstack.tokens import (
    TEST_AUDIENCE,
    TEST_ISSUER,
    TEST_KEY,
    SigningKey,
    authorization,
    mint_staff_token,
    staff_authorization,
    verifier_for_tests,
)
from pydantic import SecretStr

pytestmark = pytest.mark.unit

OPERATOR = "static-operator-token"


def app() -> FastAPI:
    verifier = verifier_for_tests()
    api = FastAPI()
    api.add_exception_handler(AuthError, auth_error_handler)
    install_staff_gate(api, verifier, SecretStr(OPERATOR))
    customer = bearer_customer(verifier)

    @api.get("/queue")
    async def queue(who: Operator = Depends(staff_or_operator("agent"))) -> dict[str, str]:  # noqa: B008
        return {"actor": who.actor}

    @api.post("/replay")
    async def replay(who: Operator = Depends(staff_or_operator("manager"))) -> dict[str, str]:  # noqa: B008
        return {"actor": who.actor}

    @api.get("/me")
    async def me(_: object = Depends(customer)) -> dict[str, str]:
        return {"ok": "yes"}

    return api


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app()), base_url="http://t")


async def test_staff_tokens_act_as_their_member_within_their_role() -> None:
    manager = staff_authorization("manager", email="claire@japangoodz.test")
    agent = staff_authorization("agent", email="hugo@japangoodz.test")
    async with client() as c:
        assert (await c.get("/queue", headers=agent)).json() == {"actor": "hugo@japangoodz.test"}
        assert (await c.post("/replay", headers=manager)).json() == {
            "actor": "claire@japangoodz.test"
        }
        refused = await c.post("/replay", headers=agent)
    assert refused.status_code == 403
    assert refused.json()["code"] == "insufficient_role"
    assert "responsable" in refused.json()["message"]


async def test_the_static_operator_token_still_passes_every_role() -> None:
    headers = {"Authorization": f"Bearer {OPERATOR}"}
    async with client() as c:
        assert (await c.get("/queue", headers=headers)).json() == {"actor": "operator-token"}
        assert (await c.post("/replay", headers=headers)).status_code == 200


async def test_customer_tokens_are_refused_on_operator_routes_and_staff_on_customer_routes() -> (
    None
):
    async with client() as c:
        customer = await c.get("/queue", headers=authorization(uuid4()))
        staff = await c.get("/me", headers=staff_authorization("manager"))
        nothing = await c.get("/queue")
    assert customer.status_code == 401  # no name/role claims, and the customers' audience
    assert customer.json()["code"] in {"token_missing_claim", "token_wrong_audience"}
    assert staff.status_code == 401
    assert staff.json()["code"] in {"token_missing_claim", "token_wrong_audience"}
    assert nothing.status_code == 401


async def test_expired_or_foreign_staff_tokens_are_refused() -> None:
    expired = mint_staff_token("manager", lifetime=timedelta(minutes=-5))
    foreign = mint_staff_token("manager", key=SigningKey.generate(kid="jg-test-key"))
    wrong_issuer = mint_staff_token("manager", issuer="https://evil.invalid")
    async with client() as c:
        codes = [
            (await c.post("/replay", headers={"Authorization": f"Bearer {t}"})).json()["code"]
            for t in (expired, foreign, wrong_issuer)
        ]
    assert codes == ["token_expired", "token_bad_signature", "token_wrong_issuer"]


async def test_a_staff_token_with_an_unknown_role_is_refused() -> None:
    forged = TEST_KEY.issue_staff_token(  # accounts never signs another role
        member_id=uuid4(),
        email="x@japangoodz.test",
        name="X",
        role="owner",
        issuer=TEST_ISSUER,
        audience=TEST_AUDIENCE,
    )
    async with client() as c:
        answer = await c.get("/queue", headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401
    assert answer.json()["code"] == "token_malformed"
