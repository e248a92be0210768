"""Soak: a steady webhook rate for minutes, then nothing lost, nothing applied twice, and
memory flat.

The deployment and load are the freshness benchmark's (bench/deployment.py, bench/load.py):
1,000 channels of the five providers, 1,000 signed webhooks/s by default, and 1% of the
acknowledged webhooks sent again as a provider's retry would. Probes keep measuring freshness
throughout. The RSS of every web, worker and scheduler process is sampled.

Once the load stops and the workers have drained, the run is checked:
* nothing lost: every webhook answered 2xx is stored, on its channel, and processed;
* nothing twice: no retried webhook was stored again, and every event was processed exactly
  once (`attempts` = 1), with no dead letter;
* memory flat: each process's peak RSS in the last minute is within 10% of its peak in the
  first minute (for runs under four minutes, the first and last quarter).

    .venv/bin/python -m bench.soak [--minutes 10] [--rate 1000] [--processes 2] [--threads 4]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
import psycopg

from bench.deployment import Deployment, deployed
from bench.freshness import wait_for_drain
from bench.harness import (
    RssSampler,
    exit_on_sigterm,
    libpq,
    megabytes,
    progress,
    run,
    verdict,
)
from bench.load import TIMEOUT, Load, Probes, add_load_arguments

RSS_GROWTH_LIMIT = 0.10
DUPLICATE_SHARE = 0.01
STEADY = 0.95  # the rate reached, at least this share of the one asked for


@dataclass(frozen=True)
class Memory:
    name: str  # role and pid
    first: int  # peak RSS in the first window
    last: int  # peak RSS in the last window

    @property
    def flat(self) -> bool:
        return self.last <= self.first * (1 + RSS_GROWTH_LIMIT)


@dataclass(frozen=True)
class Soaked:
    load: Load
    probes: Probes
    seconds: float
    window: float  # seconds compared at each end for memory
    memory: list[Memory]
    stored: Counter[str]  # channel → events stored
    not_once: int  # events not processed exactly once
    dead_letters: int


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    exit_on_sigterm()
    with deployed("soak", args.channels, args.probes, args.processes, args.threads) as d:
        soaked = asyncio.run(soak(d, args))
    return 0 if report(soaked, args.rate) else 1


async def soak(d: Deployment, args: argparse.Namespace) -> Soaked:
    seconds = args.minutes * 60
    roles = {p.pid: name for name, p in d.processes.items()}
    connector = aiohttp.TCPConnector(limit=args.concurrency + args.probes + 2)
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as session:
        load = Load(
            d.base_url,
            d.load,
            args.rate,
            duplicate_share=DUPLICATE_SHARE,
            concurrency=args.concurrency,
        )
        probes = Probes(d.base_url, d.token, d.probes)
        progress(f"soaking: {args.rate:,.0f} webhooks/s for {args.minutes:g} min")
        with RssSampler(list(roles), interval=1.0) as rss:
            began = time.monotonic()
            watch = asyncio.get_running_loop().create_task(watch_progress(load, rss, began))
            try:
                await asyncio.gather(load.run(session, seconds), probes.run(session, seconds))
            finally:
                watch.cancel()
            ended = time.monotonic()
    window = min(60.0, seconds / 4)
    first, last = rss.window_peak(began, began + window), rss.window_peak(ended - window, ended)
    memory = [
        Memory(f"{role_of(pid, roles)} {pid}", first[pid], last[pid])
        for pid in sorted(first)
        if pid in last and role_of(pid, roles) != "worker supervisor"
    ]
    wait_for_drain(d)
    stored, not_once, dead = tally_database(d)
    return Soaked(load, probes, ended - began, window, memory, stored, not_once, dead)


def role_of(pid: int, roles: dict[int, str]) -> str:
    """A sampled process's role: Dramatiq's parent only supervises its worker processes."""
    if roles.get(pid) == "worker":
        return "worker supervisor"
    return roles.get(pid, "worker")


async def watch_progress(load: Load, rss: RssSampler, began: float) -> None:
    while True:
        await asyncio.sleep(60)
        tally = load.tally
        peak = max((max(s.values(), default=0) for _, s in rss.series[-5:]), default=0)
        progress(
            f"{(time.monotonic() - began) / 60:.0f} min: {tally.started:,} sent, "
            f"{tally.acked:,} acknowledged, largest RSS now {megabytes(peak)}"
        )


def tally_database(d: Deployment) -> tuple[Counter[str], int, int]:
    with psycopg.connect(libpq(d.database_url)) as conn:
        rows = conn.execute("SELECT channel_id, count(*) FROM events GROUP BY channel_id")
        stored = Counter({channel_id: int(n) for channel_id, n in rows})
        row = conn.execute(
            "SELECT count(*) FROM events WHERE status <> 'processed' OR attempts <> 1"
        ).fetchone()
        dead = conn.execute("SELECT count(*) FROM dead_letters").fetchone()
    return stored, int(row[0]) if row else -1, int(dead[0]) if dead else -1


def report(s: Soaked, rate: float) -> bool:
    tally = s.load.tally
    reached = tally.started / s.seconds
    channels = {t.channel_id for t in s.load.targets}
    lost = sum(max(0, tally.acked_by_channel[c] - s.stored[c]) for c in channels)
    stored_again = sum(
        max(0, s.stored[c] - tally.acked_by_channel[c] - tally.unanswered_by_channel[c])
        for c in channels
    )
    duplicates = stored_again + s.not_once
    flat = all(m.flat for m in s.memory)
    steady = reached >= STEADY * rate
    ok = lost == 0 and duplicates == 0 and s.dead_letters == 0 and flat and steady
    print(
        f"soak: {s.seconds / 60:.1f} min at {reached:,.0f} webhooks/s (asked {rate:,.0f}: "
        f"{verdict(steady)}): {lost} lost (target 0: {verdict(lost == 0)}), {duplicates} "
        f"duplicates applied (target 0: {verdict(duplicates == 0)}), memory "
        f"{'flat' if flat else 'GROWING'} (limit +{RSS_GROWTH_LIMIT:.0%}: {verdict(flat)})"
    )
    print(
        f"  {tally.started:,} webhooks sent, {tally.acked:,} answered 2xx, "
        f"{sum(tally.refused.values())} refused {dict(tally.refused)}, {tally.failed} unanswered; "
        f"{tally.duplicates_sent:,} resent as retries ({tally.duplicates_acked:,} answered 2xx), "
        f"{stored_again} of them stored again; {sum(s.stored[c] for c in channels):,} stored"
    )
    print(f"  events not processed exactly once: {s.not_once}; dead letters: {s.dead_letters}")
    for m in s.memory:
        print(
            f"  RSS {m.name}: {megabytes(m.first)} in the first {s.window:.0f} s, "
            f"{megabytes(m.last)} in the last {s.window:.0f} s"
        )
    delays = s.probes.result.delays
    if len(delays) > 1:
        cuts = statistics.quantiles(delays, n=100, method="inclusive")
        print(
            f"  freshness over the soak: p50 {cuts[49] * 1000:.1f} ms, "
            f"p99 {cuts[98] * 1000:.1f} ms ({len(delays):,} probes, "
            f"{s.probes.result.failed} not seen)"
        )
    return ok


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="duration (default 10)")
    add_load_arguments(parser)
    args = parser.parse_args(argv)
    if args.minutes <= 0:
        parser.error("--minutes must be positive")
    return args


if __name__ == "__main__":
    run(main)
