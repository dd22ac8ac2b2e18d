"""Stripe requests are labelled by operation without their ids, and by outcome."""

import asyncio

import aiohttp
import pytest
import stripe
from payment.metrics import (
    STRIPE_REQUESTS,
    MeasuredStripeHTTPClient,
    stripe_operation,
    stripe_outcome,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("method", "url", "operation"),
    [
        ("post", "http://stripe:12111/v1/payment_intents", "POST /v1/payment_intents"),
        (
            "post",
            "http://stripe/v1/payment_intents/pi_3Abc/capture",
            "POST /v1/payment_intents/{id}/capture",
        ),
        ("get", "https://api.stripe.com/v1/refunds/re_9?expand=x", "GET /v1/refunds/{id}"),
        (
            "post",
            "http://stripe/v1/payment_methods/pm_card_visa/attach",
            "POST /v1/payment_methods/{id}/attach",
        ),
    ],
)
def test_operation_is_the_path_template(method: str, url: str, operation: str) -> None:
    assert stripe_operation(method, url) == operation


def test_two_intents_share_one_operation() -> None:
    a = stripe_operation("GET", "http://s/v1/payment_intents/pi_1")
    b = stripe_operation("GET", "http://s/v1/payment_intents/pi_2")
    assert a == b


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "ok"),
        (402, "declined"),
        (400, "rejected"),
        (404, "rejected"),
        (500, "error"),
        (503, "error"),
        (None, "unreachable"),
    ],
)
def test_outcome_of_an_answer(status: int | None, outcome: str) -> None:
    assert stripe_outcome(status) == outcome


async def _half_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An HTTP server that dies in the middle of its answer's body."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 90\r\n\r\n{"
    )
    await writer.drain()
    writer.close()


async def test_an_answer_cut_off_mid_body_is_a_network_error_counted_unreachable() -> None:
    server = await asyncio.start_server(_half_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1/payment_intents/pi_1"
    before = STRIPE_REQUESTS.labels("GET /v1/payment_intents/{id}", "unreachable")._value.get()
    client = MeasuredStripeHTTPClient(timeout=aiohttp.ClientTimeout(total=5))
    try:
        # Stripe's SDK retries an APIConnectionError and payment waits it out (transient)
        with pytest.raises(stripe.APIConnectionError):
            await client.request_async("get", url, {})
    finally:
        await client.close_async()  # type: ignore[no-untyped-call]
        server.close()
        await server.wait_closed()
    after = STRIPE_REQUESTS.labels("GET /v1/payment_intents/{id}", "unreachable")._value.get()
    assert after == before + 1


async def test_stripe_calls_go_through_the_egress_proxy_the_environment_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append((await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")[0])
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = MeasuredStripeHTTPClient(timeout=aiohttp.ClientTimeout(total=5))
    try:
        body, status, _ = await client.request_async(
            "get", "http://stripe.test/v1/charges/ch_1", {}
        )
    finally:
        await client.close_async()  # type: ignore[no-untyped-call]
        server.close()
        await server.wait_closed()
    assert (status, body) == (200, b"{}")
    assert seen == [b"GET http://stripe.test/v1/charges/ch_1 HTTP/1.1"]  # asked of the proxy
