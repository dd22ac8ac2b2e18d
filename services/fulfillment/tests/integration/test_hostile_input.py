"""Hostile input never reaches PostgreSQL: 422 with the field named, nothing stored.

Before jg_web's text rule, a NUL byte in a claim's message or in a photo's file name, or in a
sku in the path of an operator route, answered 500 (asyncpg CharacterNotInRepertoireError).
"""

import json
import uuid
from typing import Any

import pytest
from jg_events import ClaimKind

from .conftest import Fulfillment
from .test_claims import claim_form, png

pytestmark = pytest.mark.integration


def details_of(response: Any) -> dict[str, dict[str, str]]:
    assert response.status_code == 422, response.text
    return {d["field"]: d for d in response.json()["details"]}


def multipart(fields: dict[str, str], photos: list[tuple[bytes, bytes]]) -> tuple[bytes, str]:
    """A multipart body written by hand: file names go out byte for byte (httpx escapes them)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts += [
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="photos"; filename="'
        + filename
        + b'"\r\nContent-Type: image/png\r\n\r\n'
        + data
        + b"\r\n"
        for filename, data in photos
    ]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


async def claims(service: Fulfillment) -> int:
    return await service.pool.fetchval("SELECT count(*) FROM claims")


async def test_a_claim_message_or_photo_name_with_a_nul_byte_is_refused_by_name(
    service: Fulfillment,
) -> None:
    customer = uuid.uuid4()
    order = await service.delivered_order(("BOL-MATCHA-RAKU", 1), customer_id=customer)
    path = f"/orders/{order.order_id}/claims"
    items = [{"sku": "BOL-MATCHA-RAKU", "quantity": 1}]
    headers = service.customer(customer)
    photo = [("photos", ("bol.png", png(4), "image/png"))]

    def form(**changes: str) -> dict[str, str]:
        return {**claim_form(order.order_number, ClaimKind.DAMAGED_ITEM, items), **changes}

    found = details_of(
        await service.http.post(
            path, data=form(message="Le bol\x00 est fêlé."), files=photo, headers=headers
        )
    )
    assert found["message"]["code"] == "invalid_characters"
    assert "caractère nul" in found["message"]["message"]

    found = details_of(
        await service.http.post(
            path, data=form(order_number=f"{order.order_number}\x1b"), files=photo, headers=headers
        )
    )
    assert found["order_number"]["code"] == "invalid_characters"

    body, content_type = multipart(form(), [(b"bol\x00.png", png(4))])
    found = details_of(
        await service.http.post(
            path, content=body, headers={**headers, "Content-Type": content_type}
        )
    )
    assert found["photos.0"]["code"] == "invalid_characters"

    found = details_of(
        await service.http.post(
            path,
            data=form(items=json.dumps([{"sku": "BOL-MATCHA-RAKU\u0000", "quantity": 1}])),
            files=photo,
            headers=headers,
        )
    )
    assert found["items.0.sku"]["code"] == "invalid_characters"
    assert await claims(service) == 0

    # a message may hold several lines
    message = "Bonjour,\nle bol est arrivé fêlé.\r\nCordialement,\tCamille"
    opened = await service.http.post(path, data=form(message=message), files=photo, headers=headers)
    assert opened.status_code == 201, opened.text
    assert opened.json()["message"] == message


async def test_a_sku_in_the_path_with_a_nul_byte_is_refused_by_name(service: Fulfillment) -> None:
    response = await service.http.get("/operator/stock/DARUMA%00ROUGE", headers=service.operator)
    found = details_of(response)
    assert found["sku"]["code"] == "invalid_characters"
    assert "caractère nul" in found["sku"]["message"]

    response = await service.http.put(
        "/operator/stock/NEW%1BSKU",
        json={"name_fr": "Objet", "on_hand": 3},
        headers=service.operator,
    )
    assert details_of(response)["sku"]["code"] == "invalid_characters"

    response = await service.http.put(
        "/operator/stock/DARUMA-BLEU-10",
        json={"name_fr": "Poupée\x00 daruma", "on_hand": 3, "note": "Inventaire\nannuel"},
        headers=service.operator,
    )
    assert details_of(response)["name_fr"]["code"] == "invalid_characters"
    assert await service.pool.fetchval("SELECT count(*) FROM products WHERE sku LIKE 'NEW%'") == 0


async def test_a_return_with_a_nul_byte_in_a_sku_is_refused_by_name(
    service: Fulfillment,
) -> None:
    customer = uuid.uuid4()
    order = await service.delivered_order(("DARUMA-ROUGE-10", 1), customer_id=customer)
    response = await service.http.post(
        f"/orders/{order.order_id}/returns",
        json={"items": [{"sku": "DARUMA\x00", "quantity": 1}], "items_unused": True},
        headers=service.customer(customer),
    )
    assert details_of(response)["items.0.sku"]["code"] == "invalid_characters"
    assert await service.pool.fetchval("SELECT count(*) FROM returns") == 0
