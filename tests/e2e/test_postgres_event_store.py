"""The receiver's PostgreSQL store on a real database: every outcome, in large and small batches."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from receiver.webhooks.event_store import Accepted, Outcome, PostgresStore
from shared.events import NormalizedEvent
from tests.support.processes import environment, run
from tests.support.services import libpq

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def database(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cwd = tmp_path_factory.mktemp("store")
    migrated = run(["migrate"], environment(DATABASE_URL=postgres_url), cwd)
    assert migrated.returncode == 0, migrated.stderr
    with psycopg.connect(libpq(postgres_url), autocommit=True) as conn:
        conn.execute("INSERT INTO instances (id, name, created_at) VALUES ('ins_1', 'S', now())")
        for channel_id, enabled in (("chn_on", True), ("chn_off", False)):
            conn.execute(
                "INSERT INTO channels (id, instance_id, channel_type, provider, config, enabled,"
                " status, created_at, updated_at)"
                " VALUES (%s, 'ins_1', 'slack', 'slack', '{}', %s, 'connected', now(), now())",
                (channel_id, enabled),
            )
    yield postgres_url


def _accepted(channel_id: str, dedup_key: str, payload: dict[str, Any] | None = None) -> Accepted:
    payload = {"n": dedup_key} if payload is None else payload
    event = NormalizedEvent("slack.event_callback.message", dedup_key, payload, NOW)
    return Accepted(channel_id, "ins_1", "slack", event, NOW)


def _store(database: str, *batches: list[Accepted]) -> tuple[list[list[Outcome]], list[str]]:
    enqueued: list[str] = []

    async def enqueue(ids: list[str]) -> None:
        enqueued.extend(ids)

    async def main() -> list[list[Outcome]]:
        store = PostgresStore(database, enqueue)
        await store.open()
        try:
            return [await store(batch, lambda: None) for batch in batches]
        finally:
            await store.close()

    return asyncio.run(main()), enqueued


def _rows(database: str, dedup_prefix: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(libpq(database)) as conn:
        rows = conn.execute(
            "SELECT id, dedup_key, status FROM events WHERE dedup_key LIKE %s ORDER BY dedup_key",
            (dedup_prefix + "%",),
        ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def test_a_large_batch_has_every_outcome_and_one_enqueue(database: str) -> None:
    earlier = [_accepted("chn_on", "big-old")]
    new = [_accepted("chn_on", f"big-new-{n:02d}") for n in range(30)]
    batch = [
        _accepted("chn_on", "big-twice"),  # first…
        *new,
        _accepted("chn_on", "big-old"),  # stored by the earlier batch
        *(_accepted("chn_off", f"big-off-{n}") for n in range(3)),
        _accepted("chn_gone", "big-gone"),
        _accepted("chn_on", "big-twice"),  # …and again, in the same statement
    ]

    (first, outcomes), enqueued = _store(database, earlier, batch)

    assert first == [Outcome.STORED]
    assert outcomes[1:31] == [Outcome.STORED] * 30
    assert outcomes[31] is Outcome.DUPLICATE
    assert outcomes[32:35] == [Outcome.IGNORED] * 3
    assert outcomes[35] is Outcome.GONE
    assert sorted([outcomes[0], outcomes[36]], key=str) == [Outcome.DUPLICATE, Outcome.STORED]
    rows = _rows(database, "big-")
    assert [key for _, key, _ in rows] == sorted(
        ["big-old", "big-twice", *(f"big-new-{n:02d}" for n in range(30))]
        + [f"big-off-{n}" for n in range(3)]
    )
    statuses = {key: status for _, key, status in rows}
    assert {statuses[f"big-off-{n}"] for n in range(3)} == {"ignored"}
    pending = {event_id for event_id, _, status in rows if status == "pending"}
    # Each newly stored, enabled event is enqueued once: the earlier batch's, then this one's.
    assert len(enqueued) == len(set(enqueued)) == len(pending) == 32
    assert set(enqueued) == pending


def test_a_small_batch_has_the_same_rules(database: str) -> None:
    batch = [
        _accepted("chn_on", "small-a"),
        _accepted("chn_on", "small-a"),
        _accepted("chn_off", "small-b"),
        _accepted("chn_gone", "small-c"),
    ]
    (outcomes,), enqueued = _store(database, batch)
    assert outcomes == [Outcome.STORED, Outcome.DUPLICATE, Outcome.IGNORED, Outcome.GONE]
    assert [(key, status) for _, key, status in _rows(database, "small-")] == [
        ("small-a", "pending"),
        ("small-b", "ignored"),
    ]
    assert len(enqueued) == 1


def test_text_jsonb_refuses_is_replaced_and_big_integers_kept(database: str) -> None:
    odd = {
        "nul": _accepted("chn_on", "odd-nul", {"t\x00": "a\x00b"}),
        "big": _accepted("chn_on", "odd-big", {"n": 2**70, "t": "a\x00b"}),
        "plain": _accepted("chn_on", "odd-plain"),
    }
    (outcomes,), _ = _store(database, list(odd.values()))
    assert outcomes == [Outcome.STORED] * 3
    with psycopg.connect(libpq(database)) as conn:
        rows = conn.execute(
            "SELECT dedup_key, payload FROM events WHERE dedup_key LIKE 'odd-%' ORDER BY 1"
        ).fetchall()
    assert rows == [
        ("odd-big", {"n": 2**70, "t": "a\ufffdb"}),
        ("odd-nul", {"t\ufffd": "a\ufffdb"}),
        ("odd-plain", {"n": "odd-plain"}),
    ]
