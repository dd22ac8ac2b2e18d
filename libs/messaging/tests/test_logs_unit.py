import json
import logging

import pytest
import structlog
from jg_messaging import bind, configure_logging

pytestmark = pytest.mark.unit


def test_json_log_lines_carry_service_and_correlation_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("checkout", json=True)
    structlog.contextvars.clear_contextvars()
    try:
        bind(correlation_id="corr-42", order_id="ord-7")
        structlog.get_logger("test").info("order_placed", total="59.97")
        logging.getLogger("some.library").warning("library line")
    finally:
        structlog.contextvars.clear_contextvars()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    ours, library = lines[-2], lines[-1]
    assert ours["event"] == "order_placed"
    assert ours["service"] == "checkout"
    assert ours["correlation_id"] == "corr-42"
    assert ours["order_id"] == "ord-7"
    assert ours["level"] == "info"
    assert library["event"] == "library line"
    assert library["correlation_id"] == "corr-42"


def test_faststream_lines_are_structured_too(capsys: pytest.CaptureFixture[str]) -> None:
    import faststream  # noqa: F401 - installs its own handler on the "faststream" logger

    configure_logging("payment", json=True)
    logging.getLogger("faststream").info("waiting for messages", extra={"topic": "jg.orders"})
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "waiting for messages"
    assert line["service"] == "payment"
    assert line["topic"] == "jg.orders"
