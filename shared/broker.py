"""The Dramatiq broker, chosen once per process before any actor is declared.

`@dramatiq.actor` binds the global broker at import time, so `workers.actors` calls
`setup_broker()` first thing. Redis when REDIS_URL is set; otherwise an in-process StubBroker,
which only `switchboard serve` can drain (it runs worker threads beside the web app).
"""

from __future__ import annotations

import threading

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name

from shared.settings import get_settings

NAMESPACE = "switchboard"
_lock = threading.Lock()
_broker: dramatiq.Broker | None = None


def setup_broker() -> dramatiq.Broker:
    """Install the process-wide broker (idempotent) and return it."""
    global _broker
    with _lock:
        if _broker is None:
            _broker = _make_broker(get_settings().redis_url)
            dramatiq.set_broker(_broker)
        return _broker


# Calls fail, rather than block, when Redis hangs instead of refusing: every webhook answer
# waits on the receiver's enqueue.
SOCKET_TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 5.0


def redis_client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(
        redis_url,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
    )


def _make_broker(redis_url: str | None) -> dramatiq.Broker:
    if redis_url:
        client = redis_client(redis_url)
        return RedisBroker(client=client, namespace=NAMESPACE)  # type: ignore[no-untyped-call]
    broker = StubBroker()
    broker.emit_after("process_boot")
    return broker


def is_embedded(broker: dramatiq.Broker) -> bool:
    return isinstance(broker, StubBroker)


def ping(broker: dramatiq.Broker) -> None:
    """Raise if the broker cannot be reached."""
    if isinstance(broker, RedisBroker):
        broker.client.ping()


def queue_depths(broker: dramatiq.Broker) -> dict[str, int]:
    """Messages waiting or in flight per queue, delayed retries (`<queue>.DQ`) included."""
    depths: dict[str, int] = {}
    for queue in sorted(broker.get_declared_queues()):
        for name in (queue, dq_name(queue)):
            if isinstance(broker, RedisBroker):
                depths[name] = int(broker.do_qsize(name))
            elif isinstance(broker, StubBroker):
                depths[name] = broker.queues[name].qsize() if name in broker.queues else 0
    return depths
