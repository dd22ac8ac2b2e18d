"""Apply erasures again after a database was restored from a backup taken before them.

    python tools/erasure_replay.py --dsn "$ACCOUNTS_DATABASE_URL" list --since 2026-11-20
    python tools/erasure_replay.py --dsn "$ACCOUNTS_DATABASE_URL" replay --since 2026-11-20
    python tools/erasure_replay.py --dsn "$ACCOUNTS_DATABASE_URL" export > erasures.jsonl
    python tools/erasure_replay.py --dsn "$ACCOUNTS_DATABASE_URL" import erasures.jsonl

Accounts keeps the erasure list (table ``erasure_requests``): every CustomerErasureRequested it
applied, with its original event id, and the customer's address only when they proved they own
it and for ERASURE_ADDRESS_KEPT_DAYS (35) days, as long as a backup may hold data found by it.

``replay`` writes the requests made since ``--since`` (or those of ``--customer``) back into
accounts' outbox, with their original event ids; accounts' relay publishes them to
jg.accounts.customers and then forgets the copies. Every service whose database already applied
a request finds its event id in its inbox and changes nothing (no second email, no second
announcement); a service whose database was restored to before it applies it again. Give as
``--since`` the time the restored backup was taken (or a little before).

``list`` prints the list without addresses. ``export`` prints it with the addresses it still
keeps, and ``import`` puts such an export back: before restoring accounts' own database, export
the list from the live one; after the restore, import it, then replay (accounts' handler erases
again without announcing it twice). An export holds personal data: delete it once imported.

Output: one JSON object per request on stdout, then a summary on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from uuid import UUID

import asyncpg
from jg_events import CustomerErasureRequested, Envelope, ErasureRequestedBy, kafka_headers

_COLUMNS = (
    "customer_id, customer_number, event_id, occurred_at, correlation_id, topic, requested_at, "
    "requested_by, email_verified, email, email_forgotten_at, recorded_at"
)


@dataclass
class Options:
    dsn: str
    command: str
    since: datetime | None = None
    customers: tuple[UUID, ...] = ()
    dry_run: bool = False
    lines: tuple[str, ...] = ()  # import: the export's lines


def placeholder_email(customer_id: UUID) -> str:
    """The address a request is published again with when its own is not kept (an unproven
    one, never used to erase; or one past the backups' retention): it reaches no one."""
    return f"erased-{customer_id.hex[:16]}@erased.invalid"


def envelope_of(row: asyncpg.Record | dict[str, Any]) -> Envelope[CustomerErasureRequested]:
    """The request as first published: same event id, time, correlation; no name (a
    placeholder), and the address only when kept (then the services erase by it again)."""
    email = row["email"]
    request = CustomerErasureRequested(
        customer_id=row["customer_id"],
        customer_number=row["customer_number"],
        email=email or placeholder_email(row["customer_id"]),
        first_name="Client",
        requested_at=row["requested_at"],
        requested_by=ErasureRequestedBy(row["requested_by"]),
        email_verified=email is not None,
    )
    return Envelope.wrap(
        request,
        correlation_id=row["correlation_id"],
        event_id=row["event_id"],
        occurred_at=row["occurred_at"],
    )


def describe(row: asyncpg.Record | dict[str, Any], *, with_address: bool) -> dict[str, Any]:
    described = {
        "customer_id": str(row["customer_id"]),
        "customer_number": row["customer_number"],
        "event_id": str(row["event_id"]),
        "requested_at": row["requested_at"].isoformat(),
        "requested_by": row["requested_by"],
        "email_verified": row["email_verified"],
        "address_kept": row["email"] is not None,
    }
    if with_address:
        described.update(
            occurred_at=row["occurred_at"].isoformat(),
            correlation_id=row["correlation_id"],
            topic=row["topic"],
            email=row["email"],
        )
    return described


async def requests(conn: asyncpg.Connection, opts: Options) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"""SELECT {_COLUMNS} FROM erasure_requests
                WHERE ($1::timestamptz IS NULL OR requested_at >= $1)
                  AND (cardinality($2::uuid[]) = 0 OR customer_id = ANY($2::uuid[]))
                ORDER BY requested_at, customer_id""",  # noqa: S608 (constant columns)
            opts.since,
            list(opts.customers),
        )
    )


