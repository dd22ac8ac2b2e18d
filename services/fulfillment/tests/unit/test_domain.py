"""Fulfillment's rules: reservation, calendar and windows, tracking links, reports, refunds."""

import struct
import zlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from fulfillment import domain
from fulfillment.domain import (
    EstimatePolicy,
    ItemProgress,
    OrderLineFacts,
    ParcelState,
    PhotoLimits,
    PhotoProblem,
    ReceivedCondition,
    ReportRefusal,
    ReturnAcceptance,
    ReturnFacts,
    ReturnKind,
    ReturnLine,
    ReturnPolicy,
    ReturnRefusal,
)
from jg_events import Carrier, ReturnRejectionReason

pytestmark = pytest.mark.unit


# --- Reservation -----------------------------------------------------------------------------


def test_an_order_in_stock_is_reserved_in_full() -> None:
    allocation = domain.allocate({"MATCHA": 3, "FUROSHIKI": 1}, {"MATCHA": 10, "FUROSHIKI": 1})
    assert allocation.complete
    assert allocation.reserved == {"MATCHA": 3, "FUROSHIKI": 1}
    assert allocation.missing == {}


def test_a_stock_out_reserves_what_exists_and_reports_what_is_missing() -> None:
    allocation = domain.allocate({"MATCHA": 5, "FUROSHIKI": 2}, {"MATCHA": 3})
    assert not allocation.complete
    assert allocation.reserved == {"MATCHA": 3}
    assert allocation.missing == {"MATCHA": 2, "FUROSHIKI": 2}


def test_negative_availability_is_treated_as_none() -> None:
    assert domain.allocate({"A": 1}, {"A": -4}).missing == {"A": 1}


def test_demand_adds_up_lines_of_the_same_sku_and_refuses_zero() -> None:
    assert domain.aggregate_demand([("A", 1), ("B", 2), ("A", 3)]) == {"A": 4, "B": 2}
    with pytest.raises(ValueError):
        domain.aggregate_demand([("A", 0)])


def test_replenishment_serves_the_oldest_backorder_first() -> None:
    waiting = [("oldest", 3), ("middle", 2), ("newest", 1)]
    assert domain.serve_oldest_first(waiting, 4) == {"oldest": 3, "middle": 1}
    assert domain.serve_oldest_first(waiting, 2) == {"oldest": 2}
    assert domain.serve_oldest_first(waiting, 10) == {"oldest": 3, "middle": 2, "newest": 1}
    assert domain.serve_oldest_first(waiting, 0) == {}


# --- Calendar --------------------------------------------------------------------------------


def test_business_days_skip_weekends_and_french_public_holidays() -> None:
    # Thursday 30 April 2026 + 1 business day: Friday 1 May is Labour Day, then the weekend.
    assert domain.add_business_days(date(2026, 4, 30), 1) == date(2026, 5, 4)
    # Ascension Thursday 14 May 2026 is a holiday.
    assert domain.add_business_days(date(2026, 5, 13), 1) == date(2026, 5, 15)
    assert not domain.is_business_day(date(2026, 7, 14))
    assert domain.is_business_day(date(2026, 7, 15))


def test_withdrawal_deadline_is_fourteen_days_after_the_day_of_delivery() -> None:
    # Delivered Wednesday 18 March 2026 (Paris): deadline Wednesday 1 April.
    delivered = datetime(2026, 3, 18, 10, 5, tzinfo=UTC)
    assert domain.withdrawal_deadline(delivered) == date(2026, 4, 1)


def test_withdrawal_deadline_uses_the_date_in_france_not_utc() -> None:
    # 23:30 UTC on 17 March is 00:30 on 18 March in Paris.
    late = datetime(2026, 3, 17, 23, 30, tzinfo=UTC)
    assert domain.withdrawal_deadline(late) == date(2026, 4, 1)


