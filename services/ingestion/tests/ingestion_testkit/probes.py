"""Ways to watch the service from outside: the bus, its outbox, and polling with a deadline."""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import select

from dunning_ingestion.adapters.orm import tables


async def produce(bootstrap: str, topic: str, *messages: dict | bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for message in messages:
            value = message if isinstance(message, bytes) else json.dumps(message).encode()
            key = message["data"]["loan_id"].encode() if isinstance(message, dict) else b"poison"
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def read_topic(bootstrap: str, topic: str, match: Callable[[dict, dict], bool], *, count: int = 1, timeout: float = 30) -> list[tuple[dict, dict]]:
    """The first `count` records of `topic` (as (event, headers)) that `match`; fails after `timeout` s."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    found: list[tuple[dict, dict]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < count and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers or ()}
                    try:
                        event = json.loads(record.value)
                    except ValueError:
                        event = {"raw": record.value.decode(errors="replace")}
                    if match(event, headers):
                        found.append((event, headers))
    finally:
        await consumer.stop()
    assert len(found) >= count, f"found {len(found)} of {count} expected records on {topic}"
    return found


def about(loan_id: str, type_: str | None = None) -> Callable[[dict, dict], bool]:
    return lambda event, _: event.get("subject") == loan_id and (type_ is None or event.get("type") == type_)


async def outbox(app, loan_id: str | None = None, topic: str | None = None) -> list[dict]:
    """What the service has published or will publish, oldest first, as CloudEvent dicts."""
    o = tables.outbox
    query = select(o.c.value, o.c.topic).order_by(o.c.id)
    async with app.state.runtime.session_factory() as session:
        rows = (await session.execute(query)).all()
    events = [json.loads(row.value) | {"_topic": row.topic} for row in rows if topic is None or row.topic == topic]
    return [e for e in events if loan_id is None or e.get("subject") == loan_id]


async def eventually(check: Callable[[], Awaitable], timeout: float = 30, interval: float = 0.1):
    """Poll `check` until it returns something truthy; its last result (or error) if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = await check()
            if result:
                return result
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            return result
        await asyncio.sleep(interval)
