"""Checkout's handler table: every event it consumes, each to its own ``on_<event>``."""

import pytest
from checkout import handlers
from checkout.handlers import HANDLERS
from jg_events import Topic
from jg_messaging.handlers import handler_name, topics_of

pytestmark = pytest.mark.unit


def test_each_event_has_its_module_level_handler_named_after_it() -> None:
    for event_cls, handler in HANDLERS.items():
        assert handler.__name__ == handler_name(event_cls)
        assert getattr(handlers, handler.__name__) is handler
        assert handler.__doc__, f"{handler.__name__} documents what it does (AsyncAPI)"


def test_checkout_listens_to_payment_fulfillment_logistics_and_accounts() -> None:
    assert set(topics_of(HANDLERS)) == {
        Topic.PAYMENT_PAYMENTS,
        Topic.FULFILLMENT_ORDERS,
        Topic.LOGISTICS_REQUESTS,
        Topic.ACCOUNTS_CUSTOMERS,
    }
    assert len(HANDLERS) == 11