def test_a_deadline_falling_on_a_weekend_or_holiday_moves_to_the_next_working_day() -> None:
    # Delivered Saturday 21 March 2026: +14 = Saturday 4 April -> Monday 6 April is Easter
    # Monday (a holiday) -> Tuesday 7 April.
    assert domain.withdrawal_deadline(datetime(2026, 3, 21, 9, 0, tzinfo=UTC)) == date(2026, 4, 7)


def test_backorder_estimate_adds_the_restock_delay_to_the_usual_window() -> None:
    policy = EstimatePolicy(delivery_min_days=10, delivery_max_days=15, backorder_extra_days=10)
    estimate = domain.backorder_estimate(date(2026, 3, 2), policy)
    assert estimate.earliest == domain.add_business_days(date(2026, 3, 2), 20)
    assert estimate.latest == domain.add_business_days(date(2026, 3, 2), 25)


def test_a_resumed_backorder_never_promises_earlier_than_before() -> None:
    policy = EstimatePolicy()
    promised = domain.backorder_estimate(date(2026, 3, 2), policy)
    resumed = domain.resumed_estimate(promised, date(2026, 3, 3), policy)
    assert resumed.earliest >= promised.earliest and resumed.latest >= promised.latest
    late = domain.resumed_estimate(promised, date(2026, 6, 1), policy)
    assert late.earliest == domain.add_business_days(date(2026, 6, 1), 10)


def test_transit_estimate_depends_on_the_carrier() -> None:
    picked = datetime(2026, 3, 10, 6, 30, tzinfo=UTC)  # Tuesday
    ems = domain.transit_estimate(Carrier.JAPAN_POST_EMS, picked)
    dhl = domain.transit_estimate(Carrier.DHL, picked)
    assert ems.earliest == date(2026, 3, 13) and ems.latest == date(2026, 3, 19)
    assert dhl.latest < ems.latest


# --- Tracking links --------------------------------------------------------------------------

TRACKING_PAGES = {
    Carrier.JAPAN_POST_EMS: (
        "EN123456789JP",
        "trackings.post.japanpost.jp",
        "/services/srv/search/direct",
        "reqCodeNo1",
    ),
    Carrier.DHL: ("1234567890", "www.dhl.com", "/fr-fr/home/suivi.html", "tracking-id"),
    Carrier.FEDEX: ("794612345678", "www.fedex.com", "/fedextrack/", "trknbr"),
    Carrier.UPS: ("1Z999AA10123456784", "www.ups.com", "/track", "tracknum"),
    Carrier.COLISSIMO: ("6A12345678901", "www.laposte.fr", "/outils/suivre-vos-envois", "code"),
    Carrier.CHRONOPOST: (
        "XY123456789FR",
        "www.chronopost.fr",
        "/tracking-no-cms/suivi-page",
        "listeNumerosLT",
    ),
}


@pytest.mark.parametrize("carrier", list(Carrier))
def test_each_carrier_has_a_public_https_tracking_page_with_the_number(carrier: Carrier) -> None:
    number, host, path, param = TRACKING_PAGES[carrier]
    url = urlsplit(domain.tracking_url(carrier, number))
    assert url.scheme == "https"
    assert url.netloc == host
    assert url.path == path
    assert parse_qs(url.query)[param] == [number]


def test_tracking_numbers_are_normalised_and_junk_is_refused() -> None:
    assert domain.normalise_tracking_number(" en 123-456-789 jp ") == "EN123456789JP"
    assert domain.normalise_tracking_number("12345") is None
    assert domain.normalise_tracking_number("EN123&x=<script>") is None


def test_a_tracking_number_cannot_inject_query_parameters() -> None:
    url = urlsplit(domain.tracking_url(Carrier.UPS, "1Z99&loc=en_US"))
    assert parse_qs(url.query)["loc"] == ["fr_FR"]
    assert parse_qs(url.query)["tracknum"] == ["1Z99&loc=en_US"]


# --- Logistics reports -----------------------------------------------------------------------

NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def progress(handed_off: int = 3, shipped: int = 0) -> dict[str, ItemProgress]:
    return {"MATCHA": ItemProgress("MATCHA", "Matcha", 3, handed_off, shipped)}


