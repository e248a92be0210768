"""A real distributed deployment for the load benchmarks: `web`, `worker` and `scheduler`
processes on a fresh PostgreSQL database and Redis db 4, with channels seeded straight into
the database (bench/seed.py), and an org-wide API token to read them back.

If the PostgreSQL server runs with autovacuum off (as a test server may), a stand-in vacuums
and analyzes the busy tables when autovacuum's default thresholds say so. Without it the
statistics of the growing events table stay those of an empty table: the plans prepared then
(sequential scans) are kept for good, and dead rows pile up, so the run would measure a
misconfigured server rather than Switchboard.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import psycopg

from bench.harness import (
    HOST,
    Process,
    environment,
    flush_redis,
    free_port,
    fresh_database,
    libpq,
    progress,
    switchboard_cli,
    wait_until_healthy,
)
from bench.seed import seed_channels
from bench.webhooks import Target

NOWHERE = "http://127.0.0.1:9"  # provider API URLs: nothing here may call a real provider


@dataclass
class Deployment:
    base_url: str
    database_url: str
    token: str
    load: list[Target]  # the channels the load goes to
    probes: list[Target]  # Discord channels of their own instance, for freshness probes
    processes: dict[str, Process] = field(default_factory=dict)


@contextmanager
def deployed(
    name: str, channels: int, probes: int, processes: int, threads: int
) -> Iterator[Deployment]:
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    secret_key = secrets.token_urlsafe(36)
    flush_redis()
    try:
        with fresh_database(f"switchboard_{name}") as database_url:
            env = environment(
                database_url,
                secret_key,
                PUBLIC_BASE_URL=base_url,  # what Twilio signs
                SLACK_API_URL=NOWHERE,
                DISCORD_API_URL=NOWHERE,
                WHAPI_GATE_URL=NOWHERE,
                TWILIO_API_URL=NOWHERE,
                TELEGRAM_API_URL=NOWHERE,
            )
            switchboard_cli(env, "migrate")
            load = seed_channels(database_url, secret_key, channels, 1)
            probe = seed_channels(database_url, secret_key, probes, 1, providers=("discord",))
            token = switchboard_cli(env, "tokens", "create")
            deployment = Deployment(base_url, database_url, token, load, probe)
            worker_args = ["--processes", str(processes), "--threads", str(threads)]
            commands = {
                "web": ["web", "--host", HOST, "--port", str(port)],
                "worker": ["worker", *worker_args],
                "scheduler": ["scheduler"],
            }
            with ExitStack() as stack:
                stack.enter_context(autovacuum_stand_in(database_url))
                for process, args in commands.items():
                    started = Process(f"{name}-{process}", args, env)
                    stack.callback(started.stop)
                    deployment.processes[process] = started
                wait_until_healthy(deployment.processes["web"], f"{base_url}/healthz")
                yield deployment
    finally:
        flush_redis()


# What autovacuum checks, with its default thresholds (a scale factor of 0.2 to vacuum,
# 0.1 to analyze, plus 50 rows).
_DUE = """
SELECT s.relname,
       s.n_dead_tup > 50 + 0.2 * greatest(c.reltuples, 0),
       s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)
FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid
WHERE s.relname IN ('events', 'channels')
"""


@contextmanager
def autovacuum_stand_in(database_url: str, every: float = 5.0) -> Iterator[None]:
    with psycopg.connect(libpq(database_url), autocommit=True) as conn:
        row = conn.execute("SHOW autovacuum").fetchone()
        if row is not None and row[0] == "on":
            yield
            return
        progress("autovacuum is off on this server: the benchmark vacuums and analyzes as it would")
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(every):
                for table, vacuum, analyze in conn.execute(_DUE).fetchall():
                    if vacuum:
                        conn.execute(f"VACUUM (ANALYZE) {table}")
                    elif analyze:
                        conn.execute(f"ANALYZE {table}")

        thread = threading.Thread(target=run, name="autovacuum", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
