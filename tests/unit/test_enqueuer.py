"""The receiver's asyncio enqueue writes what Dramatiq's own `RedisBroker.enqueue` writes: a
Dramatiq consumer on real Redis receives the message, and a worker runs the actor."""

from __future__ import annotations

import asyncio
import threading

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from receiver.webhooks.enqueuer import RedisEnqueuer


def _broker(url: str) -> RedisBroker:
    client = redis.Redis.from_url(url)
    return RedisBroker(client=client, namespace="enqueuer-test")


def test_a_dramatiq_consumer_receives_the_message(test_redis_url: str) -> None:
    broker = _broker(test_redis_url)
    broker.declare_queue("events")
    message: dramatiq.Message[None] = dramatiq.Message(
        queue_name="events", actor_name="process_events", args=(["evt_1", "evt_2"],),
        kwargs={}, options={},
    )  # fmt: skip

    async def send() -> None:
        enqueuer = RedisEnqueuer(broker, test_redis_url)
        await enqueuer.send(message)
        await enqueuer.close()

    asyncio.run(send())
    consumer = broker.consume("events", prefetch=1, timeout=2000)
    received = next(iter(consumer))
    assert received is not None
    assert received.message_id == message.message_id
    assert received.args == (["evt_1", "evt_2"],)
    consumer.ack(received)
    consumer.close()
    assert broker.client.llen("enqueuer-test:events") == 0
    broker.close()


def test_a_dramatiq_worker_runs_the_actor(test_redis_url: str) -> None:
    broker = _broker(test_redis_url)
    received: list[list[str]] = []
    done = threading.Event()

    @dramatiq.actor(broker=broker, queue_name="events", max_retries=0)
    def process_events(event_ids: list[str]) -> None:
        received.append(event_ids)
        done.set()

    async def send() -> None:
        enqueuer = RedisEnqueuer(broker, test_redis_url)
        await enqueuer.send(process_events.message(["evt_9"]))
        await enqueuer.close()

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        asyncio.run(send())
        assert done.wait(10)
    finally:
        worker.stop()
        broker.close()
    assert received == [["evt_9"]]
