"""Replay a service's dead-letter topic: list what is there, then send messages back to the
topic they came from, once the cause is fixed.

    python tools/dlq_replay.py --service payment list
    python tools/dlq_replay.py --service payment replay --all
    python tools/dlq_replay.py --service payment replay --offset 0:42 --offset 0:43
    python tools/dlq_replay.py --service payment replay --event-id 7c0e...

A replayed message is the original one, byte for byte (value, key, original headers), sent to
its original topic (header dlq-original-topic) with an idempotent producer (acks=all), in the
dead-letter topic's order, so one order's events keep their order. The dlq-* headers are
dropped; replayed-from (topic/partition/offset) and replay-count are added. Every consumer group
of that topic sees it again: the services' inboxes make a message they already applied change
nothing, and only the service that failed applies it now.

``replay --all`` replays what arrived after the previous ``replay --all`` (the position is kept
as the offsets of the consumer group ``ops-replay.<service>``), up to the end of the topic as it
was when the run started: a message that fails again lands in the dead-letter topic again and
waits for the next run, it is not replayed in a loop. Unreadable messages (dlq-reason
"unreadable": bad JSON, a broken contract, an unknown type) are skipped unless
--include-unreadable: sending them again fails again. --dry-run shows what would be sent.

Connection: --bootstrap (or JG_KAFKA_BOOTSTRAP_SERVERS), --prefix (JG_TOPIC_PREFIX), and for an
authenticated cluster JG_KAFKA_SECURITY_PROTOCOL, JG_KAFKA_SASL_MECHANISM,
JG_KAFKA_SASL_USERNAME, JG_KAFKA_SASL_PASSWORD, JG_KAFKA_SSL_CA_FILE (or the flags of the same
names). Output: one JSON object per message on stdout, then a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata

DLQ_PREFIX = "dlq-"
GROUP_PREFIX = "ops-replay"


@dataclass
class Options:
    bootstrap: str
    service: str
    prefix: str = ""
    command: str = "list"
    replay_all: bool = False
    offsets: set[tuple[int, int]] = field(default_factory=set)
    event_ids: set[str] = field(default_factory=set)
    include_unreadable: bool = False
    dry_run: bool = False
    from_beginning: bool = False
    security: dict[str, Any] = field(default_factory=dict)

    @property
    def topic(self) -> str:
        return f"{self.prefix}jg.{self.service}.dead-letter"

    @property
    def group(self) -> str:
        return f"{GROUP_PREFIX}.{self.prefix}{self.service}"


def _headers(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    return {k: v.decode("utf-8", "replace") for k, v in (record.headers or ())}


def describe(record: ConsumerRecord[bytes, bytes]) -> dict[str, Any]:
    h = _headers(record)
    return {
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key.decode("utf-8", "replace") if record.key else None,
        "event_type": h.get("event-type"),
        "event_id": h.get("event-id"),
        "correlation_id": h.get("correlation-id"),
        "reason": h.get("dlq-reason"),
        "error": h.get("dlq-error"),
        "attempts": h.get("dlq-attempts"),
        "failed_at": h.get("dlq-failed-at"),
        "original_topic": h.get("dlq-original-topic"),
        "replay_count": int(h.get("replay-count", "0")),
    }


def replay_headers(record: ConsumerRecord[bytes, bytes]) -> list[tuple[str, bytes]]:
    """The original headers, without the dead-letter ones, plus where the replay came from."""
    original = [(k, v) for k, v in (record.headers or ()) if not k.startswith(DLQ_PREFIX)]
    original = [(k, v) for k, v in original if k not in {"replayed-from", "replay-count"}]
    count = int(_headers(record).get("replay-count", "0")) + 1
    return [
        *original,
        ("replayed-from", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ("replay-count", str(count).encode()),
    ]


def _client_options(security: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    protocol = security.get("security_protocol") or "PLAINTEXT"
    options["security_protocol"] = protocol
    if "SSL" in protocol:
        cafile = security.get("ssl_cafile")
        options["ssl_context"] = ssl.create_default_context(cafile=cafile)
    if protocol.startswith("SASL"):
        options["sasl_mechanism"] = security.get("sasl_mechanism") or "SCRAM-SHA-512"
        options["sasl_plain_username"] = security.get("sasl_username")
        options["sasl_plain_password"] = security.get("sasl_password")
    return options


async def _read(
    opts: Options,
) -> tuple[list[ConsumerRecord[bytes, bytes]], dict[TopicPartition, int]]:
    """The records to consider (from the group's position, or the start) and the end offsets."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=opts.bootstrap,
        group_id=opts.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **_client_options(opts.security),
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(opts.topic)
        if partitions is None:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(opts.topic)
        if not partitions:
            raise SystemExit(f"no topic {opts.topic}")
        tps = [TopicPartition(opts.topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        starts = await consumer.beginning_offsets(tps)
        for tp in tps:
            committed = None if opts.from_beginning else await consumer.committed(tp)
            use_group = opts.command == "replay" and opts.replay_all and committed is not None
            consumer.seek(tp, committed if use_group else starts[tp])
        records: list[ConsumerRecord[bytes, bytes]] = []
        remaining = {tp for tp in tps if await consumer.position(tp) < ends[tp]}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, tp_records in batch.items():
                for record in tp_records:
                    if record.offset < ends[tp]:
                        records.append(record)
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return records, ends
    finally:
        await consumer.stop()


def _selected(opts: Options, record: ConsumerRecord[bytes, bytes]) -> bool:
    if opts.replay_all:
        return True
    info = describe(record)
    return (record.partition, record.offset) in opts.offsets or info["event_id"] in opts.event_ids


async def _commit(opts: Options, ends: dict[TopicPartition, int]) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=opts.bootstrap,
        group_id=opts.group,
        enable_auto_commit=False,
        **_client_options(opts.security),
    )
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.commit({tp: OffsetAndMetadata(end, "") for tp, end in ends.items()})
    finally:
        await consumer.stop()


async def run(opts: Options, out: Any = sys.stdout) -> dict[str, int]:
    records, ends = await _read(opts)
    summary = {"dead_letters": len(records), "replayed": 0, "skipped": 0}
    if opts.command == "list":
        for record in records:
            print(json.dumps({"action": "listed", **describe(record)}), file=out)
        return summary
    producer = None
    if not opts.dry_run:
        producer = AIOKafkaProducer(
            bootstrap_servers=opts.bootstrap,
            client_id=f"{GROUP_PREFIX}-{opts.service}",
            enable_idempotence=True,
            acks="all",
            **_client_options(opts.security),
        )
        await producer.start()
    try:
        for record in sorted(records, key=lambda r: (r.partition, r.offset)):
            if not _selected(opts, record):
                continue
            info = describe(record)
            target = info["original_topic"]
            if info["reason"] == "unreadable" and not opts.include_unreadable:
                action = "skipped: unreadable (use --include-unreadable)"
            elif not target:
                action = "skipped: no dlq-original-topic header"
            else:
                action = "would replay" if opts.dry_run else "replayed"
                if producer is not None:
                    await producer.send_and_wait(
                        target, value=record.value, key=record.key, headers=replay_headers(record)
                    )
            summary["replayed" if action in {"replayed", "would replay"} else "skipped"] += 1
            print(json.dumps({"action": action, "to": target, **info}), file=out)
    finally:
        if producer is not None:
            await producer.stop()
    if opts.replay_all and not opts.dry_run:
        await _commit(opts, ends)
    return summary


def _offsets(values: Iterable[str]) -> set[tuple[int, int]]:
    out = set()
    for value in values:
        partition, _, offset = value.partition(":")
        out.add((int(partition), int(offset)))
    return out


def parse(argv: list[str] | None = None) -> Options:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="dlq_replay", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--service", required=True, help="the service whose dead letters")
    parser.add_argument(
        "--bootstrap", default=env.get("JG_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument("--prefix", default=env.get("JG_TOPIC_PREFIX", ""), help="topic prefix")
    parser.add_argument("--security-protocol", default=env.get("JG_KAFKA_SECURITY_PROTOCOL"))
    parser.add_argument("--sasl-mechanism", default=env.get("JG_KAFKA_SASL_MECHANISM"))
    parser.add_argument("--sasl-username", default=env.get("JG_KAFKA_SASL_USERNAME"))
    parser.add_argument("--sasl-password", default=env.get("JG_KAFKA_SASL_PASSWORD"))
    parser.add_argument("--ssl-cafile", default=env.get("JG_KAFKA_SSL_CA_FILE"))
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="print every dead letter (nothing is sent)")
    replay = sub.add_parser("replay", help="send dead letters back to their original topic")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="all since the previous --all run")
    which.add_argument("--offset", action="append", default=[], metavar="PARTITION:OFFSET")
    which.add_argument("--event-id", action="append", default=[])
    replay.add_argument("--include-unreadable", action="store_true")
    replay.add_argument("--dry-run", action="store_true")
    replay.add_argument(
        "--from-beginning", action="store_true", help="with --all: ignore the saved position"
    )
    args = parser.parse_args(argv)
    return Options(
        bootstrap=args.bootstrap,
        service=args.service,
        prefix=args.prefix,
        command=args.command,
        replay_all=getattr(args, "all", False),
        offsets=_offsets(getattr(args, "offset", [])),
        event_ids=set(getattr(args, "event_id", [])),
        include_unreadable=getattr(args, "include_unreadable", False),
        dry_run=getattr(args, "dry_run", False),
        from_beginning=getattr(args, "from_beginning", False),
        security={
            "security_protocol": args.security_protocol,
            "sasl_mechanism": args.sasl_mechanism,
            "sasl_username": args.sasl_username,
            "sasl_password": args.sasl_password,
            "ssl_cafile": args.ssl_cafile,
        },
    )


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    summary = asyncio.run(run(opts))
    print(json.dumps({"summary": summary, "topic": opts.topic}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
