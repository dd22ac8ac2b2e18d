"""After-sales claims: photos checked by content and stored, acknowledged, resolved."""

import json
import struct
import uuid
import zlib
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from jg_events import ClaimKind, ClaimOpened, ClaimResolution, ClaimResolved, RefundCause, Topic

from .conftest import Fulfillment

pytestmark = pytest.mark.integration


def png(size: int = 1) -> bytes:
    """A real PNG image (``size`` x ``size`` pixels, grey)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + bytes([128]) * size for _ in range(size))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(512)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"


def claim_form(
    order_number: str,
    kind: ClaimKind,
    items: list[dict[str, Any]],
    *,
    tracking_number: str | None = None,
    message: str | None = None,
) -> dict[str, str]:
    data = {"kind": kind.value, "order_number": order_number, "items": json.dumps(items)}
    if tracking_number is not None:
        data["tracking_number"] = tracking_number
    if message is not None:
        data["message"] = message
    return data


async def test_a_damaged_item_claim_with_a_photo_is_stored_acknowledged_and_refunded(
    service: Fulfillment,
) -> None:
    customer = uuid.uuid4()
    order = await service.delivered_order(("BOL-MATCHA-RAKU", 2), customer_id=customer)
    photo = png(8)

    response = await service.http.post(
        f"/orders/{order.order_id}/claims",
        data=claim_form(
            order.order_number,
            ClaimKind.DAMAGED_ITEM,
            [{"sku": "BOL-MATCHA-RAKU", "quantity": 1}],
            message="Un bol est arrivé fêlé.",
        ),
        files=[("photos", ("bol.png", photo, "application/octet-stream"))],
        headers=service.customer(customer),
    )

    assert response.status_code == 201, response.text
    claim = response.json()
    assert claim["status"] == "open" and claim["kind"] == "damaged_item"
    [stored] = claim["photos"]
    assert stored["content_type"] == "image/png"  # judged by content, not by the upload's type
    assert stored["size_bytes"] == len(photo)
    [opened] = await service.events(Topic.FULFILLMENT_ORDERS, "ClaimOpened", 1)
    assert isinstance(opened.payload, ClaimOpened)
    assert str(opened.payload.claim_id) == claim["claim_id"]
    assert opened.payload.photo_count == 1
    assert opened.payload.message == "Un bol est arrivé fêlé."
    assert [(i.sku, i.quantity) for i in opened.payload.items] == [("BOL-MATCHA-RAKU", 1)]

    # Customer service looks at the photo (the bytes stored in fulfillment's database)...
    download = await service.http.get(
        f"/operator/claims/{claim['claim_id']}/photos/{stored['photo_id']}",
        headers=service.operator,
    )
    assert download.status_code == 200
    assert download.content == photo
    assert download.headers["content-type"] == "image/png"
    queue = await service.http.get("/operator/claims?status=open", headers=service.operator)
    assert [c["claim_id"] for c in queue.json()] == [claim["claim_id"]]

    # ... and refunds the broken bowl.
    decision = await service.http.post(
        f"/operator/claims/{claim['claim_id']}/resolution",
        json={"resolution": "refund", "message": "Nous vous remboursons le bol abîmé."},
        headers=service.operator,
    )
    assert decision.status_code == 200, decision.text
    assert decision.json()["refund_amount"] == "42.00"
    [resolved] = await service.events(Topic.FULFILLMENT_ORDERS, "ClaimResolved", 1)
    assert isinstance(resolved.payload, ClaimResolved)
    assert resolved.payload.resolution is ClaimResolution.REFUND
    assert resolved.payload.amount == Decimal("42.00")
    [refund] = await service.events(Topic.FULFILLMENT_ORDERS, "RefundRequested", 1)
    assert refund.payload.cause is RefundCause.CLAIM
    assert str(refund.payload.reference_id) == claim["claim_id"]
    assert refund.payload.amount == Decimal("42.00")
    again = await service.http.post(
        f"/operator/claims/{claim['claim_id']}/resolution",
        json={"resolution": "refund"},
        headers=service.operator,
    )
    assert again.status_code == 409 and again.json()["code"] == "claim_already_resolved"


async def test_a_claim_with_a_file_that_is_not_an_image_is_refused_and_nothing_is_stored(
    service: Fulfillment,
) -> None:
    customer = uuid.uuid4()
    order = await service.delivered_order(("BOL-MATCHA-RAKU", 1), customer_id=customer)

    response = await service.http.post(
        f"/orders/{order.order_id}/claims",
        data=claim_form(
            order.order_number, ClaimKind.DAMAGED_ITEM, [{"sku": "BOL-MATCHA-RAKU", "quantity": 1}]
        ),
        # A PDF named and labelled as a JPEG photo.
        files=[("photos", ("photo.jpg", PDF, "image/jpeg"))],
        headers=service.customer(customer),
    )

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_claim"
    assert [(d["field"], d["code"]) for d in body["details"]] == [("photos.0", "not_an_image")]
    assert "JPEG, PNG ou HEIC" in body["details"][0]["message"]
    assert await service.pool.fetchval("SELECT count(*) FROM claims") == 0
    assert await service.pool.fetchval("SELECT count(*) FROM claim_photos") == 0
    published = await service.published(Topic.FULFILLMENT_ORDERS, 0, timeout=5, settle=1.0)
    assert not [e for e in published if e.type == "ClaimOpened"]


async def test_a_missing_item_claim_needs_the_parcels_tracking_number_and_can_be_reshipped(
    service: Fulfillment,
) -> None:
    customer = uuid.uuid4()
    order = await service.delivered_order(
        ("MATCHA-KYOTO-100", 1), ("DARUMA-ROUGE-10", 1), customer_id=customer
    )
    [parcel] = (await service.order(order.order_id) or {})["parcels"]
    items = [{"sku": "DARUMA-ROUGE-10", "quantity": 1}]
    path = f"/orders/{order.order_id}/claims"
    headers = service.customer(customer)
    parcel_photo = [("photos", ("colis.jpg", JPEG, "image/jpeg"))]

    without = await service.http.post(
        path,
        data=claim_form(order.order_number, ClaimKind.MISSING_ITEM, items),
        files=parcel_photo,
        headers=headers,
    )
    wrong = await service.http.post(
        path,
        data=claim_form(
            "JG-2026-999999", ClaimKind.MISSING_ITEM, items, tracking_number="EN999999999JP"
        ),
        files=parcel_photo,
        headers=headers,
    )
    assert without.status_code == 422
    assert [d["code"] for d in without.json()["details"]] == ["tracking_number_required"]
    assert wrong.status_code == 422
    assert {d["code"] for d in wrong.json()["details"]} == {
        "order_number_mismatch",
        "tracking_number_unknown",
    }

    response = await service.http.post(
        path,
        data=claim_form(
            order.order_number,
            ClaimKind.MISSING_ITEM,
            items,
            tracking_number=parcel["tracking_number"].lower(),
        ),
        files=parcel_photo,
        headers=headers,
    )
    assert response.status_code == 201, response.text
    claim = response.json()
    assert claim["tracking_number"] == parcel["tracking_number"]
    assert claim["photos"][0]["content_type"] == "image/jpeg"

    decision = await service.http.post(
        f"/operator/claims/{claim['claim_id']}/resolution",
        json={"resolution": "reship", "message": "Nous vous renvoyons la poupée daruma."},
        headers=service.operator,
    )
    assert decision.status_code == 200, decision.text
    # The reship goes to the logistics team as a pick list of the missing item only.
    requests = await service.events(Topic.LOGISTICS_REQUESTS, "OrderProcessing", 2)
    reship = [r for r in requests if len(r.payload.lines) == 1]
    assert [(line.sku, line.quantity) for line in reship[0].payload.lines] == [
        ("DARUMA-ROUGE-10", 1)
    ]
    [resolved] = await service.events(Topic.FULFILLMENT_ORDERS, "ClaimResolved", 1)
    assert resolved.payload.resolution is ClaimResolution.RESHIP


async def test_photo_size_and_count_limits(start: Callable[..., Awaitable[Fulfillment]]) -> None:
    service = await start(claim_photo_max_bytes=4000, claim_photo_max_count=2)
    customer = uuid.uuid4()
    order = await service.delivered_order(("BOL-MATCHA-RAKU", 1), customer_id=customer)
    path = f"/orders/{order.order_id}/claims"
    form = claim_form(
        order.order_number, ClaimKind.DAMAGED_ITEM, [{"sku": "BOL-MATCHA-RAKU", "quantity": 1}]
    )
    headers = service.customer(customer)
    big = JPEG + bytes(5000)

    too_big = await service.http.post(
        path, data=form, files=[("photos", ("a.jpg", big, "image/jpeg"))], headers=headers
    )
    too_many = await service.http.post(
        path,
        data=form,
        files=[("photos", (f"{i}.png", png(), "image/png")) for i in range(3)],
        headers=headers,
    )
    # 2 photos x 4000 bytes + 64 KiB for the form fields: refused before being read.
    huge = await service.http.post(
        path,
        data=form,
        files=[("photos", (f"{i}.jpg", JPEG + bytes(40_000), "image/jpeg")) for i in range(2)],
        headers=headers,
    )
    none = await service.http.post(path, data=form, headers=headers)

    assert too_big.status_code == 422
    assert [(d["field"], d["code"]) for d in too_big.json()["details"]] == [
        ("photos.0", "photo_too_large")
    ]
    assert too_many.status_code == 422
    assert "too_many_photos" in {d["code"] for d in too_many.json()["details"]}
    assert huge.status_code == 413 and huge.json()["code"] == "upload_too_large"
    assert none.status_code == 422
    assert await service.pool.fetchval("SELECT count(*) FROM claims") == 0
