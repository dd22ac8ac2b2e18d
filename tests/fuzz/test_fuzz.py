"""Every service's OpenAPI document, fuzzed by schemathesis with each audience's credentials.

For each service, one or more runs of ``schemathesis run`` (examples, coverage, fuzzing and
stateful phases; positive and negative data) against the running service, each with the
credentials of one audience: the storefront's token, a customer's access token, the operators'
tokens, payment's internal token, Stripe's webhook signature. A run fails on any 5xx
(``not_a_server_error``), any status code, content type or body the document does not declare
for the operation (``status_code_conformance``, ``content_type_conformance``,
``response_schema_conformance``), and any request without an answer within 10 s. Each service
must get at least 1,000 requests. ``JG_FUZZ_SEED=<seed>`` replays the runs of a seed printed in
a run's log (``.stack/logs/fuzz/<service>-<audience>.txt``).
"""

from __future__ import annotations

import os

import pytest

from .conftest import LOG_DIR, FuzzPlatform
from .runner import RunResult, Target, run

MIN_REQUESTS = 1_000  # per service, all its runs together


def targets(service: str, fuzz: FuzzPlatform) -> list[Target]:
    s = fuzz.secrets

    def customer(scheme: str, max_examples: int, **paths: str) -> Target:
        token = fuzz.customer_token()  # a session of its own for each run
        return Target(
            service, "customer", max_examples, {scheme: token}, **paths, customer_session=token
        )

    match service:
        case "checkout":
            return [
                Target(service, "storefront", 150, {"HTTPBearer": s.checkout_storefront}),
                customer("HTTPBearer", 80),
            ]
        case "payment":
            return [
                # Stripe signs the webhooks (hooks.py); the internal token reads any invoice.
                Target(service, "stripe + internal", 500, {"HTTPBearer": s.payment_internal}),
                customer("HTTPBearer", 150, include_path_regex="^/invoices/"),
            ]
        case "fulfillment":
            tokens = {
                "HTTPBearer": s.fulfillment_storefront,
                "StaffBearer": s.fulfillment_operator,  # the operator routes' scheme (jg_auth)
            }
            return [
                Target(service, "storefront + operator", 100, tokens),
                customer("HTTPBearer", 100, include_path_regex="^/orders/"),
            ]
        case "accounts":
            # Apart: the operator's erasure by email and order number would otherwise erase the
            # fuzzing customer (the fuzzer reuses the values GET /me and /me/orders answer).
            operator = {"OperatorBearer": s.accounts_operator}
            return [
                customer("CustomerBearer", 100, exclude_path_regex="^/erasure-requests$"),
                Target(
                    service, "operator", 300, operator, include_path_regex="^/erasure-requests$"
                ),
            ]
        case "notifications":
            return [Target(service, "public", 500)]
    raise AssertionError(f"no fuzz target for {service}")


@pytest.mark.parametrize(
    "service", ["checkout", "payment", "fulfillment", "accounts", "notifications"]
)
def test_service_survives_fuzzing(
    service: str, fuzz_platform: FuzzPlatform, fuzz_results: list[RunResult]
) -> None:
    results = []
    closed = []
    for target in targets(service, fuzz_platform):
        result = run(
            target,
            fuzz_platform.url(service),
            LOG_DIR,
            fuzz_platform.hooks_env(),
            seed=os.environ.get("JG_FUZZ_SEED") or None,
        )
        fuzz_results.append(result)
        results.append(result)
        token = target.customer_session
        if token is not None and not fuzz_platform.session_open(token):
            closed.append(target.name)
    failed = [r for r in results if r.exit_code != 0]
    assert not failed, "\n\n".join(
        f"{r.target.name}: schemathesis exited with {r.exit_code} (seed {r.seed}; "
        f"log {r.log})\n{r.failures()}"
        for r in failed
    )
    # A run whose customer lost their session midway got 401s instead of answers: too shallow.
    assert not closed, f"the customer's session was closed during {closed}"
    total = sum(r.total for r in results)
    assert total >= MIN_REQUESTS, f"{service} got {total} requests, fewer than {MIN_REQUESTS}"