def pick_up(**changes: object) -> ReportRefusal | None:
    values: dict[str, object] = {
        "order_status": "processing",
        "items": progress(),
        "parcels": {},
        "tracking_number": "EN123456789JP",
        "parcel_items": [("MATCHA", 3)],
        "picked_up_at": NOW - timedelta(hours=2),
        "now": NOW,
    }
    values.update(changes)
    refusal = domain.check_pick_up(**values)  # type: ignore[arg-type]
    return refusal.reason if refusal else None


def test_a_pick_up_of_what_was_handed_off_is_accepted() -> None:
    assert pick_up() is None
    assert pick_up(parcel_items=[("MATCHA", 1)]) is None


def test_a_pick_up_before_the_hand_off_is_out_of_sequence() -> None:
    assert pick_up(order_status="backordered") is ReportRefusal.ORDER_NOT_HANDED_OFF


def test_a_pick_up_of_items_already_shipped_or_foreign_is_refused() -> None:
    assert pick_up(items=progress(shipped=3)) is ReportRefusal.ITEMS_NOT_OUTSTANDING
    assert pick_up(parcel_items=[("MATCHA", 4)]) is ReportRefusal.ITEMS_NOT_OUTSTANDING
    assert pick_up(parcel_items=[("SAKE", 1)]) is ReportRefusal.ITEMS_NOT_IN_ORDER


def test_the_same_parcel_cannot_be_picked_up_twice() -> None:
    parcels = {"EN123456789JP": ParcelState("EN123456789JP", NOW, None)}
    assert pick_up(parcels=parcels, tracking_number="en123456789jp") is (
        ReportRefusal.DUPLICATE_PARCEL
    )


def test_a_pick_up_in_the_future_or_with_a_junk_number_is_refused() -> None:
    assert pick_up(picked_up_at=NOW + timedelta(hours=3)) is ReportRefusal.REPORTED_IN_THE_FUTURE
    assert pick_up(tracking_number="??") is ReportRefusal.INVALID_TRACKING_NUMBER


def test_delivery_reports_must_follow_the_parcels_pick_up() -> None:
    picked = NOW - timedelta(days=3)
    parcels = {"EN1234567JP": ParcelState("EN1234567JP", picked, None)}

    def deliver(number: str, at: datetime) -> ReportRefusal | None:
        refusal = domain.check_delivery(
            parcels=parcels, tracking_number=number, delivered_at=at, now=NOW
        )
        return refusal.reason if refusal else None

    assert deliver("EN1234567JP", NOW) is None
    assert deliver("OTHER12345", NOW) is ReportRefusal.UNKNOWN_PARCEL
    assert deliver("EN1234567JP", picked - timedelta(hours=1)) is (
        ReportRefusal.DELIVERED_BEFORE_PICK_UP
    )
    parcels["EN1234567JP"] = ParcelState("EN1234567JP", picked, NOW)
    assert deliver("EN1234567JP", NOW) is ReportRefusal.ALREADY_DELIVERED


def test_an_order_is_delivered_when_every_item_shipped_and_every_parcel_arrived() -> None:
    items = [ItemProgress("A", "A", 2, 2, 2), ItemProgress("B", "B", 1, 1, 1)]
    arrived = [ParcelState("P1", NOW, NOW), ParcelState("P2", NOW, NOW)]
    assert domain.order_fully_delivered(items, arrived, backordered=False)
    assert not domain.order_fully_delivered(
        items, [arrived[0], ParcelState("P2", NOW, None)], backordered=False
    )
    partial = [ItemProgress("A", "A", 2, 2, 1), ItemProgress("B", "B", 1, 1, 1)]
    assert not domain.order_fully_delivered(partial, arrived, backordered=False)


# --- Returns ---------------------------------------------------------------------------------

