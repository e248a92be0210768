"""Status freshness: from a webhook's arrival to its effect in the read API, under load.

A real deployment (`web`, `worker`, `scheduler` on PostgreSQL and Redis db 4, bench/deployment.py)
with 1,000 channels of the five providers gets a steady 1,000 signed webhooks/s (bench/load.py).
Meanwhile probes on ten Discord channels of their own instance time each of their webhooks
from sending to the moment `GET /v1/instances/{id}/channels` shows it in `last_event_at`. After
a warm-up, the measured run prints p50 and p99 of those delays and, as a cross-check over every
event of the run, of `processed_at - received_at` from the database: from the receiver taking
the event to a worker taking it, so without the worker's commit and the API's read.

    .venv/bin/python -m bench.freshness [--rate 1000] [--seconds 30] [--processes 2] [--threads 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import psycopg

from bench.deployment import Deployment, deployed
from bench.harness import (
    BenchError,
    CpuMeter,
    descendants,
    exit_on_sigterm,
    libpq,
    postgres_pids,
    progress,
    run,
    verdict,
)
from bench.load import TIMEOUT, Load, Probed, Probes, add_load_arguments

TARGET_P50_MS = 50.0
TARGET_P99_MS = 250.0
DRAIN_TIMEOUT = 120.0


@dataclass(frozen=True)
class Measured:
    load: Load
    probed: Probed
    seconds: float
    lag_ms: tuple[float, float, int, int]  # database cross-check: p50, p99, events, batches
    cpu: dict[str, float]  # role → CPU seconds during the measured run


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    exit_on_sigterm()
    with deployed("freshness", args.channels, args.probes, args.processes, args.threads) as d:
        measured = asyncio.run(measure(d, args))
    return 0 if report(measured, args) else 1


async def measure(d: Deployment, args: argparse.Namespace) -> Measured:
    connector = aiohttp.TCPConnector(limit=args.concurrency + args.probes + 2)
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as session:
        progress(f"warm-up: {args.rate:,.0f} webhooks/s for {args.warmup} s")
        await Load(d.base_url, d.load, args.rate, concurrency=args.concurrency).run(
            session, args.warmup
        )
        progress(
            f"measuring: {args.rate:,.0f} webhooks/s and {args.probes} probes, {args.seconds} s"
        )
        load = Load(
            d.base_url, d.load, args.rate, first=10_000_000, concurrency=args.concurrency, seed=17
        )
        probes = Probes(d.base_url, d.token, d.probes)
        meters = cpu_meters(d)
        window = datetime.now(UTC)
        began = time.monotonic()
        await asyncio.gather(load.run(session, args.seconds), probes.run(session, args.seconds))
        seconds = time.monotonic() - began
        cpu = {role: meter.stop() for role, meter in meters.items()}
    wait_for_drain(d)
    return Measured(load, probes.result, seconds, processing_lag(d, window), cpu)


def cpu_meters(d: Deployment) -> dict[str, CpuMeter]:
    """CPU meters, started, for each process of the deployment, this one and PostgreSQL."""

    def tree(pid: int) -> Callable[[], list[int]]:
        return lambda: descendants(pid)

    meters = {name: CpuMeter(tree(p.pid)) for name, p in d.processes.items()}
    meters["load generator"] = CpuMeter(lambda: [os.getpid()])
    meters["postgres"] = CpuMeter(postgres_pids)
    for meter in meters.values():
        meter.start()
    return meters


def wait_for_drain(d: Deployment) -> None:
    deadline = time.monotonic() + DRAIN_TIMEOUT
    with psycopg.connect(libpq(d.database_url), autocommit=True) as conn:
        while True:
            row = conn.execute("SELECT count(*) FROM events WHERE status = 'pending'").fetchone()
            if row is None or row[0] == 0:
                return
            for process in d.processes.values():
                process.check_alive()
            if time.monotonic() > deadline:
                raise BenchError(f"{row[0]} events still pending {DRAIN_TIMEOUT} s after the load")
            time.sleep(0.2)


def processing_lag(d: Deployment, since: datetime) -> tuple[float, float, int, int]:
    """p50 and p99 of processed_at - received_at (ms) over the events received `since`, their
    number, and the number of batches they were processed in (a batch shares `processed_at`)."""
    query = (
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag), "
        "percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), count(*), count(DISTINCT at) FROM "
        "(SELECT extract(epoch FROM processed_at - received_at) * 1000 AS lag, processed_at AS at "
        "FROM events WHERE received_at >= %s AND processed_at IS NOT NULL) AS lags"
    )
    with psycopg.connect(libpq(d.database_url)) as conn:
        row = conn.execute(query, (since,)).fetchone()
    if row is None or row[2] == 0:
        return (float("nan"), float("nan"), 0, 0)
    return (float(row[0]), float(row[1]), int(row[2]), int(row[3]))


def quantiles_ms(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def report(m: Measured, args: argparse.Namespace) -> bool:
    delays, tally = m.probed.delays, m.load.tally
    if len(delays) < 2:
        raise BenchError(f"only {len(delays)} probes were seen; see bench/results/*.log")
    p50, p99 = quantiles_ms(delays)
    met = p50 < TARGET_P50_MS and p99 < TARGET_P99_MS
    rate = tally.started / m.seconds
    print(
        f"freshness: p50 {p50:.1f} ms (target {TARGET_P50_MS:.0f} ms: "
        f"{verdict(p50 < TARGET_P50_MS)}), p99 {p99:.1f} ms (target {TARGET_P99_MS:.0f} ms: "
        f"{verdict(p99 < TARGET_P99_MS)}) at {rate:,.0f} webhooks/s"
    )
    print(
        f"  {len(delays):,} probes seen ({m.probed.failed} not), max "
        f"{max(delays) * 1000:.0f} ms; API polls took {m.probed.poll_ms:.1f} ms on average "
        f"(the resolution); {args.processes} worker processes x {args.threads} threads"
    )
    answered = tally.latencies or [0.0, 0.0]
    r50, r99 = quantiles_ms(answered) if len(answered) > 1 else (0.0, 0.0)
    print(
        f"  load: {tally.started:,} webhooks in {m.seconds:.1f} s, {tally.acked:,} answered 2xx "
        f"(p50 {r50:.1f} ms, p99 {r99:.1f} ms), refused {sum(tally.refused.values())}, "
        f"unanswered {tally.failed}"
    )
    lag50, lag99, events, batches = m.lag_ms
    print(
        f"  cross-check, processed_at - received_at over {events:,} events: "
        f"p50 {lag50:.1f} ms, p99 {lag99:.1f} ms ({batches:,} batches, "
        f"{events / max(batches, 1):.1f} events each)"
    )
    cpu = ", ".join(f"{role} {used / m.seconds:.2f}" for role, used in m.cpu.items())
    print(f"  CPU cores used: {cpu} (PostgreSQL: other clients' work included)")
    clean = tally.failed == 0 and not tally.refused and m.probed.failed == 0
    if not clean:
        print("  some webhooks or probes failed: see bench/results/freshness-*.log")
    return met and clean


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=30, help="measured seconds (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up seconds (default 5)")
    add_load_arguments(parser)
    return parser.parse_args(argv)


if __name__ == "__main__":
    run(main)
