"""jg_web.http: one error plumbing, each service's body shape kept."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from jg_auth import AuthError
from jg_web import BodyLimit, CountryCode, SingleLine, input_guard
from jg_web.http import (
    ApiError,
    JsonBodies,
    Problem,
    ProblemsKey,
    install_error_handlers,
    problem_from_pydantic,
)
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

pytestmark = pytest.mark.unit


def _no_digits(value: str) -> str:
    if any(c.isdigit() for c in value):
        raise ValueError("Un prénom ne contient pas de chiffres.")
    return value


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str
    quantity: int


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first_name: Annotated[str, AfterValidator(_no_digits), SingleLine, Field(max_length=10)]
    postal_code: str = Field(pattern=r"^\d{5}$")
    country_code: CountryCode = "FR"
    items: list[Item] = Field(default_factory=list, max_length=2)


class BusyError(Exception):
    pass


async def busy(_: Request, exc: BusyError) -> JSONResponse:
    return JSONResponse({"code": "busy", "message": "Réessayez."}, status_code=503)


def make_app(problems_key: ProblemsKey, **options: Any) -> FastAPI:
    app = FastAPI(dependencies=[Depends(input_guard())])
    envelope = install_error_handlers(
        app,
        problems_key=problems_key,
        invalid_message="La requête contient des erreurs.",
        field_messages={"postal_code": ("invalid_postal_code", "Code postal invalide.")},
        extra={BusyError: busy},
        **options,
    )
    app.add_middleware(JsonBodies, envelope=envelope)
    app.add_middleware(BodyLimit, max_bytes=2_000, envelope=envelope)

    @app.post("/orders")
    async def place(order: Order) -> dict[str, str]:
        if order.first_name == "Conflit":
            raise ApiError(
                409,
                "already_placed",
                "Cette commande a déjà été passée.",
                headers={"Retry-After": "3"},
                extra={"order_id": "o-1"},
            )
        if order.first_name == "Faible":
            raise ApiError(
                422,
                "password_policy",
                "Le mot de passe ne respecte pas les règles.",
                problems=[Problem("password", "too_short", "Trop court.", {"rule": "too_short"})],
            )
        if order.first_name == "Occupé":
            raise BusyError
        return {"ok": order.first_name}

    @app.get("/me")
    async def me(cursor: str | None = None) -> dict[str, str]:
        raise AuthError("token_expired")

    return app


async def client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
async def details() -> AsyncIterator[httpx.AsyncClient]:
    """Accounts' shape: ``details`` only with problems, code ``validation_error``."""
    async for http in client_for(make_app("details", invalid_code="validation_error")):
        yield http


@pytest.fixture
async def errors() -> AsyncIterator[httpx.AsyncClient]:
    """Checkout's shape: ``errors`` always, code ``invalid_request``."""
    async for http in client_for(make_app("errors", always_list=True)):
        yield http


VALID = {"first_name": "Camille", "postal_code": "69003"}


async def test_an_api_error_answers_its_status_code_message_headers_and_extra_keys(
    details: httpx.AsyncClient, errors: httpx.AsyncClient
) -> None:
    conflict = await details.post("/orders", json={**VALID, "first_name": "Conflit"})
    assert conflict.status_code == 409
    assert conflict.headers["Retry-After"] == "3"
    assert conflict.json() == {
        "code": "already_placed",
        "message": "Cette commande a déjà été passée.",
        "order_id": "o-1",
    }
    same = await errors.post("/orders", json={**VALID, "first_name": "Conflit"})
    assert same.json()["errors"] == []  # checkout's body always lists its problems

    weak = await details.post("/orders", json={**VALID, "first_name": "Faible"})
    assert weak.status_code == 422
    assert weak.json()["details"] == [
        {"field": "password", "code": "too_short", "message": "Trop court.", "rule": "too_short"}
    ]


