"""The logistics contract in Markdown, generated from the code.

``python -m fulfillment.contract`` writes ``docs/logistics-contract.md`` (``--check`` fails when
the file is out of date) from the event classes of jg_events, their JSON schemas and examples.
The AsyncAPI document of the same topics is served by the app at ``/asyncapi.json`` (FastStream
generates it from the service's subscribers and declared publications).
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jg_events import (
    Carrier,
    Event,
    Topic,
    dead_letter_topic,
    events_on,
    kafka_headers,
)
from jg_events.examples import example_envelope
from jg_events.schemas import schema_filename

from fulfillment import domain

LOGISTICS_READS: tuple[type[Event], ...] = events_on(Topic.LOGISTICS_REQUESTS)
"""What the logistics team reads (pick lists)."""
LOGISTICS_WRITES: tuple[type[Event], ...] = events_on(Topic.LOGISTICS_REPORTS)
"""What the logistics team writes (reports)."""
FULFILLMENT_PUBLISHES: tuple[type[Event], ...] = (
    *events_on(Topic.LOGISTICS_REQUESTS),
    *events_on(Topic.FULFILLMENT_ORDERS),
)

DOC_PATH = Path(__file__).resolve().parents[4] / "docs" / "logistics-contract.md"


# --- Markdown --------------------------------------------------------------------------------


def _type_of(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in prop:
        kinds = [_type_of(p) for p in prop["anyOf"]]
        return " or ".join(k for k in kinds)
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    if "enum" in prop:
        return "one of " + ", ".join(f"`{v}`" for v in prop["enum"])
    kind = prop.get("type", "object")
    if kind == "array":
        return f"array of {_type_of(prop.get('items', {}))}"
    if kind == "string":
        if "format" in prop:
            return f"string ({prop['format']})"
        if prop.get("pattern") == r"^\d+\.\d{2}$":
            return 'money string ("12.50")'
        return "string"
    if kind == "null":
        return "null"
    return str(kind)


def _constraints(prop: dict[str, Any]) -> str:
    parts = []
    for key, label in (
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minItems", "min items"),
        ("minimum", "min"),
        ("pattern", "pattern"),
    ):
        if key in prop:
            value = prop[key]
            parts.append(f"{label} `{value}`" if key == "pattern" else f"{label} {value}")
    for option in prop.get("anyOf", []):
        if option.get("type") != "null":
            parts.extend(p for p in _constraints(option).split("; ") if p)
    return "; ".join(parts)


def _fields_table(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    rows = ["| field | type | required | description |", "|---|---|---|---|"]
    for name, prop in schema.get("properties", {}).items():
        description = prop.get("description", "").replace("|", "\\|")
        extra = _constraints(prop)
        if extra:
            description = f"{description} ({extra})" if description else extra
        rows.append(
            f"| `{name}` | {_type_of(prop).replace('|', '/')} | "
            f"{'yes' if name in required else 'no'} | {description} |"
        )
    return rows


def _message_section(event: type[Event], direction: str) -> list[str]:
    schema = event.model_json_schema()
    defs = schema.get("$defs", {})
    envelope = example_envelope(event)
    lines = [
        f"### {event.event_type} (v{event.schema_version})",
        "",
        f"{direction} on `{event.topic.value}`; Kafka key: `payload.{event.key_field}`. "
        f"JSON Schema of the whole message: `libs/events/schemas/{schema_filename(event)}`.",
        "",
        inspect.cleandoc(event.__doc__ or ""),
        "",
        "Payload fields:",
        "",
        *_fields_table(schema),
        "",
    ]
    for name, definition in defs.items():
        if definition.get("type") == "object" or "properties" in definition:
            lines += [f"`{name}`: {definition.get('description', '').strip()}", ""]
            lines += [*_fields_table(definition), ""]
        elif "enum" in definition:
            values = ", ".join(f"`{v}`" for v in definition["enum"])
            lines += [
                f"`{name}`: {definition.get('description', '').strip()} Values: {values}.",
                "",
            ]
    lines += [
        "Example (Kafka value; the headers follow):",
        "",
        "```json",
        json.dumps(json.loads(envelope.model_dump_json()), indent=2, ensure_ascii=False),
        "```",
        "",
        "```json",
        json.dumps(kafka_headers(envelope), indent=2),
        "```",
        "",
    ]
    return lines


REPORT_REFUSALS: tuple[tuple[str, str], ...] = (
    ("unknown_order", "no order with this id was handed off to logistics"),
    ("order_not_handed_off", "the order is still waiting for stock (backordered)"),
    ("invalid_tracking_number", "not 6 to 40 letters and digits (spaces and dashes removed)"),
    ("duplicate_parcel", "this tracking number was already reported picked up for the order"),
    ("items_not_in_order", "a sku of the parcel is not in the order"),
    ("items_not_outstanding", "more items than handed off and not yet shipped"),
    ("unknown_parcel", "delivery of a parcel whose pick-up was never reported"),
    ("already_delivered", "this parcel was already reported delivered"),
    ("delivered_before_pick_up", "delivered_at is before the parcel's picked_up_at"),
    ("reported_in_the_future", "a time more than one hour ahead of fulfillment's clock"),
    ("unknown_return", "no return with this id for the order"),
    ("return_not_expected", "the return was rejected or already received"),
    ("items_not_in_return", "a sku received is not in the accepted return"),
    ("unknown_sku", "StockReplenished for a sku fulfillment does not stock"),
)
"""Every reason a report is refused, and what it means (the team's table)."""


def _intro() -> list[str]:
    """Title, topics and the AsyncAPI document."""
    return [
        "# Logistics contract (fulfillment and the logistics team)",
        "",
        "<!-- Generated by `uv run python -m fulfillment.contract` from jg_events (classes, "
        "JSON schemas, examples). Do not edit by hand. -->",
        "",
        "The logistics team in Japan picks, packs and ships JapanGoodz orders. It exchanges "
        "messages with the fulfillment service over Kafka only:",
        "",
        "| direction | topic | messages | key |",
        "|---|---|---|---|",
        f"| the team **reads** | `{Topic.LOGISTICS_REQUESTS.value}` | "
        + ", ".join(e.event_type for e in LOGISTICS_READS)
        + " | order id |",
        f"| the team **writes** | `{Topic.LOGISTICS_REPORTS.value}` | "
        + ", ".join(e.event_type for e in LOGISTICS_WRITES)
        + " | order id (StockReplenished: sku) |",
        f"| the team may read | `{Topic.FULFILLMENT_ORDERS.value}` | ReturnAccepted (returns to "
        "expect, with their return id), ClaimResolved (reships) | order id |",
        "",
        "The AsyncAPI 3.0 document of the same contract is served by the running service at "
        "`GET /asyncapi.json` (http://127.0.0.1:8003/asyncapi.json locally), generated by "
        "FastStream from the service's subscribers and declared publications; the JSON Schema "
        "of every message is in `libs/events/schemas/`.",
        "",
    ]


def _every_message() -> list[str]:
    """What every message carries."""
    return [
        "## Every message",
        "",
        "- **Value**: UTF-8 JSON of one *envelope*: `event_id` (UUID, unique per message), "
        "`type`, `schema_version`, `occurred_at` (ISO 8601 with a time zone; stored in UTC), "
        "`correlation_id`, `causation_id` (may be null), `payload` (the fields listed below).",
        "- **Key**: the order id as a string (`payload.order_id`); for StockReplenished the sku. "
        "One order's messages therefore stay in order on one partition: send a parcel's "
        "pick-up before its delivery.",
        "- **Headers**: `event-type`, `event-version`, `event-id`, `correlation-id`, "
        "`content-type: application/json` and `causation-id` when there is one. The body is "
        "the reference; the headers let tools route without parsing.",
        '- **Money** is a string in euros with two decimals (`"19.99"`), never a number. '
        "Quantities are integers >= 1.",
        "- **Times** say when the fact happened (the carrier's scan), not when it is reported.",
        "- **Unknown fields are ignored**; fields are only ever added as optional. A breaking "
        "change is a new `schema_version` of the message, announced before use.",
        "- **Resending** a message: reuse the same `event_id`; fulfillment applies each "
        "`event_id` once.",
        "- Correlation: copy the `correlation_id` of the OrderProcessing an order report is "
        "about (or make a new UUID), and its `event_id` as `causation_id`.",
        "",
    ]


def _reports() -> list[str]:
    """What fulfillment does with a report, and the refusals."""
    return [
        "## What fulfillment does with a report",
        "",
        f"- A message that is not valid (bad JSON, a field missing or out of its range, an "
        f"unknown type or version) goes to the dead-letter topic "
        f"`{dead_letter_topic('fulfillment')}` with the error in its headers (`dlq-reason`, "
        "`dlq-error`); nothing is applied. Fix and resend.",
        "- A valid report that does not fit the order's state is **refused**: nothing is "
        "applied, the refusal is recorded with its reason and logged "
        "(`logistics_report_rejected`). Customer service lists refusals at "
        "`GET /operator/rejected-reports` (operator token). Refused reports do not go to the "
        "dead-letter topic, which is for messages fulfillment failed to process and could "
        "process after a fix; a refusal is a decision, and resending the same report gives "
        "the same refusal. Reasons:",
        "",
        "| reason | meaning |",
        "|---|---|",
        *[f"| `{code}` | {meaning} |" for code, meaning in REPORT_REFUSALS],
        "",
        "- ParcelPickedUp gives the customer a *Shipped* email with the tracking link built "
        "from the carrier and the tracking number (upper-cased, spaces and dashes removed):",
        "",
        "| carrier | code | tracking page |",
        "|---|---|---|",
        *[
            f"| {domain.CARRIER_LABELS[c]} | `{c.value}` | "
            f"`{domain.tracking_url(c, 'NUMBER').replace('NUMBER', '{tracking_number}')}` |"
            for c in Carrier
        ],
        "",
        "- Several parcels per order are allowed (each has its own pick-up and delivery). The "
        "order is *Delivered* when every item handed off was picked up and every parcel "
        "delivered; the 14-day withdrawal period starts from the last delivery.",
        "- ReturnReceived: items received `unused` are refunded (and put back in stock); "
        "`used` or `damaged` items are not refunded and the customer is told.",
        "- StockReplenished adds `quantity_added` to stock on hand and serves waiting "
        "(backordered) orders oldest first; each order whose lines are all reserved is sent "
        "as a new OrderProcessing.",
        "",
    ]


def render_markdown() -> str:
    """The text of docs/logistics-contract.md."""
    assert {code for code, _ in REPORT_REFUSALS} == {r.value for r in domain.ReportRefusal}
    lines = [
        *_intro(),
        *_every_message(),
        *_reports(),
        "## Messages the team reads",
        "",
    ]
    for event in LOGISTICS_READS:
        lines += _message_section(event, "Published by fulfillment")
    lines += ["## Messages the team writes", ""]
    for event in LOGISTICS_WRITES:
        lines += _message_section(event, "Written by the logistics team")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fulfillment.contract", description="Write or check the logistics contract"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    parser.add_argument("--output", type=Path, default=DOC_PATH)
    args = parser.parse_args(argv)
    text = render_markdown()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(
                f"{args.output} is out of date: run python -m fulfillment.contract", file=sys.stderr
            )
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
