"""schemathesis hooks for ``make fuzz`` (loaded by the CLI through ``SCHEMATHESIS_HOOKS``).

- ``POST /webhooks/stripe`` (payment): a generated case is sent signed with the platform's
  webhook secret, as Stripe signs it (``t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>">``), so
  the fuzzed events reach the handler instead of stopping at the signature check; a quarter of
  the cases that carry a generated ``Stripe-Signature`` keep it (forged: a 400).
- ``POST /logout`` (accounts): a case that carries the fuzzing customer's token is sent with the
  token of a new session instead, so a logout ends that session and not the one every other
  request of the run uses.
- ``POST /orders`` (checkout): the request body gets a valid example (a catalogue sku, a
  French address, a card the Stripe stand-in knows) so the examples phase places real orders
  and the stateful phase can follow them (``GET``, ``PATCH``, ``cancel``).

Every value comes from the environment the test gives the CLI (``JG_FUZZ_*``).
"""

from __future__ import annotations

import json
import os
import zlib
from typing import Any

import httpx
import schemathesis
from jg_devstack.stripe_webhooks import signature_header

WEBHOOK = "POST /webhooks/stripe"
LOGOUT = "POST /logout"


def _env(name: str) -> str:
    return os.environ.get(name, "")


def _body_bytes(case: schemathesis.Case) -> bytes:
    body: Any = case.body
    if isinstance(body, bytes):
        return body
    if type(body).__name__ == "NotSet":
        return b""
    return json.dumps(body).encode()


def _fresh_customer_token() -> str:
    response = httpx.post(
        f"{_env('JG_FUZZ_ACCOUNTS_URL')}/login",
        json={
            "email": _env("JG_FUZZ_CUSTOMER_EMAIL"),
            "password": _env("JG_FUZZ_CUSTOMER_PASSWORD"),
        },
        timeout=10.0,
    )
    if response.status_code != 200:  # loud: logging out the run's own session would hide it
        raise RuntimeError(f"no new session for POST /logout: {response.status_code}")
    token: str = response.json()["access_token"]
    return token


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, kwargs: dict) -> None:
    label = case.operation.label
    headers = case.headers if case.headers is not None else {}
    if label == WEBHOOK and _env("JG_FUZZ_STRIPE_WEBHOOK_SECRET"):
        forged = (
            headers.get("Stripe-Signature") is not None and zlib.crc32(case.id.encode()) % 4 == 0
        )
        payload = _body_bytes(case)
        if not forged and payload.isascii():  # json.dumps' output is; raw example bytes may not be
            kwargs["data"] = payload  # the exact bytes signed
            headers["Stripe-Signature"] = signature_header(
                payload, _env("JG_FUZZ_STRIPE_WEBHOOK_SECRET")
            )
            case.headers = headers
    elif label == LOGOUT and _env("JG_FUZZ_CUSTOMER_BEARER"):
        own = f"Bearer {_env('JG_FUZZ_CUSTOMER_BEARER')}"
        if headers.get("Authorization") == own:
            headers["Authorization"] = f"Bearer {_fresh_customer_token()}"


@schemathesis.hook
def before_load_schema(context: schemathesis.HookContext, raw_schema: dict) -> None:
    example = _env("JG_FUZZ_ORDER_EXAMPLE")
    orders = raw_schema.get("paths", {}).get("/orders", {}).get("post")
    if orders is None or not example:
        return
    media = orders.get("requestBody", {}).get("content", {}).get("application/json")
    if media is not None:
        media["examples"] = {"card": {"value": json.loads(example)}}
