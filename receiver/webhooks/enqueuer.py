"""Sending the stored events' message to the workers, from the receiver's event loop.

Every webhook answer waits on this send, so it must not hop to a thread: under load a thread
waits milliseconds for the GIL, and at ~20 webhooks per batch that was a third of each
request's cost (`make bench`). Dramatiq's `RedisBroker.enqueue` is blocking, so `RedisEnqueuer`
does the same with redis-py's asyncio client: it runs the broker's own dispatch script with the
arguments `RedisBroker` passes, and emits the same middleware hooks, so Dramatiq workers see
exactly the message `Actor.send` would have written. The embedded broker is in memory and
needs no waiting.
"""

from __future__ import annotations

from typing import Protocol
from uuid import uuid4

import dramatiq
import redis.asyncio
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis

from shared.broker import CONNECT_TIMEOUT_SECONDS, SOCKET_TIMEOUT_SECONDS

# Queue maintenance (requeueing dead workers' messages) is left to the workers, which run it
# on fetch: the receiver's sends stay one script call each.
NO_MAINTENANCE = 0
UNUSED_UNPACK_SIZE = 0  # only maintenance and fetch unpack lists


class Enqueuer(Protocol):
    async def send(self, message: dramatiq.Message[object]) -> None: ...

    async def close(self) -> None: ...


class RedisEnqueuer:
    def __init__(self, broker: RedisBroker, redis_url: str) -> None:
        self._broker = broker
        self._client = redis.asyncio.Redis.from_url(
            redis_url,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        )
        self._dispatch = self._client.register_script(broker.scripts["dispatch"].script)

    async def send(self, message: dramatiq.Message[object]) -> None:
        broker = self._broker
        # As RedisBroker.enqueue: a fresh Redis id, since a message may be sent more than once.
        message = message.copy(options={"redis_message_id": str(uuid4())})
        broker.emit_before("enqueue", message, None)
        await self._dispatch(
            keys=[broker.namespace],
            args=[
                "enqueue",
                current_millis(),
                message.queue_name,
                broker.broker_id,
                broker.heartbeat_timeout,
                broker.dead_message_ttl,
                NO_MAINTENANCE,
                UNUSED_UNPACK_SIZE,
                message.options["redis_message_id"],
                message.encode(),
            ],
        )
        broker.emit_after("enqueue", message, None)

    async def close(self) -> None:
        await self._client.aclose()


class InMemoryEnqueuer:
    """The embedded mode's StubBroker: enqueueing is a queue put."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self._broker = broker

    async def send(self, message: dramatiq.Message[object]) -> None:
        self._broker.enqueue(message)

    async def close(self) -> None:
        pass


def enqueuer_for(broker: dramatiq.Broker, redis_url: str | None) -> Enqueuer:
    if isinstance(broker, RedisBroker):
        assert redis_url is not None  # a RedisBroker is made only when REDIS_URL is set
        return RedisEnqueuer(broker, redis_url)
    return InMemoryEnqueuer(broker)
