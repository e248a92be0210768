"""The receiver's channel cache: fresh entries from memory, stale ones served while one background
task reloads them together, unknown or long-unseen channels loaded on the request path."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

import pytest
from sqlalchemy.exc import OperationalError

from receiver.webhooks.targets import Target, TargetCache, TargetsUnavailable


class Database:
    """The loader's view of the channels table, counting the queries made."""

    def __init__(self) -> None:
        self.secrets = {"ch_a": "one", "ch_b": "one"}
        self.queries: list[list[str]] = []
        self.down = False

    def load(self, channel_ids: Collection[str]) -> dict[str, Target]:
        if self.down:
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        self.queries.append(sorted(channel_ids))
        return {
            cid: Target(cid, "ins_1", "slack", {"signing_secret": self.secrets[cid]})
            for cid in channel_ids
            if cid in self.secrets
        }


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def secret(target: Target | None) -> str:
    assert target is not None
    return str(target.credentials["signing_secret"])


def new_cache() -> tuple[Database, Clock, TargetCache]:
    db, clock = Database(), Clock()
    return db, clock, TargetCache(db.load, ttl=5, max_stale=60, clock=clock)


async def settle(cache: TargetCache) -> None:
    for _ in range(50):  # the refresh runs the loader in a worker thread
        await asyncio.sleep(0.01)
    await cache.close()


def test_fresh_entries_come_from_memory() -> None:
    async def scenario() -> None:
        db, clock, cache = new_cache()
        assert secret(await cache.get("ch_a")) == "one"
        clock.now += 4
        db.secrets["ch_a"] = "two"
        assert secret(await cache.get("ch_a")) == "one"
        assert db.queries == [["ch_a"]]

    asyncio.run(scenario())


def test_stale_entries_are_served_while_refreshed_together() -> None:
    async def scenario() -> None:
        db, clock, cache = new_cache()
        await cache.get("ch_a")
        await cache.get("ch_b")
        clock.now += 10
        db.secrets = {"ch_a": "two", "ch_b": "two"}
        # Both answered at once from memory, without waiting for the database...
        assert secret(await cache.get("ch_a")) == "one"
        assert secret(await cache.get("ch_b")) == "one"
        await settle(cache)
        # ...and reloaded in one query in the background.
        assert db.queries[2:] == [["ch_a", "ch_b"]]
        assert secret(await cache.get("ch_a")) == "two"
        assert len(db.queries) == 3

    asyncio.run(scenario())


def test_deleted_channel_leaves_the_cache_on_refresh() -> None:
    async def scenario() -> None:
        db, clock, cache = new_cache()
        await cache.get("ch_a")
        clock.now += 10
        del db.secrets["ch_a"]
        await cache.get("ch_a")
        await settle(cache)
        assert await cache.get("ch_a") is None

    asyncio.run(scenario())


def test_long_unseen_channel_is_loaded_before_answering() -> None:
    async def scenario() -> None:
        db, clock, cache = new_cache()
        await cache.get("ch_a")
        clock.now += 61
        db.secrets["ch_a"] = "two"
        assert secret(await cache.get("ch_a")) == "two"

    asyncio.run(scenario())


def test_reload_bypasses_a_fresh_entry() -> None:
    async def scenario() -> None:
        db, _, cache = new_cache()
        await cache.get("ch_a")
        db.secrets["ch_a"] = "rotated"
        assert secret(await cache.get("ch_a", reload=True)) == "rotated"

    asyncio.run(scenario())


def test_database_down() -> None:
    async def scenario() -> None:
        db, clock, cache = new_cache()
        await cache.get("ch_a")
        db.down = True
        clock.now += 10
        # A stale entry is still served (the store answers 503 if it cannot write either)...
        assert secret(await cache.get("ch_a")) == "one"
        await settle(cache)
        assert secret(await cache.get("ch_a")) == "one"
        # ...an unknown channel is a TargetsUnavailable, answered 503.
        with pytest.raises(TargetsUnavailable):
            await cache.get("ch_b")
        db.down = False
        await cache.get("ch_a")
        await settle(cache)
        assert db.queries[-1] == ["ch_a"]

    asyncio.run(scenario())