async def test_validation_errors_are_named_by_field_in_french(
    details: httpx.AsyncClient, errors: httpx.AsyncClient
) -> None:
    body = {
        "first_name": "Cam1lle",
        "postal_code": "6900",
        "country_code": "XX",
        "items": [{"sku": "A"}, {"sku": "B", "quantity": 1, "price": 1}, {"sku": "C"}],
        "coupon": "X",
    }
    answer = await details.post("/orders", json=body)
    assert answer.status_code == 422
    assert (answer.json()["code"], answer.json()["message"]) == (
        "validation_error",
        "La requête contient des erreurs.",
    )
    found = {p["field"]: (p["code"], p["message"]) for p in answer.json()["details"]}
    assert found["first_name"] == ("invalid_value", "Un prénom ne contient pas de chiffres.")
    assert found["postal_code"] == ("invalid_postal_code", "Code postal invalide.")
    assert found["country_code"][0] == "invalid_country_code"
    assert "« XX »" in found["country_code"][1]
    assert found["items"] == ("too_many_items", "Cette liste est trop longue.")
    assert found["coupon"] == ("unknown_field", "Ce champ n'est pas accepté.")
    checkout = await errors.post("/orders", json=body)
    assert checkout.json()["code"] == "invalid_request"
    assert {p["field"] for p in checkout.json()["errors"]} == set(found)

    items = await errors.post("/orders", json={**VALID, "items": body["items"][:2]})
    found = {p["field"]: p["code"] for p in items.json()["errors"]}
    assert found == {"items.0.quantity": "missing", "items.1.price": "price_not_accepted"}

    broken = await errors.post(
        "/orders", content=b'{"first_name": ', headers={"Content-Type": "application/json"}
    )
    assert broken.json()["errors"] == [
        {
            "field": "body",
            "code": "invalid_json",
            "message": "Le corps de la requête n'est pas un JSON valide.",
        }
    ]
    nul = await details.get("/me", params={"cursor": "a\x00b"})
    assert nul.status_code == 422
    assert nul.json()["details"][0]["field"] == "query.cursor"
    assert nul.json()["details"][0]["code"] == "invalid_characters"


async def test_unknown_paths_and_methods_and_auth_errors_answer_in_the_envelope(
    details: httpx.AsyncClient, errors: httpx.AsyncClient
) -> None:
    missing = await details.get("/nowhere")
    assert (missing.status_code, missing.json()) == (
        404,
        {"code": "not_found", "message": "Ressource introuvable."},
    )
    wrong = await errors.delete("/orders")
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "POST"
    assert wrong.json() == {
        "code": "method_not_allowed",
        "message": "Méthode non autorisée.",
        "errors": [],
    }
    expired = await details.get("/me")
    assert expired.status_code == 401
    assert expired.json()["code"] == "token_expired"
    assert expired.json()["message"]
    assert "WWW-Authenticate" in expired.headers


async def test_a_service_handler_is_added_and_plumbing_answers_in_the_service_shape(
    details: httpx.AsyncClient, errors: httpx.AsyncClient
) -> None:
    occupied = await details.post("/orders", json={**VALID, "first_name": "Occupé"})
    assert (occupied.status_code, occupied.json()["code"]) == (503, "busy")

    form = await errors.post("/orders", content=b"a=1", headers={"Content-Type": "text/plain"})
    assert form.status_code == 415
    assert form.json()["code"] == "unsupported_media_type"
    assert form.json()["errors"] == []
    plain = await details.post("/orders", content=b"a=1", headers={"Content-Type": "text/plain"})
    assert "details" not in plain.json()
    json_ld = await details.post(
        "/orders",
        content=b'{"first_name": "Camille", "postal_code": "69003"}',
        headers={"Content-Type": "application/ld+json; charset=utf-8"},
    )
    assert json_ld.status_code == 200
    too_big = await errors.post("/orders", json={**VALID, "first_name": "x" * 5_000})
    assert too_big.status_code == 413
    assert too_big.json()["errors"] == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"loc": ("body", "email"), "type": "missing", "msg": "Field required"}, "missing"),
        (
            {"loc": ("body", "name"), "type": "string_too_short", "msg": "short", "input": ""},
            "missing",
        ),
        ({"loc": ("body", "name"), "type": "string_too_long", "msg": "long"}, "too_long"),
        ({"loc": ("body", "n"), "type": "int_parsing", "msg": "not an int"}, "invalid_value"),
        ({"loc": ("body", "a", "phone"), "type": "string_pattern_mismatch"}, "invalid_phone"),
        ({"loc": ("body", "payment", "type"), "type": "literal_error"}, "bad_payment"),
    ],
)
def test_each_pydantic_error_has_a_code(error: dict[str, Any], expected: str) -> None:
    fields = {"phone": ("invalid_phone", "Numéro invalide."), "payment.type": ("bad_payment", "-")}
    problem = problem_from_pydantic(error, fields)
    assert problem.code == expected
    assert problem.message and not problem.message.startswith(("Field", "String"))
    assert problem.field == ".".join(error["loc"][1:])
