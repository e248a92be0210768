"""Every acknowledged webhook is processed, exactly once in effect, through production faults.

Each test runs real `switchboard` processes on a PostgreSQL cluster and a redis-server of its
own, which it kills, flushes or restarts; nobody steps in afterwards. To catch a worker in the
middle of a batch, the test holds a lock on the channel's row: a worker that has claimed events
then waits for it, inside its transaction.
"""

from __future__ import annotations

import itertools
import json
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.exc import OperationalError

from shared.models import Channel, Event, utcnow
from tests.conftest import SIGNING_SECRET
from tests.e2e.deployments import (
    Deployment,
    embedded,
    eventually,
    on_servers,
    wait_for_syncs,
)
from tests.e2e.seeds import connected_slack_channel
from tests.fakes.slack_api import FakeSlackAPI
from tests.support import slack
from tests.support.deliveries import (
    NO_ANSWER,
    Answer,
    Delivery,
    SlackProvider,
    Webhook,
    slack_message,
)
from tests.support.private_servers import PrivatePostgres, PrivateRedis
from tests.support.private_servers import private_postgres as _private_postgres
from tests.support.private_servers import private_redis as _private_redis

pytestmark = pytest.mark.e2e

LEASE_SECONDS = 1
WORKER = ["worker", "--processes", "1", "--threads", "2"]
OUTAGE_SECONDS = 3.0
ANSWER_WITHIN = 2.5  # seconds: Slack gives up on an answer after 3
RECOVER_WITHIN = 3.0  # seconds after the database is back
EVENT_TIME = int(time.time()) + 3600  # after the channel's connection: every event counts


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[PrivatePostgres]:
    with _private_postgres() as server:
        yield server


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    with _private_redis() as server:
        yield server


@pytest.fixture
def deployment(
    tmp_path: Path,
    fake_slack: FakeSlackAPI,
    postgres_server: PrivatePostgres,
    redis_server: PrivateRedis,
) -> Iterator[Deployment]:
    database = postgres_server.create_database()
    env = {"SLACK_API_URL": fake_slack.url, "RELAY_LEASE_SECONDS": str(LEASE_SECONDS)}
    with on_servers(tmp_path, database, redis_server.url, **env) as deployment:
        yield deployment


def slack_channel(deployment: Deployment) -> str:
    with deployment.client(deployment.org_token()) as api:
        channel = str(connected_slack_channel(api, "Recovery")["id"])
    wait_for_syncs(deployment)
    return channel


def messages(channel: str, prefix: str, count: int) -> list[Webhook]:
    return [slack_message(channel, f"{prefix}{n}", EVENT_TIME + n) for n in range(count)]


def events(deployment: Deployment, channel: str) -> dict[str, tuple[str, int]]:
    """dedup key → (status, attempts) of every stored event of `channel`."""
    rows = deployment.sql(
        "SELECT dedup_key, status, attempts FROM events WHERE channel_id = :c", c=channel
    )
    return {row[0]: (row[1], row[2]) for row in rows}


def processed_once(deployment: Deployment, channel: str, keys: set[str]) -> None:
    """Each of `keys` is stored once and processed once, and nothing else is stored."""
    found = eventually(
        lambda: events(deployment, channel),
        lambda e: set(e) == keys and all(s != "pending" for s, _ in e.values()),
        timeout=30,
    )
    assert found == dict.fromkeys(keys, ("processed", 1)), (found, deployment.logs())


def channel_state(deployment: Deployment, channel: str) -> tuple[str, datetime]:
    status, last = deployment.sql(
        "SELECT status, last_event_at FROM channels WHERE id = :c", c=channel
    )[0]
    last = datetime.fromisoformat(last) if isinstance(last, str) else last  # SQLite: text
    return status, last if last.tzinfo else last.replace(tzinfo=UTC)


@contextmanager
def channel_locked(deployment: Deployment, channel: str) -> Iterator[None]:
    """Hold the channel's row: a worker processing its events waits, mid-transaction.

    NO KEY UPDATE conflicts with the lock a worker takes to change the row, but not with the
    key-share lock the receiver's INSERT takes on it, so webhooks are still stored."""
    engine = create_engine(deployment.database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("SELECT 1 FROM channels WHERE id = :c FOR NO KEY UPDATE"), {"c": channel}
            )
            yield
    finally:
        engine.dispose()


