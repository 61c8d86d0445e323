"""`dunning`: recovery tools for operators.

    dunning dlq list lending.repayment-events.v1          what is dead-lettered, with the reason
    dunning dlq redrive lending.repayment-events.v1 --partition 0 --offset 3 --offset 7   (or --all)
    dunning outbox status ingestion
    dunning outbox republish ingestion --since 2026-11-27T00:00:00Z
    dunning tokens issue --name acme --scope events:write --lender acme | list | revoke ID

A re-driven message keeps its CloudEvents id, so a consumer that already applied it skips it; one that
dead-lettered it applies it now. Re-publishing the outbox refills a broker that lost its memory."""

import argparse
import asyncio
import json
import os
import sys
from datetime import datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import create_async_engine

from dunning_contracts import dlq_topic
from dunning_messaging.tables import messaging_tables
from dunning_platform.auth import SCOPES, issue_token, revoke_token
from dunning_platform.db import service_metadata


def _bootstrap() -> str:
    return os.environ.get("DUNNING_KAFKA_BOOTSTRAP", "127.0.0.1:9092")


async def read_dead_letters(topic: str) -> list:
    """Every record of `<topic>.dlq`, oldest first."""
    name = topic if topic.endswith(".dlq") else dlq_topic(topic)
    partitions = [TopicPartition(name, p) for p in sorted(await _partitions_of(name))]
    consumer = AIOKafkaConsumer(bootstrap_servers=_bootstrap(), enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        records = []
        while [p for p in partitions if await consumer.position(p) < ends[p]]:
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                records.extend(batch)
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()


async def _partitions_of(topic: str) -> set[int]:
    # The producer's partitions_for waits for the topic's metadata; a fresh consumer may not have it yet.
    producer = AIOKafkaProducer(bootstrap_servers=_bootstrap())
    await producer.start()
    try:
        return await producer.partitions_for(topic)
    finally:
        await producer.stop()


def _headers(record) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in record.headers or ()}


async def dlq_list(arguments) -> int:
    for record in await read_dead_letters(arguments.topic):
        headers = _headers(record)
        print(
            json.dumps(
                {
                    "partition": record.partition,
                    "offset": record.offset,
                    "key": record.key.decode(errors="replace") if record.key else None,
                    "reason": headers.get("dlq-reason"),
                    "error": headers.get("dlq-error"),
                    "service": headers.get("dlq-service"),
                    "original": f"{headers.get('dlq-original-topic')}/{headers.get('dlq-original-partition')}"
                    f"@{headers.get('dlq-original-offset')}",
                },
                ensure_ascii=False,
            )
        )
    return 0


async def dlq_redrive(arguments) -> int:
    chosen = [r for r in await read_dead_letters(arguments.topic) if arguments.all or _chosen(r, arguments)]
    producer = AIOKafkaProducer(bootstrap_servers=_bootstrap(), acks="all")
    await producer.start()
    try:
        for record in chosen:
            headers = _headers(record)
            original = headers["dlq-original-topic"]
            kept = [(k, v.encode()) for k, v in headers.items() if not k.startswith("dlq-")]
            kept.append(("dlq-redriven-from", f"{record.topic}/{record.partition}@{record.offset}".encode()))
            await producer.send_and_wait(original, record.value, key=record.key, headers=kept)
    finally:
        await producer.stop()
    print(f"re-drove {len(chosen)} message(s)")
    return 0


def _chosen(record, arguments) -> bool:
    partition = getattr(arguments, "partition", None)
    return record.offset in arguments.offset and (partition is None or record.partition == partition)


def _database_url(service: str) -> tuple[str, str]:
    from dunning_platform.devstack.services import service as find

    svc = find(service)
    url = os.environ.get(f"{svc.env_prefix}DATABASE_URL") or _devstack_url(svc)
    return url, svc.schema


