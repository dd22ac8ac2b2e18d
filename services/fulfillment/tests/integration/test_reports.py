"""The logistics team's reports: shipments, tracking links, deliveries, refusals, dead letters."""

import json
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fulfillment import domain
from jg_devstack.drivers import eventually
from jg_devstack.kafka_records import headers_of, publish_raw, read_topic
from jg_events import (
    Carrier,
    Delivered,
    Envelope,
    ParcelDelivered,
    Shipped,
    StockReplenished,
    Topic,
    dead_letter_topic,
    kafka_headers,
    topic_name,
)

from .conftest import Fulfillment, delivered, now, picked_up, released

pytestmark = pytest.mark.integration

# What a customer's browser opens for each carrier: host, path, and the query parameter that
# carries the tracking number (the carriers' public tracking pages).
TRACKING_PAGES = {
    Carrier.JAPAN_POST_EMS: (
        "EN123456785JP",
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


async def test_a_pick_up_report_yields_shipped_with_the_tracking_link_of_each_carrier(
    service: Fulfillment,
) -> None:
    orders = {carrier: released(("MATCHA-KYOTO-100", 1)) for carrier in TRACKING_PAGES}
    await service.feed(*orders.values())
    for order in orders.values():
        await service.wait_for_status(order.order_id, "processing")
    before = await service.stock("MATCHA-KYOTO-100")

    await service.feed(
        *(
            picked_up(order, TRACKING_PAGES[carrier][0], carrier=carrier)
            for carrier, order in orders.items()
        )
    )

    shipped = await service.events(Topic.FULFILLMENT_ORDERS, "Shipped", len(orders))
    by_order = {e.payload.order_id: e.payload for e in shipped}
    for carrier, order in orders.items():
        number, host, path, parameter = TRACKING_PAGES[carrier]
        event = by_order[order.order_id]
        assert isinstance(event, Shipped)
        assert event.carrier is carrier
        assert event.tracking_number == number
        link = urlsplit(event.tracking_url)
        assert (link.scheme, link.netloc, link.path) == ("https", host, path), carrier
        assert parse_qs(link.query)[parameter] == [number], carrier
        assert [(i.sku, i.name, i.quantity) for i in event.items] == [
            ("MATCHA-KYOTO-100", "Thé matcha de Kyoto, 100 g", 1)
        ]
        assert event.delivery_estimate.earliest > date.today()
        assert event.customer.email == "camille.durand@example.fr"
        view = await service.order(order.order_id)
        assert view is not None and view["status"] == "shipped"
        assert view["parcels"][0]["tracking_url"] == event.tracking_url

    after = await service.stock("MATCHA-KYOTO-100")
    assert after["on_hand"] == before["on_hand"] - len(orders)
    assert after["reserved"] == before["reserved"] - len(orders)


async def test_a_delivery_report_yields_delivered_with_the_withdrawal_deadline(
    service: Fulfillment,
) -> None:
    order = released(("DARUMA-ROUGE-10", 2))
    await service.feed(order)
    await service.wait_for_status(order.order_id, "processing")
    delivered_at = now() - timedelta(hours=1)
    # Two parcels: the order is delivered once both are.
    await service.feed(
        picked_up(
            order, "EN000000001JP", items=[("DARUMA-ROUGE-10", 1)], at=now() - timedelta(days=4)
        ),
        picked_up(
            order, "EN000000002JP", items=[("DARUMA-ROUGE-10", 1)], at=now() - timedelta(days=3)
        ),
        delivered(order, "EN000000001JP", delivered_at - timedelta(days=1)),
    )
    await eventually(
        lambda: service.order(order.order_id),
        lambda o: o is not None and any(p["delivered_at"] for p in o["parcels"]),
        what="first parcel delivered",
    )
    view = await service.order(order.order_id)
    assert view is not None and view["status"] == "shipped"

    await service.feed(delivered(order, "EN000000002JP", delivered_at))
    view = await service.wait_for_status(order.order_id, "delivered")

    [event] = await service.events(Topic.FULFILLMENT_ORDERS, "Delivered", 1)
    assert isinstance(event.payload, Delivered)
    assert event.payload.tracking_number == "EN000000002JP"
    assert event.payload.withdrawal_deadline == domain.withdrawal_deadline(delivered_at)
    assert view["withdrawal_deadline"] == event.payload.withdrawal_deadline.isoformat()


async def test_unknown_order_and_out_of_sequence_reports_are_refused_and_not_applied(
    service: Fulfillment,
) -> None:
    await service.set_stock("KOKESHI-CERISIER", 0)
    waiting = released(("KOKESHI-CERISIER", 1))
    handed = released(("BOL-MATCHA-RAKU", 1))
    await service.feed(waiting, handed)
    await service.wait_for_status(waiting.order_id, "backordered")
    await service.wait_for_status(handed.order_id, "processing")
    stranger = released(("MATCHA-KYOTO-100", 1))  # never released to fulfillment
    bowl_before = await service.stock("BOL-MATCHA-RAKU")

    reports = [
        picked_up(stranger, "EN100000001JP"),  # unknown order
        picked_up(waiting, "EN100000002JP"),  # still backordered: not handed off
        delivered(handed, "EN100000003JP"),  # delivered before any pick-up
        picked_up(handed, "EN100000004JP", items=[("BOL-MATCHA-RAKU", 2)]),  # more than ordered
        picked_up(handed, "EN100000005JP", items=[("MATCHA-KYOTO-100", 1)]),  # not in the order
        StockReplenished(sku="NOT-A-PRODUCT", quantity_added=3, replenished_at=now()),
    ]
    await service.feed(*reports)

    refused = await eventually(
        service.rejected_reports, lambda r: len(r) == len(reports), what="refusals recorded"
    )
    reasons = {(r["event_type"], r["order_id"], r["reason"]) for r in refused}
    assert reasons == {
        ("ParcelPickedUp", str(stranger.order_id), "unknown_order"),
        ("ParcelPickedUp", str(waiting.order_id), "order_not_handed_off"),
        ("ParcelDelivered", str(handed.order_id), "unknown_parcel"),
        ("ParcelPickedUp", str(handed.order_id), "items_not_outstanding"),
        ("ParcelPickedUp", str(handed.order_id), "items_not_in_order"),
        ("StockReplenished", None, "unknown_sku"),
    }
    assert all(r["detail"] and r["report"]["payload"] for r in refused)

    # Nothing was applied: no shipment, no stock change, statuses unchanged.
    assert (await service.order(handed.order_id) or {})["status"] == "processing"
    assert (await service.order(waiting.order_id) or {})["status"] == "backordered"
    assert (await service.stock("BOL-MATCHA-RAKU")) == bowl_before
    assert await service.pool.fetchval("SELECT count(*) FROM parcels") == 0
    unknown_sku = "SELECT count(*) FROM products WHERE sku = 'NOT-A-PRODUCT'"
    assert await service.pool.fetchval(unknown_sku) == 0
    published = await service.published(Topic.FULFILLMENT_ORDERS, 0, timeout=5, settle=1.0)
    assert not [e for e in published if e.type in ("Shipped", "Delivered")]
    # A refusal is a decision, not a failure: nothing in the dead-letter topic.
    dead = await read_topic(
        service.stack.kafka_bootstrap,
        dead_letter_topic("fulfillment", service.prefix),
        count=1,
        timeout=2,
    )
    assert dead == []

    # The same parcel cannot be picked up twice, nor delivered twice.
    await service.feed(
        picked_up(handed, "EN100000006JP"),
        picked_up(handed, "en 1000-0000-6jp"),
        delivered(handed, "EN100000006JP"),
        delivered(handed, "EN100000006JP"),
    )
    await service.wait_for_status(handed.order_id, "delivered")
    refused = await eventually(
        service.rejected_reports, lambda r: len(r) == len(reports) + 2, what="two more refusals"
    )
    assert {r["reason"] for r in refused[:2]} == {"duplicate_parcel", "already_delivered"}
    assert len(await service.events(Topic.FULFILLMENT_ORDERS, "Shipped", 1)) == 1


async def test_an_unreadable_report_goes_to_the_dead_letter_topic(service: Fulfillment) -> None:
    order = released(("MATCHA-KYOTO-100", 1))
    await service.feed(order)
    await service.wait_for_status(order.order_id, "processing")
    topic = topic_name(Topic.LOGISTICS_REPORTS, service.prefix)
    bad = ParcelDelivered(order_id=order.order_id, tracking_number="EN1JP00000", delivered_at=now())
    headers = kafka_headers(Envelope.wrap(bad, correlation_id="test-bad-report"))
    body = json.dumps({"type": "ParcelDelivered", "schema_version": 1, "payload": {}}).encode()
    await publish_raw(
        service.stack.kafka_bootstrap, topic, [(str(order.order_id).encode(), body, headers)]
    )

    [dead] = await read_topic(
        service.stack.kafka_bootstrap, dead_letter_topic("fulfillment", service.prefix), count=1
    )
    assert dead.value == body
    assert headers_of(dead)["dlq-reason"] == "unreadable"
    assert await service.rejected_reports() == []
