"""The input guard names the path parameter, query parameter or header it refuses."""

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, Header
from fastapi.exceptions import RequestValidationError
from jg_web import input_guard, validation_error_handler

pytestmark = pytest.mark.unit


def make_app(calls: list[str]) -> FastAPI:
    app = FastAPI(dependencies=[Depends(input_guard(data_headers=("Idempotency-Key",)))])
    app.add_exception_handler(RequestValidationError, validation_error_handler)

    @app.get("/stock/{sku}")
    async def stock(sku: str, note: str | None = None) -> dict[str, str | None]:
        calls.append(sku)
        return {"sku": sku, "note": note}

    @app.post("/orders")
    async def orders(
        key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> dict[str, str | None]:
        calls.append("orders")
        return {"key": key}

    return app


@pytest.fixture
async def client() -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    calls: list[str] = []
    transport = httpx.ASGITransport(app=make_app(calls))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http, calls


async def test_ordinary_parameters_pass(client: tuple[httpx.AsyncClient, list[str]]) -> None:
    http, calls = client
    response = await http.get("/stock/MATCHA-KYOTO-100", params={"note": "Thé vert, 100 g"})
    assert response.json() == {"sku": "MATCHA-KYOTO-100", "note": "Thé vert, 100 g"}
    assert (await http.post("/orders", headers={"Idempotency-Key": "k-1"})).status_code == 200
    assert calls == ["MATCHA-KYOTO-100", "orders"]


@pytest.mark.parametrize(
    ("url", "field", "reason"),
    [
        ("/stock/MATCHA%00KYOTO", "sku", "Ce champ contient un caractère nul"),
        ("/stock/MATCHA%1BKYOTO", "sku", "caractère de contrôle"),
        ("/stock/MATCHA?note=a%00b", "note", "caractère nul"),
        ("/stock/MATCHA?note=a%0Ab", "note", "retour à la ligne"),
        ("/stock/MATCHA?no%00te=x", "no\ufffdte", "caractère nul"),
        ("/stock/MATCHA?note=ok&note=%C2%85", "note", "caractère de contrôle"),
    ],
)
async def test_a_refused_path_or_query_parameter_is_named(
    client: tuple[httpx.AsyncClient, list[str]], url: str, field: str, reason: str
) -> None:
    http, calls = client
    response = await http.get(url)
    assert response.status_code == 422
    [detail] = response.json()["details"]
    assert detail["field"] == field
    assert detail["code"] == "invalid_characters"
    assert reason in detail["message"]
    assert calls == []  # the route never ran


async def test_a_data_header_is_checked_too(client: tuple[httpx.AsyncClient, list[str]]) -> None:
    http, calls = client
    # obs-text bytes reach the application as latin-1: \x85 is a C1 control character
    response = await http.post("/orders", headers=[(b"Idempotency-Key", b"key\x85")])
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "Idempotency-Key"
    assert calls == []


async def test_an_unknown_path_stays_a_404(client: tuple[httpx.AsyncClient, list[str]]) -> None:
    http, _ = client
    assert (await http.get("/nowhere%00")).status_code == 404
