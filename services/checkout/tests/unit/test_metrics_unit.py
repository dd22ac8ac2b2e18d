"""Orders by status: every status of the domain is reported, zero included."""

import pytest
from checkout.domain.order import Status
from checkout.metrics import orders_by_status

pytestmark = pytest.mark.unit


def test_every_status_is_reported_even_without_orders() -> None:
    counts = orders_by_status({"confirmed": 3, "released": 12})
    assert counts["confirmed"] == 3
    assert counts["released"] == 12
    assert counts["cancelled"] == 0
    assert set(counts) == {s.value for s in Status}
