"""THE contract test: the published event schemas (committed files) still describe the code.

A change that breaks a published contract (a field removed, renamed, retyped, made required, an
enum value removed...) must come as a new schema version: a new event class with
``schema_version + 1`` and its own file. This test compares the schema generated from the code
with the committed file of the same version, both in the working tree and at git HEAD (so
regenerating the file does not hide a break before it is committed).
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jg_events import ALL_EVENTS, Event, OrderPlaced, breaking_changes
from jg_events.schemas import (
    SCHEMA_DIR,
    BreakingSchemaChangeError,
    check,
    envelope_schema,
    export,
    render,
    schema_filename,
)

pytestmark = pytest.mark.unit

REPO = SCHEMA_DIR.parents[2]


def _git_head_version(path: Path) -> dict[str, Any] | None:
    """The file as committed at HEAD, or None (no git, not a repo, or not yet committed)."""
    git = shutil.which("git")
    if git is None:
        return None
    result = subprocess.run(
        [git, "-C", str(REPO), "show", f"HEAD:{path.relative_to(REPO).as_posix()}"],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        return None
    return json.loads(result.stdout)


@pytest.mark.parametrize("event", ALL_EVENTS, ids=schema_filename)
def test_no_breaking_change_against_the_committed_schema(event: type[Event]) -> None:
    path = SCHEMA_DIR / schema_filename(event)
    assert path.exists(), (
        f"{path.name} is missing: run `uv run python -m jg_events.schemas export` and commit it"
    )
    current = envelope_schema(event)
    baselines = {"working tree": json.loads(path.read_text(encoding="utf-8"))}
    head = _git_head_version(path)
    if head is not None:
        baselines["git HEAD"] = head
    for where, published in baselines.items():
        changes = breaking_changes(published, current)
        assert not changes, (
            f"{event.event_type} v{event.schema_version} breaks its published schema "
            f"({where}); add a new schema version instead:\n  "
            + "\n  ".join(str(change) for change in changes)
        )


def test_committed_schema_files_are_up_to_date() -> None:
    problems = check()
    assert problems == [], "\n".join(
        [*problems, "run `uv run python -m jg_events.schemas export` and commit the files"]
    )


def test_export_is_deterministic_and_ends_with_a_newline(tmp_path: Path) -> None:
    written = export(tmp_path)
    assert len(written) == len(ALL_EVENTS)
    first = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert export(tmp_path) == []  # nothing to rewrite
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == first
    text = first["OrderPlaced.v1.json"].decode()
    assert text.endswith("}\n")
    assert text == render(json.loads(text))  # sorted keys, stable indentation


def test_export_refuses_to_rewrite_a_published_contract_incompatibly(tmp_path: Path) -> None:
    path = tmp_path / "OrderPlaced.v1.json"
    published = envelope_schema(OrderPlaced)
    # The published contract had a field the code no longer has.
    published["$defs"]["Address"]["properties"]["region"] = {"type": "string"}
    path.write_text(render(published), encoding="utf-8")
    before = path.read_text(encoding="utf-8")

    with pytest.raises(BreakingSchemaChangeError, match="region"):
        export(tmp_path, events=[OrderPlaced])
    assert path.read_text(encoding="utf-8") == before
    [problem] = check(tmp_path, events=[OrderPlaced])
    assert "BREAKING" in problem
    assert "payload.shipping_address.region: field_removed" in problem

    export(tmp_path, events=[OrderPlaced], force=True)
    assert check(tmp_path, events=[OrderPlaced]) == []


def test_cli_check_fails_on_stale_files(tmp_path: Path) -> None:
    export(tmp_path)
    stale = tmp_path / "Shipped.v1.json"
    schema = json.loads(stale.read_text(encoding="utf-8"))
    schema["description"] = "stale"
    stale.write_text(render(schema), encoding="utf-8")
    command = [sys.executable, "-m", "jg_events.schemas", "check", "--dir", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "Shipped.v1.json: out of date" in result.stderr
    stale.unlink()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "Shipped.v1.json: missing" in result.stderr
    export(tmp_path)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
