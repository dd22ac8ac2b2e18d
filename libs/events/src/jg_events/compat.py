"""Find breaking changes between two JSON schemas of the same event version.

Events are read by consumers deployed at other times than producers, and replayed (outbox rows
written before a deploy, dead letters re-driven, topics re-read). A schema change is therefore
breaking when an old reader cannot read new messages **or** a new reader cannot read old ones:

* ``field_removed``: a field disappears (a rename is a removal plus an addition);
* ``required_field_added``: a new field is required (old messages do not have it);
* ``field_made_required`` / ``field_made_optional``: the field's presence rule changed;
* ``field_retyped``: the JSON type changed, including a new or removed ``null`` variant,
  a different string format or pattern (a date becoming a date-time, money becoming free text),
  an array becoming an object, a constant changed;
* ``enum_value_removed``: new readers refuse old messages carrying the value;
* ``enum_value_added``: old readers (which validate enums strictly) refuse the new value.

Adding an optional field is not breaking: every model ignores fields it does not know.
Nested objects are compared recursively, following ``$ref`` into ``$defs``. Numeric and length
bounds and descriptions are not compared.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["BreakingChange", "ChangeKind", "breaking_changes"]

Schema = Mapping[str, Any]


class ChangeKind(StrEnum):
    FIELD_REMOVED = "field_removed"
    REQUIRED_FIELD_ADDED = "required_field_added"
    FIELD_MADE_REQUIRED = "field_made_required"
    FIELD_MADE_OPTIONAL = "field_made_optional"
    FIELD_RETYPED = "field_retyped"
    ENUM_VALUE_REMOVED = "enum_value_removed"
    ENUM_VALUE_ADDED = "enum_value_added"


@dataclass(frozen=True)
class BreakingChange:
    """One incompatibility, located by a dotted path (``payload.lines[].unit_price``)."""

    path: str
    kind: ChangeKind
    detail: str

    def __str__(self) -> str:
        return f"{self.path or '<root>'}: {self.kind.value}: {self.detail}"


def breaking_changes(old: Schema, new: Schema) -> list[BreakingChange]:
    """Every breaking change from schema ``old`` to schema ``new`` (empty when compatible)."""
    return list(_Comparer(old, new).compare(old, new, "", frozenset()))


_SHAPE_KEYWORDS = ("format", "pattern", "const", "contentEncoding", "contentMediaType")


class _Comparer:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _resolve(root: Schema, node: Schema) -> tuple[Schema, str | None]:
        """Follow ``$ref`` (local refs only); merge sibling keywords of the ref."""
        ref: str | None = None
        seen: set[str] = set()
        while "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise ValueError(f"only local $ref are supported, got {ref!r}")
            if ref in seen:
                raise ValueError(f"$ref cycle through {ref}")
            seen.add(ref)
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node = {**target, **siblings}
        return node, ref

    def _variants(self, root: Schema, node: Schema) -> list[tuple[Schema, str | None]]:
        node, ref = self._resolve(root, node)
        for key in ("anyOf", "oneOf"):
            if key in node:
                out: list[tuple[Schema, str | None]] = []
                for sub in node[key]:
                    out.extend(self._variants(root, sub))
                return out
        if isinstance(node.get("type"), list):  # {"type": ["string", "null"]}
            return [({**node, "type": t}, ref) for t in node["type"]]
        return [(node, ref)]

    @staticmethod
    def _kind(node: Schema) -> str:
        if "type" in node:
            return str(node["type"])
        if "properties" in node:
            return "object"
        if "items" in node or "prefixItems" in node:
            return "array"
        if "const" in node:
            return type(node["const"]).__name__
        if "enum" in node:
            kinds = {type(v).__name__ for v in node["enum"]}
            return "enum:" + ",".join(sorted(kinds))
        return "any"

    @staticmethod
    def _join(path: str, name: str) -> str:
        return f"{path}.{name}" if path else name

    # -- comparison -------------------------------------------------------------------------

    def compare(
        self, old: Schema, new: Schema, path: str, stack: frozenset[tuple[str, str]]
    ) -> Iterator[BreakingChange]:
        old_variants = self._variants(self.old_root, old)
        new_variants = self._variants(self.new_root, new)
        old_by_kind = self._group(old_variants)
        new_by_kind = self._group(new_variants)
        for kind in sorted(old_by_kind.keys() - new_by_kind.keys()):
            yield BreakingChange(path, ChangeKind.FIELD_RETYPED, f"no longer accepts {kind}")
        for kind in sorted(new_by_kind.keys() - old_by_kind.keys()):
            yield BreakingChange(path, ChangeKind.FIELD_RETYPED, f"now also accepts {kind}")
        for kind in sorted(old_by_kind.keys() & new_by_kind.keys()):
            olds, news = old_by_kind[kind], new_by_kind[kind]
            if len(olds) == 1 and len(news) == 1:
                yield from self._compare_same_kind(olds[0], news[0], path, stack)
                continue
            # Several objects in a union: pair them by title (class name).
            new_titled = {n.get("title"): (n, r) for n, r in news}
            for node, ref in olds:
                title = node.get("title")
                if title not in new_titled:
                    yield BreakingChange(
                        path, ChangeKind.FIELD_RETYPED, f"variant {title or kind} removed"
                    )
                    continue
                yield from self._compare_same_kind((node, ref), new_titled.pop(title), path, stack)
            for title in sorted(str(t) for t in new_titled):
                yield BreakingChange(path, ChangeKind.FIELD_RETYPED, f"variant {title} added")

    def _group(
        self, variants: list[tuple[Schema, str | None]]
    ) -> dict[str, list[tuple[Schema, str | None]]]:
        groups: dict[str, list[tuple[Schema, str | None]]] = {}
        for node, ref in variants:
            groups.setdefault(self._kind(node), []).append((node, ref))
        return groups

    def _compare_same_kind(
        self,
        old: tuple[Schema, str | None],
        new: tuple[Schema, str | None],
        path: str,
        stack: frozenset[tuple[str, str]],
    ) -> Iterator[BreakingChange]:
        (old_node, old_ref), (new_node, new_ref) = old, new
        if old_ref is not None and new_ref is not None:
            if (old_ref, new_ref) in stack:
                return  # recursive structure already being compared on this path
            stack = stack | {(old_ref, new_ref)}
        yield from self._compare_enum(old_node, new_node, path)
        for keyword in _SHAPE_KEYWORDS:
            if old_node.get(keyword) != new_node.get(keyword):
                yield BreakingChange(
                    path,
                    ChangeKind.FIELD_RETYPED,
                    f"{keyword} changed from {old_node.get(keyword)!r} "
                    f"to {new_node.get(keyword)!r}",
                )
        kind = self._kind(old_node)
        if kind == "object":
            yield from self._compare_object(old_node, new_node, path, stack)
        elif kind == "array":
            yield from self._compare_array(old_node, new_node, path, stack)

    def _compare_enum(self, old: Schema, new: Schema, path: str) -> Iterator[BreakingChange]:
        if "enum" not in old and "enum" not in new:
            return
        if "enum" not in old or "enum" not in new:
            change = "became an enum" if "enum" in new else "is no longer an enum"
            yield BreakingChange(path, ChangeKind.FIELD_RETYPED, change)
            return
        old_values, new_values = list(old["enum"]), list(new["enum"])
        for value in old_values:
            if value not in new_values:
                yield BreakingChange(path, ChangeKind.ENUM_VALUE_REMOVED, f"{value!r} removed")
        for value in new_values:
            if value not in old_values:
                yield BreakingChange(path, ChangeKind.ENUM_VALUE_ADDED, f"{value!r} added")

    def _compare_object(
        self, old: Schema, new: Schema, path: str, stack: frozenset[tuple[str, str]]
    ) -> Iterator[BreakingChange]:
        old_props: Mapping[str, Any] = old.get("properties", {})
        new_props: Mapping[str, Any] = new.get("properties", {})
        old_required = set(old.get("required", ()))
        new_required = set(new.get("required", ()))
        for name in old_props:
            field_path = self._join(path, name)
            if name not in new_props:
                yield BreakingChange(field_path, ChangeKind.FIELD_REMOVED, "field removed")
                continue
            if name in new_required and name not in old_required:
                yield BreakingChange(
                    field_path, ChangeKind.FIELD_MADE_REQUIRED, "optional field made required"
                )
            elif name in old_required and name not in new_required:
                yield BreakingChange(
                    field_path, ChangeKind.FIELD_MADE_OPTIONAL, "required field made optional"
                )
            yield from self.compare(old_props[name], new_props[name], field_path, stack)
        for name in new_props:
            if name not in old_props and name in new_required:
                yield BreakingChange(
                    self._join(path, name),
                    ChangeKind.REQUIRED_FIELD_ADDED,
                    "new required field (old messages lack it)",
                )
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_extra, Mapping) and isinstance(new_extra, Mapping):
            yield from self.compare(old_extra, new_extra, self._join(path, "{}"), stack)

    def _compare_array(
        self, old: Schema, new: Schema, path: str, stack: frozenset[tuple[str, str]]
    ) -> Iterator[BreakingChange]:
        old_items, new_items = old.get("items"), new.get("items")
        if isinstance(old_items, Mapping) and isinstance(new_items, Mapping):
            yield from self.compare(old_items, new_items, f"{path}[]", stack)
        elif (old_items is None) != (new_items is None):
            yield BreakingChange(path, ChangeKind.FIELD_RETYPED, "array items changed")
        old_prefix, new_prefix = old.get("prefixItems", []), new.get("prefixItems", [])
        if len(old_prefix) != len(new_prefix):
            yield BreakingChange(path, ChangeKind.FIELD_RETYPED, "tuple length changed")
        for index, (o, n) in enumerate(zip(old_prefix, new_prefix, strict=False)):
            yield from self.compare(o, n, f"{path}[{index}]", stack)
