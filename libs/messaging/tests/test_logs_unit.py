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


@pytest.mark.parametrize("render_json", [True, False], ids=["json", "console"])
def test_a_logged_failure_never_shows_the_local_variables_of_its_frames(
    capsys: pytest.CaptureFixture[str], render_json: bool
) -> None:
    configure_logging("payment", json=render_json)

    def confirm_payment() -> None:
        client_secret = "pi_3Ab_secret_" + "-".join(["Do", "Not", "Log", "Me"])  # not in the source
        raise ConnectionRefusedError(f"card refused ({len(client_secret)})")

    try:
        confirm_payment()
    except ConnectionRefusedError:
        structlog.get_logger("test").exception("stripe_call_failed")
    err = capsys.readouterr().err
    assert "stripe_call_failed" in err and "ConnectionRefusedError" in err
    assert "Do-Not-Log-Me" not in err  # the frames' source is shown, never their variables


def test_per_request_lines_of_http_and_stripe_libraries_are_dropped_but_not_their_warnings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("payment", json=True)
    logging.getLogger("httpx").info("HTTP Request: GET https://api.stripe.com/v1/x 200 OK")
    logging.getLogger("stripe").info("Request to Stripe api")
    logging.getLogger("stripe").warning("Stripe API unreachable, retrying")
    logging.getLogger("faststream").info("Consumer started")
    err = capsys.readouterr().err
    assert "HTTP Request" not in err and "Request to Stripe api" not in err
    assert "Stripe API unreachable" in err and "Consumer started" in err
