"""Worker throughput: how fast real `switchboard worker` processes drain a stored backlog.

A fresh PostgreSQL database gets 1,000 connected channels (the five providers in turn) and
100,000 pending events, stored as the receiver stores them (bench/seed.py). The events are
enqueued on Redis db 4 in messages of the relay's size, oldest first, as the relay would after
an outage; then the workers start, and the clock runs until no event is pending. Meanwhile the
RSS of every worker process is sampled.

Afterwards the run is checked: every event processed exactly once (`attempts` = 1), each
channel's `last_event_at` is the latest `occurred_at` among its events and its status is the
one its events imply, channel rows were written at most once per channel per batch, and the
workers logged no error.

    .venv/bin/python -m bench.drain [--events 100000] [--channels 1000] [--processes 2]
                                     [--threads 4] [--message-size 100]
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from bench.harness import (
    BenchError,
    CpuMeter,
    Process,
    RssSampler,
    descendants,
    environment,
    exit_on_sigterm,
    flush_redis,
    fresh_database,
    libpq,
    megabytes,
    postgres_pids,
    progress,
    run,
    running,
    switchboard_cli,
    verdict,
)
from bench.seed import copy_events, plan_backlog, seed_channels
from bench.webhooks import expected_status

TARGET_RATE = 3_000.0  # events/s
RSS_LIMIT = 200 * 1_048_576
BASE_URL = "http://127.0.0.1:8000"  # only signs Twilio's bodies; nothing listens
TIMEOUT = 600.0


@dataclass(frozen=True)
class Drained:
    events: int
    seconds: float  # first to last batch
    wall_seconds: float  # from starting the workers, their start-up included
    peaks: dict[int, int]  # worker pid → peak RSS
    worker_cpu: float  # CPU seconds of the worker processes
    postgres_cpu: float  # CPU seconds of the PostgreSQL server (any other client's included)
    errors: int  # tracebacks in the workers' log


@dataclass(frozen=True)
class Checks:
    not_once: int  # events not processed, or processed more than once
    wrong_last_event: int
    wrong_status: int
    channel_writes: int  # channel rows updated
    write_bound: int  # distinct channels per message, summed: one write each at most


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    exit_on_sigterm()
    secret_key = secrets.token_urlsafe(36)
    flush_redis()
    try:
        with fresh_database("switchboard_drain") as database_url:
            env = environment(database_url, secret_key)
            os.environ.update(env)  # this process enqueues through the workers' own actor
            switchboard_cli(env, "migrate")
            progress(f"seeding {args.channels:,} channels and {args.events:,} events")
            targets = seed_channels(database_url, secret_key, args.channels, args.instances)
            planned = plan_backlog(targets, args.events, time.time() - 600, 540)
            copy_events(database_url, planned, BASE_URL)
            args.message_size = args.message_size or relay_message_size()
            bound = enqueue(database_url, args.message_size)
            drained = drain(database_url, env, args)
            finals = {p.target.channel_id for p in planned if p.kind == "final"}
            checks = verify(database_url, finals, bound)
    finally:
        flush_redis()
    return 0 if report(drained, checks, args) else 1


def relay_message_size() -> int:
    from workers.relay import MESSAGE_SIZE  # after REDIS_URL is set: this installs the broker

    return MESSAGE_SIZE


def enqueue(database_url: str, size: int) -> int:
    """Send the pending events, oldest first, `size` per message; returns the write bound."""
    from workers.actors import process_events

    with psycopg.connect(libpq(database_url)) as conn:
        query = "SELECT id, channel_id FROM events WHERE status = 'pending' ORDER BY received_at"
        rows = conn.execute(query).fetchall()
        conn.execute("UPDATE events SET enqueued_at = now() WHERE status = 'pending'")
    progress(f"enqueueing {len(rows):,} events in {-(-len(rows) // size):,} messages of {size}")
    bound = 0
    for start in range(0, len(rows), size):
        batch = rows[start : start + size]
        process_events.send([event_id for event_id, _ in batch])
        bound += len({channel_id for _, channel_id in batch})
    return bound


def drain(database_url: str, env: dict[str, str], args: argparse.Namespace) -> Drained:
    argv = ["worker", "--processes", str(args.processes), "--threads", str(args.threads)]
    postgres = CpuMeter(postgres_pids)
    postgres.start()
    workers = Process("drain-workers", argv, env)
    worker_cpu = CpuMeter(lambda: descendants(workers.pid))
    started = time.monotonic()
    progress(f"draining with {args.processes} worker processes x {args.threads} threads")
    with (
        running(workers),
        RssSampler([workers.pid]) as rss,
        psycopg.connect(libpq(database_url), autocommit=True) as conn,
    ):
        while _count(conn, "SELECT count(*) FROM events WHERE status = 'pending'") > 0:
            workers.check_alive()
            if time.monotonic() - started > TIMEOUT:
                raise BenchError(f"events still pending after {TIMEOUT} s")
            time.sleep(0.1)
        wall = time.monotonic() - started
        worker_cpu.stop()
        postgres.stop()
        rss.sample()
        row = conn.execute(
            "SELECT count(*), extract(epoch FROM max(processed_at) - min(processed_at)) FROM events"
        ).fetchone()
        assert row is not None
    # Dramatiq's parent process only supervises; the peaks that matter are its children's.
    peaks = {pid: peak for pid, peak in rss.peaks.items() if pid != workers.pid}
    errors = workers.log_path.read_text(errors="replace").count("Traceback")
    return Drained(
        events=int(row[0]),
        seconds=float(row[1]),
        wall_seconds=wall,
        peaks=peaks or rss.peaks,
        worker_cpu=worker_cpu.seconds,
        postgres_cpu=postgres.seconds,
        errors=errors,
    )


def verify(database_url: str, with_final: set[str], bound: int) -> Checks:
    with psycopg.connect(libpq(database_url)) as conn:
        not_once = _count(
            conn, "SELECT count(*) FROM events WHERE status <> 'processed' OR attempts <> 1"
        )
        wrong_last = _count(
            conn,
            "SELECT count(*) FROM channels c JOIN (SELECT channel_id, max(occurred_at) AS latest "
            "FROM events GROUP BY channel_id) e ON e.channel_id = c.id "
            "WHERE c.last_event_at IS DISTINCT FROM e.latest",
        )
        rows = conn.execute("SELECT id, provider, status FROM channels").fetchall()
        wrong_status = sum(
            1
            for channel_id, provider, status in rows
            if status != expected_status(provider, channel_id in with_final)
        )
        # The workers have exited, so their statistics have reached the server.
        writes = _count(
            conn, "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'channels'"
        )
    return Checks(not_once, wrong_last, wrong_status, writes, bound)


def _count(conn: psycopg.Connection[Any], query: str) -> int:
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def report(drained: Drained, checks: Checks, args: argparse.Namespace) -> bool:
    rate = drained.events / drained.seconds if drained.seconds > 0 else float("inf")
    peak = max(drained.peaks.values(), default=0)
    rate_met, rss_met = rate >= TARGET_RATE, peak < RSS_LIMIT
    print(
        f"drain: {rate:,.0f} events/s (target {TARGET_RATE:,.0f}: {verdict(rate_met)}); "
        f"peak worker RSS {megabytes(peak)} (limit {megabytes(RSS_LIMIT)}: {verdict(rss_met)})"
    )
    print(
        f"  {drained.events:,} events over {args.channels:,} channels in {drained.seconds:.1f} s "
        f"(first to last batch; {drained.wall_seconds:.1f} s with worker start-up), "
        f"{args.processes} processes x {args.threads} threads, "
        f"messages of {args.message_size}"
    )
    print("  worker RSS peaks: " + ", ".join(megabytes(v) for v in sorted(drained.peaks.values())))
    wall, events = drained.wall_seconds, drained.events
    workers, postgres = drained.worker_cpu, drained.postgres_cpu
    print(
        f"  CPU over {wall:.1f} s on {os.cpu_count()} cores: workers {workers / wall:.2f} cores "
        f"({workers / events * 1e6:.0f} us/event), PostgreSQL {postgres / wall:.2f} cores "
        f"({postgres / events * 1e6:.0f} us/event, other clients' work included)"
    )
    coalesced = checks.channel_writes <= checks.write_bound
    print(
        f"  channel row writes: {checks.channel_writes:,} for {events:,} events "
        f"(at most one per channel per batch: {checks.write_bound:,}) "
        f"-> {'OK' if coalesced else 'NOT COALESCED'}"
    )
    ok = (
        checks.not_once == 0
        and checks.wrong_last_event == 0
        and checks.wrong_status == 0
        and drained.errors == 0
        and coalesced
    )
    print(
        f"  check: events not processed exactly once = {checks.not_once}, channels with a wrong "
        f"last_event_at = {checks.wrong_last_event}, with a wrong status = {checks.wrong_status}, "
        f"worker tracebacks = {drained.errors} -> {'OK' if ok else 'FAILED'}"
    )
    return ok and rate_met and rss_met


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--channels", type=int, default=1_000)
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--processes", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per process (default 4)")
    parser.add_argument(
        "--message-size", type=int, default=None, help="events per message (default: the relay's)"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    run(main)