DELIVERED = datetime(2026, 3, 18, 10, 5, tzinfo=UTC)  # deadline 1 April 2026
LINES = {
    "MATCHA": OrderLineFacts("MATCHA", "Thé matcha", 3, Decimal("19.99"), Decimal("20.00"), False),
    "FUROSHIKI": OrderLineFacts(
        "FUROSHIKI", "Furoshiki sakura", 1, Decimal("24.50"), Decimal("20.00"), True
    ),
}


def facts(**changes: object) -> ReturnFacts:
    values: dict[str, object] = {
        "lines": LINES,
        "delivered_units": {"MATCHA": 3, "FUROSHIKI": 1},
        "returned_units": {},
        "withdrawal_returned_units": {},
        "fully_delivered": True,
        "last_delivery": DELIVERED,
        "shipping_paid": Decimal("14.90"),
        "shipping_already_refunded": False,
    }
    values.update(changes)
    return ReturnFacts(**values)  # type: ignore[arg-type]


def decide(
    requested: list[tuple[str, int]],
    *,
    today: date = date(2026, 3, 25),
    unused: bool = True,
    policy: ReturnPolicy | None = None,
    **fact_changes: object,
) -> ReturnAcceptance | ReturnRefusal:
    return domain.decide_return(
        facts(**fact_changes),
        requested,
        items_unused=unused,
        today=today,
        return_id="RET-1",
        policy=policy or ReturnPolicy(),
    )


def test_a_return_inside_the_window_is_accepted_with_french_instructions() -> None:
    decision = decide([("MATCHA", 2)])
    assert isinstance(decision, ReturnAcceptance)
    assert decision.kind is ReturnKind.WITHDRAWAL
    assert decision.expected_refund == Decimal("39.98")
    assert decision.shipping_refund == Decimal("0.00")
    assert decision.send_before == date(2026, 4, 8)
    assert "RET-1" in decision.instructions
    assert "8 avril 2026" in decision.instructions
    assert "39,98\u00a0€" in decision.instructions


def test_the_last_day_of_the_window_is_still_inside() -> None:
    assert isinstance(decide([("MATCHA", 1)], today=date(2026, 4, 1)), ReturnAcceptance)


def test_a_return_after_the_window_is_rejected_with_the_deadline() -> None:
    decision = decide([("MATCHA", 1)], today=date(2026, 4, 2))
    assert isinstance(decision, ReturnRefusal)
    assert decision.reason is ReturnRejectionReason.WITHDRAWAL_PERIOD_EXPIRED
    assert "1er avril 2026" in decision.message
    assert "a pris fin le 1er avril 2026" in decision.message  # the last day still counted


def test_no_return_before_the_last_item_is_delivered() -> None:
    decision = decide([("MATCHA", 1)], fully_delivered=False)
    assert isinstance(decision, ReturnRefusal)
    assert decision.reason is ReturnRejectionReason.NOT_DELIVERED


def test_used_items_cannot_be_returned() -> None:
    decision = decide([("MATCHA", 1)], unused=False)
    assert isinstance(decision, ReturnRefusal)
    assert decision.reason is ReturnRejectionReason.ITEM_USED_OR_DAMAGED


def test_items_not_in_the_order_or_beyond_what_was_delivered_are_refused() -> None:
    foreign = decide([("SAKE", 1)])
    too_many = decide([("MATCHA", 4)])
    assert isinstance(foreign, ReturnRefusal) and isinstance(too_many, ReturnRefusal)
    assert foreign.reason is ReturnRejectionReason.ITEMS_NOT_IN_ORDER
    assert too_many.reason is ReturnRejectionReason.ITEMS_NOT_IN_ORDER


def test_items_already_returned_are_refused_as_such() -> None:
    decision = decide([("MATCHA", 1)], returned_units={"MATCHA": 3})
    assert isinstance(decision, ReturnRefusal)
    assert decision.reason is ReturnRejectionReason.ALREADY_RETURNED
    everything = decide([], returned_units={"MATCHA": 3, "FUROSHIKI": 1})
    assert isinstance(everything, ReturnRefusal)
    assert everything.reason is ReturnRejectionReason.ALREADY_RETURNED