def _devstack_url(svc) -> str:
    from dunning_platform.devstack.postgres import start_embedded, with_login
    from dunning_platform.devstack.bootstrap import DATABASE
    from dunning_platform.devstack.services import SERVICES
    from dunning_platform.devstack.state import StateDir, role_passwords

    state = StateDir.from_env()
    admin_url = os.environ.get("DUNNING_DATABASE_URL") or start_embedded(state.pgdata).admin_url
    password = role_passwords(state.secrets_file, [s.role for s in SERVICES])[svc.role]
    return with_login(admin_url, user=svc.role, password=password, database=DATABASE)


async def _with_outbox(service: str, work):
    url, schema = _database_url(service)
    outbox = messaging_tables(service_metadata(schema)).outbox
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            return await work(connection, outbox)
    finally:
        await engine.dispose()


async def outbox_status(arguments) -> int:
    async def count(connection, o):
        unpublished = func.count().filter(o.c.published_at.is_(None))
        query = select(o.c.topic, func.count(), unpublished, func.min(o.c.created_at)).group_by(o.c.topic)
        return (await connection.execute(query.order_by(o.c.topic))).all()

    for topic, total, unpublished, oldest in await _with_outbox(arguments.service, count):
        print(json.dumps({"topic": topic, "rows": total, "unpublished": unpublished, "oldest": str(oldest)}))
    return 0


async def outbox_republish(arguments) -> int:
    since = datetime.fromisoformat(arguments.since)
    if since.tzinfo is None:
        raise SystemExit("--since needs a time zone, e.g. 2026-11-27T00:00:00Z")

    async def mark_unpublished(connection, o):
        result = await connection.execute(update(o).where(o.c.created_at >= since).values(published_at=None))
        return result.rowcount

    count = await _with_outbox(arguments.service, mark_unpublished)
    print(f"{count} outbox row(s) will be published again by the running service")
    return 0


def _tokens_file():
    from dunning_platform.devstack.state import StateDir

    return StateDir.from_env().tokens_file


async def tokens_issue(arguments) -> int:
    print(issue_token(_tokens_file(), name=arguments.name, scopes=arguments.scope, lender=arguments.lender))
    return 0


async def tokens_list(arguments) -> int:
    path = _tokens_file()
    for entry in json.loads(path.read_text())["tokens"] if path.exists() else []:
        print(json.dumps({k: v for k, v in entry.items() if k != "sha256"}))
    return 0


async def tokens_revoke(arguments) -> int:
    revoke_token(_tokens_file(), arguments.id)
    print(f"revoked {arguments.id}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="dunning", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    groups = root.add_subparsers(dest="group", required=True)
    dlq = groups.add_parser("dlq", help="inspect and re-drive dead letters").add_subparsers(dest="command", required=True)
    listing = dlq.add_parser("list")
    listing.add_argument("topic")
    listing.set_defaults(run=dlq_list)
    redrive = dlq.add_parser("redrive")
    redrive.add_argument("topic")
    redrive.add_argument("--offset", type=int, action="append", default=[])
    redrive.add_argument("--partition", type=int, help="the DLQ partition of those offsets (default: any)")
    redrive.add_argument("--all", action="store_true")
    redrive.set_defaults(run=dlq_redrive)
    outbox = groups.add_parser("outbox", help="outbox backlog and re-publishing").add_subparsers(dest="command", required=True)
    status = outbox.add_parser("status")
    status.add_argument("service")
    status.set_defaults(run=outbox_status)
    republish = outbox.add_parser("republish")
    republish.add_argument("service")
    republish.add_argument("--since", required=True, help="ISO 8601 time with zone")
    republish.set_defaults(run=outbox_republish)
    tokens = groups.add_parser("tokens", help="issue, list and revoke API tokens").add_subparsers(dest="command", required=True)
    issue = tokens.add_parser("issue")
    issue.add_argument("--name", required=True)
    issue.add_argument("--scope", action="append", required=True, choices=SCOPES)
    issue.add_argument("--lender")
    issue.set_defaults(run=tokens_issue)
    tokens.add_parser("list").set_defaults(run=tokens_list)
    revoke = tokens.add_parser("revoke")
    revoke.add_argument("id")
    revoke.set_defaults(run=tokens_revoke)
    return root


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    return asyncio.run(arguments.run(arguments))


if __name__ == "__main__":
    sys.exit(main())