def workers_waiting(deployment: Deployment) -> int:
    """Transactions waiting to lock channels: with syncs settled, only workers mid-batch."""
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query LIKE '%FROM channels%FOR %UPDATE%'"
    )
    return int(deployment.sql(query)[0][0])


def queued_messages(redis_url: str) -> int:
    with redis.Redis.from_url(redis_url) as client:
        return int(client.llen("switchboard:events"))


def test_worker_killed_mid_batch(deployment: Deployment) -> None:
    web = deployment.start_web()
    deployment.start("scheduler", ["scheduler"])
    first = deployment.start("worker-1", WORKER)
    channel = slack_channel(deployment)
    webhooks = messages(channel, "EvKill", 6)
    with SlackProvider([web], SIGNING_SECRET) as slack, channel_locked(deployment, channel):
        assert all(d.acknowledged for d in slack.deliver_all(webhooks, threads=1))
        assert eventually(lambda: workers_waiting(deployment), lambda n: n > 0) > 0
        deployment.start("worker-2", WORKER)
        first.kill(signal.SIGKILL)
        # The batch it held was never committed.
        assert {s for s, _ in events(deployment, channel).values()} == {"pending"}

    processed_once(deployment, channel, {w.event_id for w in webhooks})
    assert channel_state(deployment, channel) == ("connected", _at(EVENT_TIME + 5))


@pytest.mark.parametrize("loss", ["flushall", "restart"])
def test_broker_restarted_empty(
    deployment: Deployment, redis_server: PrivateRedis, loss: str
) -> None:
    web = deployment.start_web()
    deployment.start("scheduler", ["scheduler"])
    worker = deployment.start("worker", ["worker", "--processes", "1", "--threads", "1"])
    channel = slack_channel(deployment)
    before, after = messages(channel, "EvBefore", 8), messages(channel, "EvAfter", 3)
    with SlackProvider([web], SIGNING_SECRET) as slack:
        with channel_locked(deployment, channel):
            assert all(d.acknowledged for d in slack.deliver_all(before, threads=1))
            assert eventually(lambda: workers_waiting(deployment), lambda n: n > 0) > 0
            assert queued_messages(redis_server.url) > 0
            if loss == "flushall":
                redis_server.flushall()
            else:
                redis_server.restart()
            assert queued_messages(redis_server.url) == 0
        # The receiver reconnects by itself: a 503 meanwhile is retried, as providers do.
        assert all(d.acknowledged for d in slack.deliver_all(after, threads=1))

    processed_once(deployment, channel, {w.event_id for w in before + after})
    assert worker.running(), "the worker must reconnect, not die"
    assert channel_state(deployment, channel) == ("connected", _at(EVENT_TIME + 7))


def test_postgres_restarted_under_load(
    deployment: Deployment, postgres_server: PrivatePostgres
) -> None:
    web = deployment.start_web()
    receiver = deployment.processes["web"]
    deployment.start("scheduler", ["scheduler"])
    deployment.start("worker", WORKER)
    busy, cold = slack_channel(deployment), slack_channel(deployment)
    load = (slack_message(busy, f"EvLoad{n}", EVENT_TIME + n) for n in itertools.count())
    # The receiver has not cached this channel yet: looking it up needs the database.
    first_for_cold = slack_message(cold, "EvCold", EVENT_TIME)
    stop = threading.Event()
    done: list[Delivery] = []
    with SlackProvider([web], SIGNING_SECRET, retry_pause=0.05, timeout=15) as slack:
        sending = threading.Thread(target=lambda: done.extend(slack.deliver_until(load, stop)))
        sending.start()
        try:
            assert eventually(lambda: _stored(deployment, busy), lambda n: n >= 100) >= 100
            postgres_server.stop()
            try:
                down_since = time.monotonic()
                during = slack.post(first_for_cold)
                time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_since)))
            finally:
                postgres_server.start()  # the module's other tests need it
            stored, back = _stored(deployment, busy), time.monotonic()
            assert eventually(lambda: _stored(deployment, busy), lambda n: n > stored) > stored
            recovered_in = time.monotonic() - back
            eventually(lambda: _stored(deployment, busy), lambda n: n >= stored + 100)
        finally:
            stop.set()
            sending.join(60)
        cold_delivery = slack.deliver(first_for_cold)

    answers = [a for d in [*done, cold_delivery] for a in d.answers]
    assert (during.status, during.retry_after) == (503, "5")
    assert all(d.acknowledged for d in [*done, cold_delivery])
    assert receiver.running(), "the receiver must recover without a restart"
    statuses = {a.status for a in answers}
    assert 503 in statuses, "the outage went unnoticed: was Postgres really down?"
    assert statuses <= {200, 503}, statuses
    assert all(a.retry_after for a in answers if a.status == 503)
    assert max(a.seconds for a in answers) < ANSWER_WITHIN, "a request hung on the database"
    assert recovered_in < RECOVER_WITHIN, "the receiver was slow to use the database again"
    processed_once(deployment, busy, {d.webhook.event_id for d in done})
    processed_once(deployment, cold, {"EvCold"})