def test_sale_items_are_covered_by_the_legal_withdrawal_by_default() -> None:
    decision = decide([("FUROSHIKI", 1)])
    assert isinstance(decision, ReturnAcceptance)


def test_the_faq_sale_item_exclusion_can_be_applied_to_the_withdrawal_by_policy() -> None:
    decision = decide([("FUROSHIKI", 1)], policy=ReturnPolicy(withdrawal_covers_sale_items=False))
    assert isinstance(decision, ReturnRefusal)
    assert decision.reason is ReturnRejectionReason.SALE_ITEM_EXCLUDED
    assert "Furoshiki sakura" in decision.message
    # refused inside the legal period: the message must not claim it is outside it
    assert "en dehors du délai légal" not in decision.message


def test_goodwill_returns_after_the_window_exclude_sale_items() -> None:
    policy = ReturnPolicy(goodwill_return_days=30)
    goodwill = decide([("MATCHA", 1)], today=date(2026, 4, 10), policy=policy)
    assert isinstance(goodwill, ReturnAcceptance)
    assert goodwill.kind is ReturnKind.GOODWILL
    sale = decide([("FUROSHIKI", 1)], today=date(2026, 4, 10), policy=policy)
    assert isinstance(sale, ReturnRefusal)
    assert sale.reason is ReturnRejectionReason.SALE_ITEM_EXCLUDED
    too_late = decide([("MATCHA", 1)], today=date(2026, 4, 20), policy=policy)
    assert isinstance(too_late, ReturnRefusal)


def test_a_full_withdrawal_refunds_delivery_up_to_the_standard_price() -> None:
    decision = decide([])  # everything
    assert isinstance(decision, ReturnAcceptance)
    # 3 x 19.99 + 24.50 + min(14.90 paid for express, 9.90 standard)
    assert decision.shipping_refund == Decimal("9.90")
    assert decision.expected_refund == Decimal("59.97") + Decimal("24.50") + Decimal("9.90")


def test_standard_delivery_paid_is_refunded_in_full_on_a_full_withdrawal() -> None:
    decision = decide([], shipping_paid=Decimal("9.90"))
    assert isinstance(decision, ReturnAcceptance)
    assert decision.shipping_refund == Decimal("9.90")


def test_the_return_completing_an_earlier_partial_withdrawal_refunds_delivery() -> None:
    decision = decide(
        [("FUROSHIKI", 1)],
        returned_units={"MATCHA": 3},
        withdrawal_returned_units={"MATCHA": 3},
    )
    assert isinstance(decision, ReturnAcceptance)
    assert decision.shipping_refund == Decimal("9.90")
    assert decision.expected_refund == Decimal("34.40")


def test_goodwill_returns_never_refund_delivery() -> None:
    policy = ReturnPolicy(goodwill_return_days=30, goodwill_covers_sale_items=True)
    decision = decide([], today=date(2026, 4, 10), policy=policy)
    assert isinstance(decision, ReturnAcceptance)
    assert decision.kind is ReturnKind.GOODWILL
    assert decision.shipping_refund == Decimal("0.00")
    assert decision.expected_refund == Decimal("84.47")


def test_received_items_are_refunded_when_unused_and_refused_otherwise() -> None:
    accepted = [
        ReturnLine("MATCHA", "Thé matcha", 3, Decimal("19.99"), Decimal("20.00")),
    ]
    outcome = domain.settle_received_return(
        accepted,
        [("MATCHA", 2, ReceivedCondition.UNUSED), ("MATCHA", 1, ReceivedCondition.USED)],
        kind=ReturnKind.WITHDRAWAL,
        facts=facts(),
        policy=ReturnPolicy(),
    )
    assert isinstance(outcome, domain.ReceiptOutcome)
    assert [(line.sku, line.quantity) for line in outcome.refunded] == [("MATCHA", 2)]
    assert [(line.sku, line.quantity) for line in outcome.refused] == [("MATCHA", 1)]
    assert outcome.refund_amount == Decimal("39.98")


