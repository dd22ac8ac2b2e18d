"""Issue 16: one order is one trace, from the storefront's POST across the Kafka hops to its
email. The services export their spans over OTLP/HTTP to a receiver (the one `make run` uses),
and the order's trace is found by its number, as `make trace ORDER_NUMBER=...` finds it."""

from __future__ import annotations

from jg_devstack.drivers import (
    Mailbox,
    Storefront,
    StripeJs,
    eventually,
    order_request,
    unique_email,
)
from jg_devstack.launcher import Platform
from jg_devstack.traces import BackgroundReceiver, SpanRecord, order_traces, render_waterfall

# (service, span name) that one paid order's trace must hold, in causal order
EXPECTED = [
    ("checkout", "POST /orders"),  # the storefront's request
    ("checkout", "transaction"),  # the order and its OrderPlaced, in one transaction
    ("checkout", "publish jg.checkout.orders"),  # the relay
    ("payment", "process jg.checkout.orders"),
    ("payment", "on_order_placed"),  # payment's handler
    ("payment", "stripe POST /v1/payment_intents"),  # the authorisation
    ("payment", "publish jg.payment.payments"),
    ("checkout", "on_payment_authorized"),  # checkout confirms the order
    ("notifications", "send email"),  # the confirmation, sent by the dispatcher
    ("notifications", "smtp send"),
]


def _named(spans: list[SpanRecord], service: str, name: str) -> list[SpanRecord]:
    """The spans of ``service`` called ``name`` (a topic in it may have the e2e prefix)."""
    verb, _, topic = name.partition(" ")
    if verb in ("publish", "process"):
        return [
            s
            for s in spans
            if s.service == service and s.name.startswith(verb) and s.name.endswith(topic)
        ]
    return [s for s in spans if s.service == service and s.name == name]


def _ancestors(span: SpanRecord, spans: list[SpanRecord]) -> list[SpanRecord]:
    by_id = {s.span_id: s for s in spans}
    chain: list[SpanRecord] = []
    while span.parent_span_id in by_id:
        span = by_id[span.parent_span_id]
        chain.append(span)
    return chain


async def test_one_order_is_one_trace_from_the_storefronts_post_to_the_smtp_send(
    platform: Platform,
    traces: BackgroundReceiver,
    storefront: Storefront,
    stripe_js: StripeJs,
    mailbox: Mailbox,
) -> None:
    email = unique_email("suivi")
    card = await stripe_js.card(StripeJs.VISA)
    placed = await storefront.place_ok(order_request(email, [("MATCHA-KYOTO-100", 1)], card))
    await mailbox.wait_for(email, "Confirmation de votre commande")

    async def first_trace() -> list[SpanRecord]:
        found = order_traces(traces.store.read(), placed["number"])
        return next(iter(found.values()), [])

    def complete(spans: list[SpanRecord]) -> bool:
        return all(_named(spans, service, name) for service, name in EXPECTED)

    spans = await eventually(first_trace, complete, "the order's trace, POST to SMTP", timeout=20)
    waterfall = render_waterfall(spans)
    assert len({s.trace_id for s in spans}) == 1

    root = next(s for s in spans if not s.parent_span_id)
    assert (root.service, root.name) == ("checkout", "POST /orders"), waterfall
    assert root.attributes["jg.order_id"] == placed["id"]
    smtp = _named(spans, "notifications", "smtp send")[0]
    chain = [(s.service, s.name) for s in _ancestors(smtp, spans)]
    # the SMTP send descends from the POST through both Kafka hops and every handler
    assert chain[-1] == ("checkout", "POST /orders"), waterfall
    assert ("checkout", "on_payment_authorized") in chain, waterfall
    assert ("payment", "on_order_placed") in chain, waterfall
    assert not [s for s in spans if s.error is not None], waterfall

    # the services' log lines written inside the trace carry its id
    logs = "".join(
        service.log.read_text(encoding="utf-8", errors="replace")
        for service in platform.processes.running.values()
    )
    assert f"trace_id={root.trace_id}" in logs or f'"trace_id": "{root.trace_id}"' in logs
