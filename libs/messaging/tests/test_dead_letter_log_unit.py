"""A dead-lettered message's error is logged without the personal data it carried."""

import json
from uuid import uuid4

import pytest
from aiokafka import ConsumerRecord
from jg_events import Envelope, OrderCancelled, registry
from jg_messaging.consumer import ReliableConsumption, RetryPolicy, _Config
from structlog.testing import capture_logs

pytestmark = pytest.mark.unit


async def test_an_unreadable_event_is_logged_without_the_customers_data() -> None:
    body = {
        "event_id": str(uuid4()),
        "type": OrderCancelled.event_type,
        "schema_version": OrderCancelled.schema_version,
        "occurred_at": "2026-04-29T09:00:00Z",
        "correlation_id": "corr-1",
        "payload": {
            "order_id": str(uuid4()),
            "order_number": "JG-2026-000123",
            "customer": {
                "email": "camille.durand@example.fr",
                "first_name": "Camille",
                # no last_name: breaks the contract, dead-lettered at once
            },
            "reason": "customer_request",
            "cancelled_by": "customer",
            "total": "12.50",
        },
    }
    value = json.dumps(body).encode()
    errors: list[BaseException] = []
    for read in (Envelope[OrderCancelled].model_validate_json, registry.parse):
        with pytest.raises(ValueError) as raised:
            read(value)
        errors.append(raised.value)
    record = ConsumerRecord(
        topic="jg.checkout.orders",
        partition=0,
        offset=7,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=len(value),
        headers=[],
    )
    published: list[dict[str, str]] = []

    async def publish(_: bytes, __: str, ___: bytes | None, headers: dict[str, str]) -> None:
        published.append(headers)

    config = _Config("checkout", "jg.dlq.checkout", RetryPolicy(), publish)
    middleware = ReliableConsumption(record, context=None, config=config)
    with capture_logs() as logs:
        for error in errors:
            await middleware._dead_letter(error, 1, reason="unreadable")

    lines = [entry for entry in logs if entry["event"] == "event_dead_lettered"]
    assert len(lines) == 2
    for line in lines:
        assert "last_name" in line["error"]  # still says what broke
        assert "camille" not in json.dumps(line, default=str).lower()
    assert len(published) == 2  # the dead-letter record keeps the original message
