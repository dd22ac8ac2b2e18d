"""The last resort: a text value PostgreSQL refuses answers 422 in the app's own envelope."""

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from jg_messaging import install_data_error_handler, install_unavailable_handler

pytestmark = pytest.mark.integration


async def envelope(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        {"code": "invalid", "message": "Erreur.", "fields": [e["type"] for e in exc.errors()]},
        status_code=422,
    )


@pytest.fixture
async def http(db: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose routes send unvalidated text to PostgreSQL (what validation prevents)."""
    app = FastAPI()
    app.add_exception_handler(RequestValidationError, envelope)
    install_unavailable_handler(app)
    install_data_error_handler(app)
    async with db.acquire() as conn:
        await conn.execute("CREATE TABLE notes (body text, code varchar(4))")

    @app.post("/notes")
    async def add(body: dict[str, str]) -> dict[str, bool]:
        async with db.acquire() as conn:
            await conn.execute(
                "INSERT INTO notes (body, code) VALUES ($1, $2)", body["text"], body["code"]
            )
            if body.get("json"):
                await conn.execute("SELECT $1::jsonb", body["json"])
        return {"ok": True}

    @app.get("/ratio")
    async def ratio() -> dict[str, int]:
        async with db.acquire() as conn:
            return {"value": await conn.fetchval("SELECT 1 / 0")}

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ('{"text": "a\\u0000b", "code": "A"}', "invalid_characters"),
        ('{"text": "a\\ud800b", "code": "A"}', "invalid_characters"),
        ('{"text": "ok", "code": "A", "json": "{\\"a\\": \\"\\\\u0000\\"}"}', "invalid_characters"),
        ('{"text": "ok", "code": "TOO-LONG"}', "too_long"),
    ],
    ids=["nul", "lone surrogate", "nul escaped in jsonb", "longer than its column"],
)
async def test_a_value_postgresql_cannot_store_is_the_callers_fault(
    http: httpx.AsyncClient, db: asyncpg.Pool, body: str, kind: str
) -> None:
    response = await http.post(
        "/notes", content=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json() == {"code": "invalid", "message": "Erreur.", "fields": [kind]}


async def test_other_data_errors_stay_bugs(http: httpx.AsyncClient) -> None:
    assert (await http.get("/ratio")).status_code == 500  # division by zero: not the caller's