def test_receiving_the_whole_order_unused_refunds_delivery_too() -> None:
    accepted = [
        ReturnLine("MATCHA", "Thé matcha", 3, Decimal("19.99"), Decimal("20.00")),
        ReturnLine("FUROSHIKI", "Furoshiki", 1, Decimal("24.50"), Decimal("20.00")),
    ]
    outcome = domain.settle_received_return(
        accepted,
        [("MATCHA", 3, ReceivedCondition.UNUSED), ("FUROSHIKI", 1, ReceivedCondition.UNUSED)],
        kind=ReturnKind.WITHDRAWAL,
        facts=facts(),
        policy=ReturnPolicy(),
    )
    assert isinstance(outcome, domain.ReceiptOutcome)
    assert outcome.refund_amount == Decimal("94.37")
    assert outcome.shipping_refund == Decimal("9.90")


def test_receiving_more_than_accepted_refunds_only_what_was_accepted() -> None:
    accepted = [ReturnLine("MATCHA", "Thé matcha", 1, Decimal("19.99"), Decimal("20.00"))]
    outcome = domain.settle_received_return(
        accepted,
        [("MATCHA", 3, ReceivedCondition.UNUSED)],
        kind=ReturnKind.WITHDRAWAL,
        facts=facts(),
        policy=ReturnPolicy(),
    )
    assert isinstance(outcome, domain.ReceiptOutcome)
    assert outcome.refund_amount == Decimal("19.99")
    foreign = domain.settle_received_return(
        accepted,
        [("SAKE", 1, ReceivedCondition.UNUSED)],
        kind=ReturnKind.WITHDRAWAL,
        facts=facts(),
        policy=ReturnPolicy(),
    )
    assert isinstance(foreign, domain.Refusal)
    assert foreign.reason is ReportRefusal.ITEMS_NOT_IN_RETURN


# --- Claims ----------------------------------------------------------------------------------


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64


@pytest.mark.parametrize(
    ("data", "mime"),
    [(png_bytes(), "image/png"), (JPEG, "image/jpeg"), (HEIC, "image/heic")],
)
def test_photos_are_recognised_by_their_content(data: bytes, mime: str) -> None:
    assert domain.check_photo(data, PhotoLimits()) == (mime, None)


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00",
        b"MZ\x90\x00\x03\x00\x00\x00",
        b"une photo, promis",
    ],
)
def test_files_that_are_not_jpeg_png_or_heic_are_refused(data: bytes) -> None:
    assert domain.check_photo(data, PhotoLimits()) == (None, PhotoProblem.NOT_AN_IMAGE)


def test_photo_size_limits() -> None:
    assert domain.check_photo(b"", PhotoLimits()) == (None, PhotoProblem.EMPTY)
    big = JPEG + b"\x00" * 2000
    assert domain.check_photo(big, PhotoLimits(max_bytes=1000)) == (None, PhotoProblem.TOO_LARGE)


def test_a_claim_refund_is_the_items_price_or_a_smaller_amount_spread_over_lines() -> None:
    lines = [
        ReturnLine("MATCHA", "Thé matcha", 2, Decimal("19.99"), Decimal("20.00")),
        ReturnLine("FUROSHIKI", "Furoshiki", 1, Decimal("24.50"), Decimal("20.00")),
    ]
    full = domain.claim_refund(lines)
    assert [p.amount for p in full] == [Decimal("39.98"), Decimal("24.50")]
    partial = domain.claim_refund(lines, Decimal("45.00"))
    assert [p.amount for p in partial] == [Decimal("39.98"), Decimal("5.02")]
    with pytest.raises(ValueError):
        domain.claim_refund(lines, Decimal("64.49"))


def test_money_and_dates_are_written_the_french_way() -> None:
    assert domain.french_money(Decimal("1234.5")) == "1\u202f234,50\u00a0€"
    assert domain.french_date(date(2026, 4, 1)) == "1er avril 2026"
    assert domain.french_date(date(2026, 8, 15)) == "15 août 2026"
