"""The shop's team: console sign-in with staff tokens, roles, members, development seeding."""

from collections.abc import Callable
from typing import Any

import pytest
from jg_messaging import PlatformSettings

from .conftest import OPERATOR, Accounts, bearer

pytestmark = pytest.mark.integration

DEV_PASSWORD = "dev-only-staff-password"
MANAGER = "manager@japangoodz.test"
AGENT = "agent@japangoodz.test"


@pytest.fixture
async def dev_accounts(
    start: Callable[..., Any], make_settings: Callable[..., Any], stack: Any, topic_prefix: str
) -> Accounts:
    platform = PlatformSettings(
        kafka_bootstrap_servers=stack.kafka_bootstrap,
        topic_prefix=topic_prefix,
        environment="development",
    )
    accounts: Accounts = await start(platform=platform)
    return accounts


async def staff_login(accounts: Accounts, email: str, password: str = DEV_PASSWORD) -> Any:
    return await accounts.http.post("/staff/login", json={"email": email, "password": password})


async def test_development_seeds_a_manager_and_an_agent_who_sign_in_with_staff_tokens(
    dev_accounts: Accounts,
) -> None:
    answer = await staff_login(dev_accounts, "Manager@JapanGoodz.test")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert body["member"]["email"] == MANAGER
    assert body["member"]["name"] == "Claire Manager"
    assert body["member"]["role"] == "manager"
    verifier = dev_accounts.app.state.accounts.keyring.verifier
    claims = await verifier.verify_staff(body["access_token"])
    assert (claims.email, claims.name, claims.role.value) == (MANAGER, "Claire Manager", "manager")
    assert str(claims.member_id) == body["member"]["id"]
    agent = (await staff_login(dev_accounts, AGENT)).json()
    assert agent["member"]["role"] == "agent"
    assert agent["member"]["name"] == "Hugo Agent"


async def test_a_wrong_password_or_unknown_member_is_refused_alike(dev_accounts: Accounts) -> None:
    wrong = await staff_login(dev_accounts, MANAGER, "not-the-password")
    unknown = await staff_login(dev_accounts, "nobody@japangoodz.test")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "invalid_credentials"


async def test_outside_development_no_member_is_seeded(accounts: Accounts) -> None:
    answer = await staff_login(accounts, MANAGER)
    assert answer.status_code == 401
    listed = await accounts.http.get(
        "/staff/members", headers={"Authorization": f"Bearer {OPERATOR}"}
    )
    assert listed.status_code == 200
    assert listed.json() == []


async def test_a_manager_adds_a_member_who_signs_in_and_an_agent_may_not(
    dev_accounts: Accounts,
) -> None:
    manager = bearer((await staff_login(dev_accounts, MANAGER)).json())
    agent = bearer((await staff_login(dev_accounts, AGENT)).json())
    new = {
        "email": "lea@japangoodz.test",
        "name": "Léa Martin",
        "role": "agent",
        "password": "Origami-Grue-2026!",
    }
    refused = await dev_accounts.http.post("/staff/members", json=new, headers=agent)
    assert refused.status_code == 403
    assert refused.json()["code"] == "insufficient_role"
    assert (await dev_accounts.http.get("/staff/members", headers=agent)).status_code == 403

    added = await dev_accounts.http.post("/staff/members", json=new, headers=manager)
    assert added.status_code == 201, added.text
    assert added.json()["created_by"] == MANAGER
    again = await dev_accounts.http.post("/staff/members", json=new, headers=manager)
    assert again.status_code == 409
    weak = await dev_accounts.http.post(
        "/staff/members",
        json={**new, "email": "x@japangoodz.test", "password": "123"},
        headers=manager,
    )
    assert weak.status_code == 422

    listed = await dev_accounts.http.get("/staff/members", headers=manager)
    assert [m["email"] for m in listed.json()] == [MANAGER, AGENT, "lea@japangoodz.test"]
    signed_in = await staff_login(dev_accounts, "lea@japangoodz.test", "Origami-Grue-2026!")
    assert signed_in.status_code == 200
    assert signed_in.json()["member"]["name"] == "Léa Martin"


async def test_staff_and_customer_tokens_each_stay_on_their_side(dev_accounts: Accounts) -> None:
    manager = bearer((await staff_login(dev_accounts, MANAGER)).json())
    customer = bearer(await dev_accounts.sign_up())
    on_customer_route = await dev_accounts.http.get("/me", headers=manager)
    on_staff_route = await dev_accounts.http.get("/staff/members", headers=customer)
    assert on_customer_route.status_code == 401
    assert on_staff_route.status_code == 401
