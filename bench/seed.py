"""Bulk seeding straight into PostgreSQL: instances, connected channels and stored events.

Channels are written as the API writes them (credentials encrypted with SECRET_KEY, Whapi's
webhook token derived from it), one connection each, so a running receiver accepts their
webhooks. Events go in with COPY, after the receiver's own `normalize`, as `pending`.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg

from bench.harness import libpq
from bench.webhooks import CHANNEL_TYPES, PROVIDERS, Target, Webhook, build, credentials
from receiver.providers import PROVIDERS as RECEIVERS
from receiver.providers.base import Inbound
from shared.crypto import encrypt_json
from shared.ids import new_id
from shared.webhook_tokens import webhook_token

NO_SYNC = '{"sync_enabled": false}'


def seed_channels(
    database_url: str,
    secret_key: str,
    count: int,
    instances: int,
    providers: Sequence[str] = PROVIDERS,
) -> list[Target]:
    """`count` channels, the providers taking turns, over `instances` instances. Their
    connections never sync: a benchmark must not call any provider."""
    now = datetime.now(UTC)
    instance_ids = [new_id("inst") for _ in range(instances)]
    targets, connection_rows, channel_rows = [], [], []
    for n in range(count):
        provider = providers[n % len(providers)]
        channel_id, connection_id = new_id("ch"), new_id("conn")
        instance_id = instance_ids[n % instances]
        target = _target(provider, channel_id, instance_id, secret_key, n)
        creds = credentials(target, secrets.token_hex(8))
        connection_rows.append(
            (connection_id, instance_id, provider, f"bench {provider} {n}",
             encrypt_json(secret_key, creds), "{}", "{}", "connected", 1, NO_SYNC, now, now)
        )  # fmt: skip
        channel_rows.append(
            (channel_id, instance_id, CHANNEL_TYPES[provider], provider, connection_id,
             target.external_identifier, "{}", True, "pending", now, now)
        )  # fmt: skip
        targets.append(target)
    with psycopg.connect(libpq(database_url)) as conn:
        conn.cursor().executemany(
            "INSERT INTO instances (id, name, created_at) VALUES (%s, %s, %s)",
            [(iid, f"bench {i}", now) for i, iid in enumerate(instance_ids)],
        )
        _copy(
            conn,
            "connections (id, instance_id, platform, name, credentials_encrypted, "
            "credentials_hint, account, status, channel_count, settings, created_at, updated_at)",
            connection_rows,
        )
        _copy(
            conn,
            "channels (id, instance_id, channel_type, provider, connection_id, "
            "external_identifier, config, enabled, status, created_at, updated_at)",
            channel_rows,
        )
    return targets


def _target(provider: str, channel_id: str, instance_id: str, secret_key: str, n: int) -> Target:
    if provider == "whapi":
        token = webhook_token(secret_key, channel_id, 1)
        return Target(channel_id, instance_id, provider, token, f"BENCH-{n:05d}")
    secret = secrets.token_hex(16)
    if provider == "twilio":
        return Target(channel_id, instance_id, provider, secret, f"+1555{n:07d}")
    return Target(channel_id, instance_id, provider, secret)


@dataclass(frozen=True)
class Planned:
    target: Target
    n: int
    at: float  # when it happens, epoch seconds
    kind: str  # alive | note | final


def plan_backlog(
    targets: Sequence[Target], count: int, start: float, span: float, seed: int = 7
) -> list[Planned]:
    """`count` events spread over `span` seconds from `start`, on random channels (1% of them
    notes); every second channel then gets its `final` event, two seconds after all others."""
    rng = random.Random(seed)
    finals = [t for i, t in enumerate(targets) if i % 2 == 0]
    events = []
    for n in range(count - len(finals)):
        target = rng.choice(targets)
        kind = "note" if rng.random() < 0.01 else "alive"
        events.append(Planned(target, n, start + span * n / count, kind))
    last = max(p.at for p in events)
    for i, target in enumerate(finals):
        events.append(Planned(target, len(events), last + 2.0 + i / 1000, "final"))
    return events


def copy_events(database_url: str, planned: Sequence[Planned], base_url: str) -> int:
    """Store `planned` as the receiver would have (normalised, deduplicated, pending, never
    enqueued); returns how many were stored."""
    rows, seen = [], set()
    for p in planned:
        row = _event_row(p, build(p.target, p.n, p.at, p.kind, base_url))
        key = (row[3], row[2], row[5])  # provider, channel_id, dedup_key: the unique key
        if key not in seen:  # e.g. Slack's one app_rate_limited per team and minute
            seen.add(key)
            rows.append(row)
    with psycopg.connect(libpq(database_url)) as conn:
        _copy(
            conn,
            "events (id, instance_id, channel_id, provider, type, dedup_key, received_at, "
            "occurred_at, status, attempts, payload)",
            rows,
        )
        conn.execute("ANALYZE events")
    return len(rows)


def _event_row(planned: Planned, webhook: Webhook) -> tuple[object, ...]:
    target = planned.target
    inbound = Inbound(
        channel_id=target.channel_id,
        headers={k.lower(): v for k, v in webhook.headers.items()},
        body=webhook.body,
        path=webhook.path,
        query_string=b"",
        url_kind=webhook.url_kind,
        external_identifier=target.external_identifier,
    )
    event = RECEIVERS[target.provider].normalize(inbound).event
    assert event is not None  # the builders never make handshakes
    received_at = datetime.fromtimestamp(planned.at, UTC)
    return (
        new_id("evt"), target.instance_id, target.channel_id, target.provider,
        event.type, event.dedup_key, received_at, event.occurred_at or received_at,
        "pending", 0, orjson.dumps(event.payload).decode(),
    )  # fmt: skip


def _copy(conn: psycopg.Connection[Any], table: str, rows: Iterable[tuple[object, ...]]) -> None:
    with conn.cursor().copy(f"COPY {table} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
