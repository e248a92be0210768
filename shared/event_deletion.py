"""Deleting a channel's or an instance's events, in the transaction that deletes them.

`events` has no foreign keys. PostgreSQL checks a key by locking the referenced row for every
row inserted: on the receiver's batch insert that is a tuple lock, a WAL record and often a
MultiXact per channel per batch, and it cost 3-8 % of the webhooks stored per second (A/B runs
of `bench.receiver`, with and without the key). Deleting is rare, so it does the cascade itself
and closes the race the key closed. It first locks `events` against writers (SHARE ROW
EXCLUSIVE): that waits for batches being written, which its delete then sees, and holds new ones
back until it commits; they then no longer find the channel, and their webhooks are answered as
for an unknown channel.

The lock is held to the commit, so a deletion holds webhook storage back while its delete runs:
milliseconds for a channel's usual events, seconds for one with millions (those webhooks wait,
or are answered 503 and retried; none is lost). Deleting before taking the lock would shorten
that, but an update of one of the deleted events (the relay, a replay) would then wait for the
deletion while holding the lock the deletion waits for: a deadlock.

Lock order: `events`, then channel rows, as the workers take them, so the two never deadlock;
call these before the channel or instance itself is deleted. SQLite has one writer at a time,
and the receiver's store there checks the channels again under its write lock.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, text
from sqlalchemy.orm import Session

from shared.models import Event


def delete_channel_events(session: Session, channel_id: str) -> None:
    _delete_events(session, Event.channel_id == channel_id)


def delete_instance_events(session: Session, instance_id: str) -> None:
    _delete_events(session, Event.instance_id == instance_id)


def _delete_events(session: Session, which: ColumnElement[bool]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE"))
    session.execute(delete(Event).where(which).execution_options(synchronize_session=False))