def test_receiver_killed_mid_request(deployment: Deployment, redis_server: PrivateRedis) -> None:
    first_url = deployment.start_web("web-1")
    second_url = deployment.start_web("web-2")
    deployment.start("scheduler", ["scheduler"])
    deployment.start("worker", WORKER)
    channel = slack_channel(deployment)
    webhook = slack_message(channel, "EvKilled", EVENT_TIME)
    with SlackProvider([first_url, second_url], SIGNING_SECRET) as slack:
        # A frozen broker holds the request between storing the event and answering it.
        redis_server.freeze()
        try:
            answers: list[Answer] = []
            attempt = threading.Thread(
                target=lambda: answers.append(slack.post(webhook, first_url))
            )
            attempt.start()
            stored = eventually(lambda: events(deployment, channel), lambda e: bool(e))
            assert stored == {"EvKilled": ("pending", 0)}
            deployment.processes["web-1"].kill(signal.SIGKILL)
            attempt.join(10)
        finally:
            redis_server.thaw()
        assert [a.status for a in answers] == [NO_ANSWER], deployment.logs()
        # The provider saw no answer, so it delivers again: to the other receiver.
        retried = slack.post(webhook, second_url)
        assert retried.status == 200, (retried, deployment.logs())

    processed_once(deployment, channel, {"EvKilled"})
    assert channel_state(deployment, channel) == ("connected", _at(EVENT_TIME))


def test_serve_relays_what_its_in_process_broker_lost(
    tmp_path: Path, fake_slack: FakeSlackAPI
) -> None:
    env = {"SLACK_API_URL": fake_slack.url, "RELAY_LEASE_SECONDS": str(LEASE_SECONDS)}
    with embedded(tmp_path, **env) as deployment:
        channel = slack_channel(deployment)
        deployment.processes["serve"].kill(signal.SIGKILL)
        # What a `serve` killed after storing a webhook leaves: the event, but not its message.
        _store_orphan(deployment, channel, "EvOrphan")
        port = deployment.base_url.rsplit(":", 1)[1]
        deployment.start("serve-again", ["serve", "--port", port]).wait_http(
            deployment.base_url + "/healthz"
        )
        processed_once(deployment, channel, {"EvOrphan"})
        assert channel_state(deployment, channel) == ("connected", _at(EVENT_TIME))


def _store_orphan(deployment: Deployment, channel: str, event_id: str) -> None:
    body = slack.event_callback(event_id, slack.message(), EVENT_TIME)
    engine = create_engine(deployment.database_url)
    try:
        with engine.begin() as conn:
            instance = conn.scalar(select(Channel.instance_id).where(Channel.id == channel))
            conn.execute(
                insert(Event).values(
                    id=f"evt_{event_id}",
                    instance_id=instance,
                    channel_id=channel,
                    provider="slack",
                    type="slack.event_callback.message",
                    dedup_key=event_id,
                    received_at=utcnow(),
                    occurred_at=_at(EVENT_TIME),
                    status="pending",
                    attempts=0,
                    payload=json.loads(body),
                    enqueued_at=utcnow(),
                )
            )
    finally:
        engine.dispose()


def _stored(deployment: Deployment, channel: str) -> int:
    query = "SELECT count(*) FROM events WHERE channel_id = :c"
    try:
        return int(deployment.sql(query, c=channel)[0][0])
    except OperationalError:  # Postgres is down: nothing to count
        return 0


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
