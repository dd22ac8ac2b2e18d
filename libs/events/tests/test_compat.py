"""The schema compatibility checker reports what breaks readers, and only that."""

import copy
from enum import StrEnum
from typing import Any

import pytest
from jg_events import OrderPlaced, breaking_changes
from jg_events.compat import ChangeKind
from jg_events.schemas import envelope_schema
from pydantic import BaseModel

pytestmark = pytest.mark.unit


class Line(BaseModel):
    sku: str
    quantity: int


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class V1(BaseModel):
    order_id: str
    quantity: int
    note: str | None = None
    colour: Colour
    line: Line


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def _kinds(old: type[BaseModel], new: type[BaseModel]) -> set[tuple[str, ChangeKind]]:
    return {(c.path, c.kind) for c in breaking_changes(_schema(old), _schema(new))}


def test_identical_schemas_have_no_breaking_change() -> None:
    assert breaking_changes(_schema(V1), _schema(V1)) == []


def test_added_optional_field_is_not_breaking() -> None:
    class V2(V1):
        gift_message: str | None = None
        priority: int = 0

    assert breaking_changes(_schema(V1), _schema(V2)) == []


def test_removed_field_is_breaking() -> None:
    class V2(BaseModel):
        order_id: str
        note: str | None = None
        colour: Colour
        line: Line

    assert _kinds(V1, V2) == {("quantity", ChangeKind.FIELD_REMOVED)}


def test_renamed_field_is_breaking() -> None:
    class V2(BaseModel):
        order_id: str
        qty: int
        note: str | None = None
        colour: Colour
        line: Line

    assert _kinds(V1, V2) == {
        ("quantity", ChangeKind.FIELD_REMOVED),
        ("qty", ChangeKind.REQUIRED_FIELD_ADDED),
    }


def test_retyped_field_is_breaking() -> None:
    class V2(BaseModel):
        order_id: str
        quantity: str
        note: str | None = None
        colour: Colour
        line: Line

    assert _kinds(V1, V2) == {("quantity", ChangeKind.FIELD_RETYPED)}


def test_made_required_and_nullability_changes_are_breaking() -> None:
    class V2(BaseModel):
        order_id: str | None
        quantity: int
        note: str
        colour: Colour
        line: Line

    assert _kinds(V1, V2) == {
        ("note", ChangeKind.FIELD_MADE_REQUIRED),
        ("note", ChangeKind.FIELD_RETYPED),  # no longer accepts null
        ("order_id", ChangeKind.FIELD_RETYPED),  # now also accepts null
    }


def test_enum_value_removed_or_added_is_breaking() -> None:
    class Fewer(StrEnum):
        RED = "red"

    class More(StrEnum):
        RED = "red"
        BLUE = "blue"
        GREEN = "green"

    class V2(V1):
        colour: Fewer  # type: ignore[assignment]

    class V3(V1):
        colour: More  # type: ignore[assignment]

    assert _kinds(V1, V2) == {("colour", ChangeKind.ENUM_VALUE_REMOVED)}
    assert _kinds(V1, V3) == {("colour", ChangeKind.ENUM_VALUE_ADDED)}


def test_nested_objects_are_compared_through_refs() -> None:
    class Line2(BaseModel):
        sku: int
        quantity: int

    class V2(V1):
        line: Line2  # type: ignore[assignment]

    assert _kinds(V1, V2) == {("line.sku", ChangeKind.FIELD_RETYPED)}


def test_real_event_schema_removed_and_retyped_nested_fields_are_found() -> None:
    old = envelope_schema(OrderPlaced)
    new = copy.deepcopy(old)
    del new["$defs"]["Address"]["properties"]["city"]
    new["$defs"]["OrderLine"]["properties"]["unit_price"] = {"type": "number"}
    found = {(c.path, c.kind) for c in breaking_changes(old, new)}
    assert found == {
        ("payload.shipping_address.city", ChangeKind.FIELD_REMOVED),
        ("payload.billing_address.city", ChangeKind.FIELD_REMOVED),
        ("payload.lines[].unit_price", ChangeKind.FIELD_RETYPED),
    }


def test_money_becoming_free_text_is_breaking() -> None:
    old = envelope_schema(OrderPlaced)
    new = copy.deepcopy(old)
    del new["$defs"]["Totals"]["properties"]["total"]["pattern"]
    changes = breaking_changes(old, new)
    assert [(c.path, c.kind) for c in changes] == [
        ("payload.totals.total", ChangeKind.FIELD_RETYPED)
    ]
    assert "pattern" in str(changes[0])


def test_recursive_schemas_terminate() -> None:
    class Node(BaseModel):
        name: str
        children: list["Node"] = []

    assert breaking_changes(_schema(Node), _schema(Node)) == []
