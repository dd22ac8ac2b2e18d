"""JSON Schema of every event envelope, exported into the repository.

Each event version has one file, ``libs/events/schemas/<EventType>.v<version>.json``: the schema
of the whole envelope with that payload. The committed files are the published contracts:

    uv run python -m jg_events.schemas export   # write the files (refuses breaking rewrites)
    uv run python -m jg_events.schemas check    # exit 1 when a file is missing or out of date

``export`` refuses to overwrite a committed file with a breaking change (see
:mod:`jg_events.compat`): add a new event class with ``schema_version + 1`` instead, and keep the
old one while consumers still read it. ``--force`` exists for a contract that was never
published. Files of versions no longer in the code are left alone (they document history).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jg_events.compat import BreakingChange, breaking_changes
from jg_events.envelope import Envelope, Event
from jg_events.registry import ALL_EVENTS

__all__ = [
    "SCHEMA_DIR",
    "BreakingSchemaChangeError",
    "check",
    "envelope_schema",
    "export",
    "render",
    "schema_filename",
]

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
"""``libs/events/schemas`` in the repository (this package is installed editable)."""

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class BreakingSchemaChangeError(Exception):
    """Exporting would rewrite a published contract incompatibly."""

    def __init__(self, changes: dict[str, list[BreakingChange]]) -> None:
        self.changes = changes
        lines = [f"{name}: {change}" for name, found in sorted(changes.items()) for change in found]
        super().__init__(
            "breaking changes to published event schemas (add a new schema_version instead):\n  "
            + "\n  ".join(lines)
        )


def schema_filename(event: type[Event]) -> str:
    """``OrderPlaced.v1.json``."""
    return f"{event.event_type}.v{event.schema_version}.json"


def envelope_schema(event: type[Event]) -> dict[str, Any]:
    """The JSON Schema of ``Envelope[event]`` (what a Kafka message of this event looks like)."""
    schema = Envelope[event].model_json_schema()  # type: ignore[valid-type]
    schema["$schema"] = JSON_SCHEMA_DIALECT
    return schema


def render(schema: dict[str, Any]) -> str:
    """Deterministic text of a schema: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _expected(events: Sequence[type[Event]]) -> dict[str, str]:
    return {schema_filename(event): render(envelope_schema(event)) for event in events}


def export(
    directory: Path = SCHEMA_DIR,
    *,
    force: bool = False,
    events: Sequence[type[Event]] = ALL_EVENTS,
) -> list[Path]:
    """Write the schema files that are missing or different; return the paths written.

    Raises :class:`BreakingSchemaChangeError` (writing nothing) when a file would change in a
    breaking way, unless ``force``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    expected = _expected(events)
    to_write: dict[Path, str] = {}
    breaking: dict[str, list[BreakingChange]] = {}
    for name, text in expected.items():
        path = directory / name
        if path.exists():
            current = path.read_text(encoding="utf-8")
            if current == text:
                continue
            changes = breaking_changes(json.loads(current), json.loads(text))
            if changes:
                breaking[name] = changes
        to_write[path] = text
    if breaking and not force:
        raise BreakingSchemaChangeError(breaking)
    for path, text in to_write.items():
        path.write_text(text, encoding="utf-8")
    return sorted(to_write)


def check(directory: Path = SCHEMA_DIR, *, events: Sequence[type[Event]] = ALL_EVENTS) -> list[str]:
    """Problems with the exported files (empty when every file is present and up to date)."""
    problems: list[str] = []
    for name, text in _expected(events).items():
        path = directory / name
        if not path.exists():
            problems.append(f"{name}: missing")
            continue
        current = path.read_text(encoding="utf-8")
        if current == text:
            continue
        changes = breaking_changes(json.loads(current), json.loads(text))
        if changes:
            problems.append(
                f"{name}: BREAKING change to a published contract (add a new schema_version): "
                + "; ".join(str(change) for change in changes)
            )
        else:
            problems.append(f"{name}: out of date (compatible change; run export)")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jg_events.schemas", description="Export or check event JSON schemas."
    )
    parser.add_argument("command", choices=["export", "check"])
    parser.add_argument(
        "--dir", type=Path, default=SCHEMA_DIR, help=f"schema directory (default: {SCHEMA_DIR})"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="export: overwrite even with breaking changes (only for never-published contracts)",
    )
    args = parser.parse_args(argv)
    if args.command == "export":
        try:
            written = export(args.dir, force=args.force)
        except BreakingSchemaChangeError as exc:
            print(exc, file=sys.stderr)
            return 1
        for path in written:
            print(f"wrote {path}")
        print(f"{len(ALL_EVENTS)} event schemas in {args.dir} ({len(written)} written)")
        return 0
    problems = check(args.dir)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(
            "event schemas out of date: run `uv run python -m jg_events.schemas export`",
            file=sys.stderr,
        )
        return 1
    print(f"{len(ALL_EVENTS)} event schemas up to date in {args.dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
