"""Which channel a webhook is for, and the secrets that prove it: cached briefly in memory.

Looking up and decrypting a channel's credentials on every webhook would cost a database round
trip per request. A short TTL bounds how long a rotated secret lingers; a failed verification
reloads once, so a new secret works at once. A lookup the database cannot answer raises
`TargetsUnavailable`, which the receiver answers with 503, so the provider retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine, bindparam, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.crypto import decrypt_json
from shared.models import Channel, Connection

MAX_ENTRIES = 50_000


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
        load: Callable[[str], Target | None],
        ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, Target]] = {}

    async def get(self, channel_id: str, *, reload: bool = False) -> Target | None:
        entry = self._entries.get(channel_id)
        if entry is not None and not reload and self._clock() - entry[0] < self._ttl:
            return entry[1]
        try:
            target = await anyio.to_thread.run_sync(self._load, channel_id)
        except (OperationalError, PoolTimeout) as exc:
            raise TargetsUnavailable from exc
        if target is None:
            self._entries.pop(channel_id, None)
            return None
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.pop(next(iter(self._entries)))
        self._entries[channel_id] = (self._clock(), target)
        return target


def database_loader(engine: Engine, secret_key: str) -> Callable[[str], Target | None]:
    query = (
        select(
            Channel.id,
            Channel.instance_id,
            Channel.provider,
            Connection.credentials_encrypted,
            Channel.external_identifier,
        )
        .outerjoin(Connection, Channel.connection_id == Connection.id)
        .where(Channel.id == bindparam("channel_id"))
    )

    def load(channel_id: str) -> Target | None:
        with engine.connect() as conn:
            row = conn.execute(query, {"channel_id": channel_id}).first()
        if row is None:
            return None
        credentials = decrypt_json(secret_key, row[3]) if row[3] else {}
        return Target(row[0], row[1], row[2], credentials, row[4])

    return load
