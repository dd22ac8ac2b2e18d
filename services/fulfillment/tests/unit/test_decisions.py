"""The use cases' decisions that only the integration tests reached: a claim, its resolution,
a pick-up, a delivery, a return's receipt, a stock change."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from fulfillment import domain
from fulfillment.domain import (
    ClaimAcceptance,
    ClaimRefusal,
    ClaimRefusalCode,
    ClaimRequest,
    ItemProgress,
    OrderStatus,
    ParcelState,
    PhotoLimits,
    ReportRefusal,
    ReturnStatus,
    ShippedItem,
)
from jg_events import Carrier, ClaimKind, ClaimResolution

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ITEMS = {
    "MATCHA": ShippedItem("Thé matcha de Kyoto, 100 g", 2),
    "BOL": ShippedItem("Bol à matcha en céramique raku", 0),
}
PARCELS = frozenset({"EN123456789JP"})


def claim(**changes: object) -> ClaimRequest:
    values: dict[str, object] = {
        "kind": ClaimKind.DAMAGED_ITEM,
        "order_number": "JG-2026-000123",
        "items": [("MATCHA", 1)],
        "tracking_number": None,
        "message": "  Le bol est arrivé cassé.\n",
    }
    values.update(changes)
    return ClaimRequest(**values)  # type: ignore[arg-type]


def decide(request: ClaimRequest, **changes: object) -> ClaimAcceptance | ClaimRefusal:
    values: dict[str, object] = {
        "order_number": "JG-2026-000123",
        "items": ITEMS,
        "tracking_numbers": PARCELS,
    }
    values.update(changes)
    return domain.decide_claim(request, **values)  # type: ignore[arg-type]


# --- Opening a claim -------------------------------------------------------------------------


def test_a_complete_claim_is_accepted_with_its_items_named_and_its_message_trimmed() -> None:
    decision = decide(claim(order_number=" jg-2026-000123 "))
    assert isinstance(decision, ClaimAcceptance)
    assert [(i.sku, i.name, i.quantity) for i in decision.items] == [
        ("MATCHA", "Thé matcha de Kyoto, 100 g", 1)
    ]
    assert decision.message == "Le bol est arrivé cassé."
    assert decision.tracking_number is None


def test_a_claim_before_anything_shipped_is_a_conflict_whatever_else_is_wrong() -> None:
    decision = decide(claim(order_number="JG-0"), tracking_numbers=frozenset())
    assert isinstance(decision, ClaimRefusal)
    assert decision.code is ClaimRefusalCode.ORDER_NOT_SHIPPED
    assert "pas encore été expédiée" in decision.message


def test_a_missing_item_needs_a_tracking_number_of_the_orders_parcels() -> None:
    without = decide(claim(kind=ClaimKind.MISSING_ITEM))
    wrong = decide(claim(kind=ClaimKind.MISSING_ITEM, tracking_number="XX999999999FR"))
    right = decide(claim(kind=ClaimKind.MISSING_ITEM, tracking_number="en 1234-5678-9jp"))
    assert isinstance(without, ClaimRefusal) and isinstance(wrong, ClaimRefusal)
    assert [p.code for p in without.problems] == ["tracking_number_required"]
    assert [p.code for p in wrong.problems] == ["tracking_number_unknown"]
    assert isinstance(right, ClaimAcceptance) and right.tracking_number == "EN123456789JP"


def test_every_problem_of_a_claim_is_listed_after_those_found_reading_it() -> None:
    earlier = domain.Problem("photos", "photo_required", "Au moins une photo est requise.")
    decision = decide(
        claim(order_number="JG-2026-999999", items=[("MATCHA", 3), ("BOL", 1), ("DARUMA", 1)]),
        problems=[earlier],
    )
    assert isinstance(decision, ClaimRefusal)
    assert decision.code is ClaimRefusalCode.INVALID_CLAIM
    assert [(p.field, p.code) for p in decision.problems] == [
        ("photos", "photo_required"),
        ("order_number", "order_number_mismatch"),
        ("items.0.quantity", "more_than_shipped"),
        ("items.1.quantity", "more_than_shipped"),
        ("items.2.sku", "not_in_order"),
    ]
    assert "Seuls 2 article(s) MATCHA" in decision.problems[2].message


def test_photos_are_checked_by_content_size_and_number() -> None:
    limits = PhotoLimits(max_bytes=100, max_count=2)
    checked, problems = domain.check_photos(
        [("colis.png", PNG), ("notes.txt", b"hello"), (None, b"")], 3, limits
    )
    assert [(p.filename, p.content_type) for p in checked] == [("colis.png", "image/png")]
    assert [(p.field, p.code) for p in problems] == [
        ("photos", "too_many_photos"),
        ("photos.1", "not_an_image"),
    ]
    assert "notes.txt" in problems[1].message
    _, none = domain.check_photos([], 0, limits)
    assert [p.code for p in none] == ["photo_required"]


# --- Resolving a claim -----------------------------------------------------------------------


def test_a_rejection_needs_a_message_and_an_amount_is_only_for_a_refund() -> None:
    rejected = domain.check_resolution(ClaimResolution.REJECTED, None, None)
    reship = domain.check_resolution(ClaimResolution.RESHIP, None, Decimal("5.00"))
    assert rejected is not None and rejected[1].field == "message"
    assert reship is not None and reship[1].code == "not_allowed"
    assert domain.check_resolution(ClaimResolution.REFUND, None, Decimal("5.00")) is None
    assert domain.check_resolution(ClaimResolution.REJECTED, "Photo illisible.", None) is None


def test_a_reship_lacks_the_items_with_too_little_stock_or_unknown() -> None:
    wanted = {"MATCHA": 2, "BOL": 1, "DARUMA": 1}
    assert domain.reship_shortfall(wanted, {"MATCHA": 1, "BOL": 1}) == {"MATCHA": 2, "DARUMA": 1}
    assert domain.reship_shortfall({"BOL": 1}, {"BOL": 3}) == {}


# --- Pick-ups and deliveries -----------------------------------------------------------------


PROGRESS = {"MATCHA": ItemProgress("MATCHA", "Thé matcha", 2, 2, 0)}


def test_an_accepted_pick_up_ships_the_parcel_with_its_link_and_window() -> None:
    shipment = domain.decide_pick_up(
        order_status=OrderStatus.PROCESSING,
        items=PROGRESS,
        parcels={},
        carrier=Carrier.DHL,
        tracking_number="12-3456 7890",
        parcel_items=[("MATCHA", 1), ("MATCHA", 1)],
        picked_up_at=NOW - timedelta(hours=2),
        now=NOW,
    )
    assert isinstance(shipment, domain.Shipment)
    assert shipment.tracking_number == "1234567890"
    assert shipment.quantities == {"MATCHA": 2}
    assert "tracking-id=1234567890" in shipment.tracking_url
    assert shipment.estimate == domain.transit_estimate(Carrier.DHL, NOW - timedelta(hours=2))


def test_a_pick_up_of_a_backordered_order_is_refused() -> None:
    refusal = domain.decide_pick_up(
        order_status=OrderStatus.BACKORDERED,
        items=PROGRESS,
        parcels={},
        carrier=Carrier.DHL,
        tracking_number="1234567890",
        parcel_items=[("MATCHA", 1)],
        picked_up_at=NOW,
        now=NOW,
    )
    assert isinstance(refusal, domain.Refusal)
    assert refusal.reason is ReportRefusal.ORDER_NOT_HANDED_OFF


def test_the_last_parcel_delivered_completes_the_order_and_starts_the_withdrawal() -> None:
    shipped = [ItemProgress("MATCHA", "Thé matcha", 2, 2, 2)]
    first = NOW - timedelta(days=2)
    parcels = {
        "AAA111111": ParcelState("AAA111111", NOW - timedelta(days=5), first),
        "BBB222222": ParcelState("BBB222222", NOW - timedelta(days=5), None),
    }
    delivery = domain.decide_delivery(
        order_status=OrderStatus.SHIPPED,
        items=shipped,
        parcels=parcels,
        tracking_number="bbb-222222",
        delivered_at=NOW,
        now=NOW,
    )
    assert isinstance(delivery, domain.Delivery) and delivery.order_delivered
    assert delivery.tracking_number == "BBB222222"
    assert delivery.last_delivery == NOW
    assert delivery.withdrawal_deadline == domain.withdrawal_deadline(NOW)


def test_a_parcel_delivered_while_another_travels_leaves_the_order_undelivered() -> None:
    parcels = {
        "AAA111111": ParcelState("AAA111111", NOW - timedelta(days=5), None),
        "BBB222222": ParcelState("BBB222222", NOW - timedelta(days=5), None),
    }
    delivery = domain.decide_delivery(
        order_status=OrderStatus.SHIPPED,
        items=[ItemProgress("MATCHA", "Thé matcha", 2, 2, 2)],
        parcels=parcels,
        tracking_number="AAA111111",
        delivered_at=NOW,
        now=NOW,
    )
    assert isinstance(delivery, domain.Delivery)
    assert not delivery.order_delivered and delivery.withdrawal_deadline is None


def test_a_report_about_an_unknown_order_or_sku_is_refused_with_its_reason() -> None:
    order_id = uuid4()
    assert domain.unknown_order(order_id).reason is ReportRefusal.UNKNOWN_ORDER
    assert str(order_id) in domain.unknown_order(order_id).detail
    assert domain.unknown_sku("NORI").reason is ReportRefusal.UNKNOWN_SKU


# --- A return's receipt ----------------------------------------------------------------------


def test_only_an_accepted_return_of_the_order_may_be_received() -> None:
    return_id = uuid4()
    unknown = domain.check_return_receipt(return_id, "JG-2026-000123", None)
    received = domain.check_return_receipt(return_id, "JG-2026-000123", ReturnStatus.RECEIVED)
    rejected = domain.check_return_receipt(return_id, "JG-2026-000123", ReturnStatus.REJECTED)
    assert unknown is not None and unknown.reason is ReportRefusal.UNKNOWN_RETURN
    assert received is not None and received.reason is ReportRefusal.RETURN_NOT_EXPECTED
    assert "is received" in received.detail
    assert rejected is not None and rejected.reason is ReportRefusal.RETURN_NOT_EXPECTED
    assert domain.check_return_receipt(return_id, "JG-1", ReturnStatus.ACCEPTED) is None


# --- Stock -----------------------------------------------------------------------------------


def test_stock_on_hand_never_falls_below_the_reserved_items() -> None:
    assert domain.stock_after_change(10, 4, -6) == 4
    assert domain.stock_after_change(10, 4, -7) is None
    assert domain.stock_after_change(3, 3, 5) == 8
