"""Topic names are defined once; prefixes isolate tests; every service has a dead-letter topic."""

import pytest
from jg_events import DEAD_LETTER_SERVICES, Topic, all_topics, dead_letter_topic, topic_name

pytestmark = pytest.mark.unit


def test_base_names() -> None:
    assert {t.value for t in Topic} == {
        "jg.checkout.orders",
        "jg.payment.payments",
        "jg.fulfillment.orders",
        "jg.logistics.requests",
        "jg.logistics.reports",
        "jg.accounts.customers",
    }


def test_prefix_is_prepended_and_validated() -> None:
    assert topic_name(Topic.CHECKOUT_ORDERS) == "jg.checkout.orders"
    assert topic_name(Topic.CHECKOUT_ORDERS, prefix="t-1a2b.") == "t-1a2b.jg.checkout.orders"
    assert topic_name("jg.payment.payments", prefix="x_") == "x_jg.payment.payments"
    with pytest.raises(ValueError, match="prefix"):
        topic_name(Topic.CHECKOUT_ORDERS, prefix="bad prefix/")
    with pytest.raises(ValueError):
        topic_name("jg.unknown.topic")
    with pytest.raises(ValueError, match="249"):
        topic_name(Topic.CHECKOUT_ORDERS, prefix="p" * 240)


def test_dead_letter_topics() -> None:
    assert dead_letter_topic("notifications") == "jg.notifications.dead-letter"
    assert dead_letter_topic("payment", prefix="t1.") == "t1.jg.payment.dead-letter"
    with pytest.raises(ValueError, match="service name"):
        dead_letter_topic("Payment Service")


def test_all_topics_lists_event_and_dead_letter_topics() -> None:
    names = all_topics(prefix="t9.")
    assert len(names) == len(set(names)) == len(Topic) + 5
    assert set(DEAD_LETTER_SERVICES) == {
        "checkout",
        "payment",
        "fulfillment",
        "notifications",
        "accounts",
    }
    for service in DEAD_LETTER_SERVICES:
        assert f"t9.jg.{service}.dead-letter" in names
    assert "t9.jg.logistics.reports" in names
    assert all(name.startswith("t9.") for name in names)
