"""List a service's parked outbox rows, then put them back to pending once the cause is fixed.

    python tools/outbox_replay.py --dsn "$PAYMENT_DATABASE_URL"             # list parked rows
    python tools/outbox_replay.py --dsn "$PAYMENT_DATABASE_URL" --replay 42 43
    python tools/outbox_replay.py --dsn "$PAYMENT_DATABASE_URL" --all --dry-run
    python tools/outbox_replay.py --dsn "$PAYMENT_DATABASE_URL" --all

The outbox relay parks a row that failed to publish <SERVICE>_OUTBOX_PARK_AFTER_ATTEMPTS times
on its own account (a record larger than Kafka accepts, a topic the service may not write...);
rows of the same key (one order's later events) wait behind it. Without an option the tool
lists the parked rows: id, event type and id, topic, key, attempts, last error, when it was
parked and how many rows of its key wait behind it. --replay ID... or --all puts them back to
pending with their attempts reset and wakes the relays: the row is published again, then the
rows that waited behind it, in order. A row that fails again is parked again after the same
number of attempts. --dry-run shows what would be replayed and changes nothing.

Output: one JSON object per row on stdout, then a summary on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

import asyncpg
from jg_messaging.outbox import parked, replay_parked


@dataclass
class Options:
    dsn: str
    replay_ids: list[int] = field(default_factory=list)
    replay_all: bool = False
    dry_run: bool = False

    @property
    def command(self) -> str:
        return "replay" if self.replay_all or self.replay_ids else "list"


def describe(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "event_type": row["event_type"],
        "event_id": str(row["event_id"]),
        "topic": row["topic"],
        "key": row["message_key"],
        "attempts": row["attempts"],
        "error": row["last_error"],
        "created_at": row["created_at"].isoformat(),
        "parked_at": row["parked_at"].isoformat(),
        "waiting_behind": row["waiting_behind"],
    }


async def run(opts: Options, out: TextIO = sys.stdout) -> dict[str, int]:
    conn = await asyncpg.connect(opts.dsn)
    try:
        everything = await parked(conn)
        summary = {"parked": len(everything), "replayed": 0, "skipped": 0}
        if opts.command == "list":
            for row in everything:
                print(json.dumps({"action": "listed", **describe(row)}), file=out)
            return summary
        ids = None if opts.replay_all else opts.replay_ids
        if opts.dry_run:
            chosen, action = await parked(conn, ids), "would replay"
        else:
            chosen, action = await replay_parked(conn, ids), "replayed"
        for row in chosen:
            print(json.dumps({"action": action, **describe(row)}), file=out)
        summary["replayed"] = len(chosen)
        found = {row["id"] for row in chosen}
        for missing in sorted(set(opts.replay_ids) - found):
            print(json.dumps({"action": "skipped: not parked", "id": missing}), file=out)
            summary["skipped"] += 1
        return summary
    finally:
        await conn.close()


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="outbox_replay", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument(
        "--dsn", required=True, help="the service's database (its <SERVICE>_DATABASE_URL)"
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--replay", nargs="+", type=int, default=[], metavar="ID", help="replay these rows"
    )
    which.add_argument("--all", action="store_true", help="replay every parked row")
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would be replayed, change nothing"
    )
    args = parser.parse_args(argv)
    if args.dry_run and not (args.replay or args.all):
        parser.error("--dry-run goes with --replay or --all")
    return Options(dsn=args.dsn, replay_ids=args.replay, replay_all=args.all, dry_run=args.dry_run)


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    summary = asyncio.run(run(opts))
    print(json.dumps({"summary": summary, "dry_run": opts.dry_run}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
