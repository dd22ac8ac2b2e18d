"""Hostile input never reaches PostgreSQL: refused with 422, the field named, nothing written.

Before jg_web's text rule, a NUL byte in a sku answered 500 (asyncpg
CharacterNotInRepertoireError) and ``country_code: "XX"`` placed an order.
"""

import json
import uuid
from typing import Any

import pytest

from .conftest import order_body
from .test_bad_input import assert_nothing_written

pytestmark = pytest.mark.integration


def address(**changes: Any) -> dict[str, Any]:
    return {**order_body()["shipping_address"], **changes}


def errors_of(response: Any) -> dict[str, dict[str, str]]:
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["code"] == "invalid_request"
    return {e["field"]: e for e in answer["errors"]}


async def post_order(checkout: Any, body: dict[str, Any] | bytes) -> Any:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    if isinstance(body, bytes):
        headers["Content-Type"] = "application/json"
        return await checkout.http.post("/orders", content=body, headers=headers)
    return await checkout.http.post("/orders", json=body, headers=headers)


TEXT_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "NUL byte in a sku",
        order_body(lines=[{"sku": "MATCHA-KYOTO-100\x00", "quantity": 1}]),
        "lines.0.sku",
        "caractère nul",
    ),
    (
        "NUL byte in a first name",
        order_body(contact={"email": "a@b.fr", "first_name": "Ca\x00mille", "last_name": "D"}),
        "contact.first_name",
        "caractère nul",
    ),
    (
        "escape sequence in a city",
        order_body(shipping_address=address(city="Lyon\x1b[2J")),
        "shipping_address.city",
        "caractère de contrôle",
    ),
    (
        "C1 control in a street line",
        order_body(billing_address=address(line2="Bâtiment\x85B")),
        "billing_address.line2",
        "caractère de contrôle",
    ),
    (
        "line break inside a company name",
        order_body(shipping_address=address(company="JapanGoodz\nSAS")),
        "shipping_address.company",
        "une ligne",
    ),
    (
        "NUL byte in the shipping method",
        order_body(shipping_method="standard\x00"),
        "shipping_method",
        "caractère nul",
    ),
]


async def test_text_with_nul_or_control_characters_is_refused_field_by_field(
    start: Any,
) -> None:
    checkout = await start()
    for name, body, field, reason in TEXT_CASES:
        found = errors_of(await post_order(checkout, body))
        assert field in found, (name, found)
        assert found[field]["code"] == "invalid_characters", name
        assert reason in found[field]["message"], (name, found[field])
    await assert_nothing_written(checkout)


async def test_a_lone_surrogate_is_refused_not_a_server_error(start: Any) -> None:
    checkout = await start()
    # JSON's \u escape lets a lone surrogate through json.loads; UTF-8 cannot encode it
    raw = json.dumps(order_body()).replace('"Durand"', '"Dur\\ud800and"', 1).encode()
    found = errors_of(await post_order(checkout, raw))
    assert found["contact.last_name"]["code"] == "invalid_characters"
    assert "Unicode invalide" in found["contact.last_name"]["message"]
    await assert_nothing_written(checkout)


async def test_a_bad_idempotency_key_header_is_named(start: Any) -> None:
    checkout = await start()
    response = await checkout.http.post(
        "/orders", json=order_body(), headers=[(b"Idempotency-Key", b"key-\x85-1")]
    )
    found = errors_of(response)
    assert found["header.Idempotency-Key"]["code"] == "invalid_characters"
    await assert_nothing_written(checkout)


async def test_a_cancellation_note_may_hold_several_lines_but_no_nul(start: Any) -> None:
    checkout = await start()
    order = await checkout.place()
    refused = await checkout.http.post(
        f"/orders/{order['id']}/cancel", json={"note": "Je me suis\x00 trompée."}
    )
    assert errors_of(refused)["note"]["code"] == "invalid_characters"
    assert (await checkout.get(order["id"]))["status"] == "pending_payment"

    note = "Bonjour,\nje me suis trompée de taille.\r\nMerci !"
    cancelled = await checkout.http.post(f"/orders/{order['id']}/cancel", json={"note": note})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["cancellation"]["note"] == note


async def test_an_unknown_country_code_and_a_country_we_do_not_deliver_are_refused_in_french(
    start: Any,
) -> None:
    checkout = await start()
    unknown = errors_of(
        await post_order(checkout, order_body(shipping_address=address(country_code="XX")))
    )
    assert unknown["shipping_address.country_code"] == {
        "field": "shipping_address.country_code",
        "code": "invalid_country_code",
        "message": "« XX » n'est pas un code de pays ISO 3166-1 (par exemple « FR » pour la "
        "France).",
    }
    elsewhere = errors_of(
        await post_order(
            checkout, order_body(billing_address=address(country_code="US", postal_code="10001"))
        )
    )
    assert elsewhere["billing_address.country_code"] == {
        "field": "billing_address.country_code",
        "code": "country_not_delivered",
        "message": "Nous ne livrons pas dans ce pays (« US ») : nous livrons en France, à Monaco "
        "et dans les autres pays de l'Union européenne.",
    }
    await assert_nothing_written(checkout)

    germany = address(country_code="DE", postal_code="10115", city="Berlin")
    placed = await checkout.place(order_body(shipping_address=germany))
    assert placed["shipping_address"]["country_code"] == "DE"
    assert (await checkout.place())["shipping_address"]["country_code"] == "FR"

    # a modification cannot move the parcel out of the delivery area either
    order = await checkout.confirmed()
    response = await checkout.http.patch(
        f"/orders/{order['id']}", json={"shipping_address": address(country_code="US")}
    )
    assert errors_of(response)["shipping_address.country_code"]["code"] == ("country_not_delivered")


async def test_the_delivery_countries_are_a_setting(start: Any) -> None:
    checkout = await start(countries=("FR", "RE"))
    reunion = address(country_code="RE", postal_code="97400", city="Saint-Denis")
    assert (await checkout.place(order_body(shipping_address=reunion)))["id"]
    refused = errors_of(
        await post_order(checkout, order_body(shipping_address=address(country_code="DE")))
    )
    assert refused["shipping_address.country_code"]["message"] == (
        "Nous ne livrons pas dans ce pays (« DE ») : nous livrons dans ces pays : France, "
        "La Réunion."
    )
