"""Which channel a webhook is for, and the secrets that prove it: cached in memory.

Looking up and decrypting a channel's credentials on every webhook would cost a database round
trip per request. An entry older than the TTL is still served while one background task reloads
all such entries in a single query, so a busy channel never waits for the database (stale while
revalidate); only a channel not seen for `MAX_STALE_SECONDS` is loaded on the request path. A
stale entry is safe: the event store checks the channel still exists and is enabled, and a
failed verification reloads once, so a rotated secret works at once. A lookup the database
cannot answer raises `TargetsUnavailable`, which the receiver answers with 503.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine, bindparam, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.crypto import decrypt_json
from shared.models import Channel, Connection

log = logging.getLogger(__name__)

MAX_ENTRIES = 50_000
TTL_SECONDS = 5.0
MAX_STALE_SECONDS = 60.0
REFRESH_BATCH = 500

Load = Callable[[Collection[str]], dict[str, "Target"]]


class TargetsUnavailable(Exception):
    """The database could not be reached (down, restarting, out of connections)."""


@dataclass(frozen=True)
class Target:
    channel_id: str
    instance_id: str
    provider: str
    credentials: Mapping[str, Any]
    external_identifier: str | None = None


class TargetCache:
    def __init__(
        self,
        load: Load,
        ttl: float = TTL_SECONDS,
        max_stale: float = MAX_STALE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._ttl = ttl
        self._max_stale = max_stale
        self._clock = clock
        self._entries: dict[str, tuple[float, Target]] = {}
        self._due: set[str] = set()
        self._refresher: asyncio.Task[None] | None = None

    async def get(self, channel_id: str, *, reload: bool = False) -> Target | None:
        entry = self._entries.get(channel_id)
        if entry is not None and not reload:
            age = self._clock() - entry[0]
            if age < self._ttl:
                return entry[1]
            if age < self._max_stale:
                self._refresh_later(channel_id)
                return entry[1]
        loaded = await self._fetch([channel_id])
        self._store([channel_id], loaded)
        return loaded.get(channel_id)

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)

    def _refresh_later(self, channel_id: str) -> None:
        self._due.add(channel_id)
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.get_running_loop().create_task(self._refresh())

    async def _refresh(self) -> None:
        while self._due:
            batch = [self._due.pop() for _ in range(min(REFRESH_BATCH, len(self._due)))]
            try:
                self._store(batch, await self._fetch(batch))
            except TargetsUnavailable:
                # Keep serving what we have; the next request for these channels asks again.
                log.warning("could not refresh %d cached channels", len(batch))
                self._due.clear()

    async def _fetch(self, channel_ids: Collection[str]) -> dict[str, Target]:
        try:
            return await anyio.to_thread.run_sync(self._load, channel_ids)
        except (OperationalError, PoolTimeout) as exc:
            raise TargetsUnavailable from exc

    def _store(self, channel_ids: Collection[str], loaded: Mapping[str, Target]) -> None:
        now = self._clock()
        for channel_id in channel_ids:
            target = loaded.get(channel_id)
            if target is None:
                self._entries.pop(channel_id, None)
                continue
            if channel_id not in self._entries and len(self._entries) >= MAX_ENTRIES:
                self._entries.pop(next(iter(self._entries)))
            self._entries[channel_id] = (now, target)


def database_loader(engine: Engine, secret_key: str) -> Load:
    query = (
        select(
            Channel.id,
            Channel.instance_id,
            Channel.provider,
            Connection.credentials_encrypted,
            Channel.external_identifier,
        )
        .outerjoin(Connection, Channel.connection_id == Connection.id)
        .where(Channel.id.in_(bindparam("channel_ids", expanding=True)))
    )

    def load(channel_ids: Collection[str]) -> dict[str, Target]:
        with engine.connect() as conn:
            rows = conn.execute(query, {"channel_ids": list(channel_ids)}).all()
        return {
            row[0]: Target(
                row[0],
                row[1],
                row[2],
                decrypt_json(secret_key, row[3]) if row[3] else {},
                row[4],
            )
            for row in rows
        }

    return load