async def republish(conn: asyncpg.Connection, row: asyncpg.Record) -> None:
    """Write the request back into accounts' outbox (a copy still there goes out again); the
    relay publishes it, then deletes it (forget_after_send)."""
    envelope = envelope_of(row)
    await conn.execute(
        """INSERT INTO messaging_outbox
               (event_id, event_type, topic, message_key, headers, body, forget_after_send)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, true)
           ON CONFLICT (event_id) DO UPDATE
           SET body = EXCLUDED.body, headers = EXCLUDED.headers, sent_at = NULL,
               parked_at = NULL, next_attempt_at = NULL, attempts = 0, last_error = NULL,
               forget_after_send = true""",
        envelope.event_id,
        envelope.type,
        row["topic"],
        envelope.key,
        json.dumps(kafka_headers(envelope)),
        envelope.model_dump_json().encode(),
    )


async def import_rows(conn: asyncpg.Connection, lines: tuple[str, ...], out: TextIO) -> int:
    imported = 0
    for line in lines:
        if not line.strip():
            continue
        data = json.loads(line)
        recorded = await conn.fetchval(
            """INSERT INTO erasure_requests (customer_id, customer_number, event_id, occurred_at,
                   correlation_id, topic, requested_at, requested_by, email_verified, email)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
               ON CONFLICT DO NOTHING RETURNING true""",
            UUID(data["customer_id"]),
            data["customer_number"],
            UUID(data["event_id"]),
            datetime.fromisoformat(data["occurred_at"]),
            data["correlation_id"],
            data["topic"],
            datetime.fromisoformat(data["requested_at"]),
            data["requested_by"],
            data["email_verified"],
            data["email"],
        )
        action = "imported" if recorded else "skipped: already listed"
        print(json.dumps({"action": action, "customer_id": data["customer_id"]}), file=out)
        imported += int(bool(recorded))
    return imported


async def run(opts: Options, out: TextIO = sys.stdout) -> dict[str, int]:
    conn = await asyncpg.connect(opts.dsn)
    try:
        if opts.command == "import":
            return {"imported": await import_rows(conn, opts.lines, out)}
        chosen = await requests(conn, opts)
        if opts.command in ("list", "export"):
            for row in chosen:
                line = describe(row, with_address=opts.command == "export")
                print(json.dumps({"action": "listed", **line}), file=out)
            return {"listed": len(chosen)}
        action = "would replay" if opts.dry_run else "replayed"
        if not opts.dry_run:
            async with conn.transaction():
                for row in chosen:
                    await republish(conn, row)
                await conn.execute("SELECT pg_notify('messaging_outbox', '')")  # on commit
        for row in chosen:
            print(json.dumps({"action": action, **describe(row, with_address=False)}), file=out)
        return {"replayed": len(chosen)}
    finally:
        await conn.close()


def _when(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="erasure_replay", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--dsn", required=True, help="accounts' database (ACCOUNTS_DATABASE_URL)")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("list", "the requests on the list (no address)"),
        ("export", "the list with the addresses it keeps, to import after a restore of accounts"),
        ("replay", "publish the requests again, with their original event ids"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument(
            "--since",
            type=_when,
            help="requests made at or after this time (ISO 8601; UTC when no offset is given)",
        )
        command.add_argument(
            "--customer", type=UUID, action="append", default=[], help="only this customer id"
        )
        if name == "replay":
            command.add_argument(
                "--dry-run", action="store_true", help="show what would be replayed, change nothing"
            )
    imported = commands.add_parser("import", help="put an export back on the list")
    imported.add_argument("file", help="a file written by export")
    args = parser.parse_args(argv)
    if args.command == "replay" and args.since is None and not args.customer:
        parser.error("replay needs --since (when the restored backup was taken) or --customer")
    return Options(
        dsn=args.dsn,
        command=args.command,
        since=getattr(args, "since", None),
        customers=tuple(getattr(args, "customer", ())),
        dry_run=getattr(args, "dry_run", False),
        lines=(
            tuple(Path(args.file).read_text(encoding="utf-8").splitlines())
            if args.command == "import"
            else ()
        ),
    )


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    summary = asyncio.run(run(opts))
    print(json.dumps({"summary": summary, "dry_run": opts.dry_run}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
