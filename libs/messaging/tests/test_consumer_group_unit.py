"""A run with its own topic prefix has its own consumer groups."""

import pytest
from faststream.kafka import KafkaBroker
from jg_events import Topic
from jg_messaging import consumer_group, subscribe

pytestmark = pytest.mark.unit


def test_the_group_is_the_service_name_without_a_prefix() -> None:
    assert consumer_group("checkout") == "checkout"  # production, the Kafka ACLs name it


def test_runs_with_different_prefixes_never_share_a_group() -> None:
    first = subscribe(
        KafkaBroker("127.0.0.1:9092"), Topic.CHECKOUT_ORDERS, service="payment", topic_prefix="t1."
    )
    second = subscribe(
        KafkaBroker("127.0.0.1:9092"), Topic.CHECKOUT_ORDERS, service="payment", topic_prefix="t2."
    )
    assert (first.group_id, second.group_id) == ("t1.payment", "t2.payment")
    plain = subscribe(KafkaBroker("127.0.0.1:9092"), Topic.CHECKOUT_ORDERS, service="payment")
    assert plain.group_id == "payment"
