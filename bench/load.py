"""Steady webhook load, and probes that time each webhook's arrival to its effect in the API.

`Load` is open-loop: it starts webhooks at a fixed rate whether or not earlier ones have been
answered (up to `concurrency` in flight), as providers do, and builds and signs each one just
before sending it, the five providers in turn. A share of the acknowledged webhooks is sent
again a moment later, as a provider retries when an answer is lost: those must be neither
stored nor applied twice.

`Probes` send, on Discord channels of their own instance, events stamped with the time they
are sent, one at a time per channel; one poller lists those channels through the read API
every POLL_INTERVAL while a probe is out, and notes when each channel's `last_event_at` reaches
its probe. A probe's delay runs from just before its webhook is sent to the answer of the
first poll that shows it, so it overstates the real delay by up to one poll (reported).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp

from bench.webhooks import Target, Webhook, build

TIMEOUT = aiohttp.ClientTimeout(total=10)
RETRY_DELAY = 0.2  # seconds before a duplicate is sent
# Between polls: each costs the API ~2 ms of CPU, so polling flat out would load the very
# process whose answers are being measured.
POLL_INTERVAL = 0.005


@dataclass
class Tally:
    started: int = 0
    acked: int = 0  # answered 2xx (originals)
    refused: Counter[int] = field(default_factory=Counter)  # status → originals answered so
    failed: int = 0  # originals without an answer (connection error, timeout)
    duplicates_sent: int = 0
    duplicates_acked: int = 0
    acked_by_channel: Counter[str] = field(default_factory=Counter)
    unanswered_by_channel: Counter[str] = field(default_factory=Counter)  # not 2xx: stored or not
    latencies: list[float] = field(default_factory=list)  # seconds, originals answered 2xx


class Load:
    def __init__(
        self,
        base_url: str,
        targets: list[Target],
        rate: float,
        *,
        first: int = 1,
        duplicate_share: float = 0.0,
        concurrency: int = 256,
        seed: int = 11,
    ) -> None:
        self.base_url = base_url
        self.targets = targets
        self.rate = rate
        self.duplicate_share = duplicate_share
        self.tally = Tally()
        self._numbers = itertools.count(first)  # webhook numbers: dedup keys derive from them
        self._slots = asyncio.Semaphore(concurrency)
        self._random = random.Random(seed)
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, session: aiohttp.ClientSession, seconds: float) -> None:
        """Start webhooks at `rate` for `seconds`, then wait for the answers."""
        start = time.monotonic()
        started = 0
        while (elapsed := time.monotonic() - start) < seconds:
            # Behind schedule (every slot taken), it sends as fast as answers come back: the
            # rate it reaches is reported.
            while started < int(elapsed * self.rate) and time.monotonic() - start < seconds:
                await self._slots.acquire()
                self._spawn(self._send(session))
                started += 1
            await asyncio.sleep(0.002)
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    def _spawn(self, coroutine: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, session: aiohttp.ClientSession) -> None:
        n = next(self._numbers)
        target = self.targets[n % len(self.targets)]
        kind = "note" if target.provider == "twilio" and n % 97 == 0 else "alive"
        webhook = build(target, n, time.time(), kind, self.base_url)
        self.tally.started += 1
        began = time.monotonic()
        try:
            status = await post(session, self.base_url, webhook)
        finally:
            self._slots.release()
        if status is not None and 200 <= status < 300:
            self.tally.acked += 1
            self.tally.acked_by_channel[target.channel_id] += 1
            self.tally.latencies.append(time.monotonic() - began)
            if self._random.random() < self.duplicate_share:
                self._spawn(self._resend(session, webhook))
            return
        self.tally.unanswered_by_channel[target.channel_id] += 1
        if status is None:
            self.tally.failed += 1
        else:
            self.tally.refused[status] += 1

    async def _resend(self, session: aiohttp.ClientSession, webhook: Webhook) -> None:
        await asyncio.sleep(RETRY_DELAY)
        self.tally.duplicates_sent += 1
        status = await post(session, self.base_url, webhook)
        if status is not None and 200 <= status < 300:
            self.tally.duplicates_acked += 1


async def post(session: aiohttp.ClientSession, base_url: str, webhook: Webhook) -> int | None:
    """The answer's status, or None when there was none."""
    try:
        async with session.post(
            base_url + webhook.path, data=webhook.body, headers=webhook.headers
        ) as response:
            await response.read()
            return response.status
    except (aiohttp.ClientError, TimeoutError):
        return None


@dataclass
class Probed:
    delays: list[float] = field(default_factory=list)  # seconds, send → visible in the API
    failed: int = 0  # probes refused, or never seen
    polls: int = 0
    poll_seconds: float = 0.0  # total time spent in polls

    @property
    def poll_ms(self) -> float:
        return self.poll_seconds / self.polls * 1000 if self.polls else 0.0


class Probes:
    def __init__(
        self,
        base_url: str,
        token: str,
        targets: list[Target],
        *,
        gap: tuple[float, float] = (0.1, 0.3),
        give_up: float = 10.0,
        seed: int = 13,
    ) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.targets = targets
        self.gap = gap
        self.give_up = give_up
        self.result = Probed()
        self._waiting: dict[str, tuple[datetime, asyncio.Future[float]]] = {}
        self._random = random.Random(seed)
        self._numbers = itertools.count(2_000_000_000)

    async def run(self, session: aiohttp.ClientSession, seconds: float) -> None:
        stop = time.monotonic() + seconds
        poller = asyncio.get_running_loop().create_task(self._poll(session))
        try:
            await asyncio.gather(*(self._probe(session, t, stop) for t in self.targets))
        finally:
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)

    async def _probe(self, session: aiohttp.ClientSession, target: Target, stop: float) -> None:
        await asyncio.sleep(self._random.uniform(*self.gap))  # spread the probes out
        while time.monotonic() < stop:
            at = time.time()
            webhook = build(target, next(self._numbers), at, "probe", self.base_url)
            seen: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            self._waiting[target.channel_id] = (datetime.fromtimestamp(at, UTC), seen)
            sent = time.monotonic()
            status = await post(session, self.base_url, webhook)
            try:
                if status is None or not 200 <= status < 300:
                    raise TimeoutError
                self.result.delays.append(await asyncio.wait_for(seen, self.give_up) - sent)
            except TimeoutError:
                self.result.failed += 1
            finally:
                self._waiting.pop(target.channel_id, None)
            await asyncio.sleep(self._random.uniform(*self.gap))

    async def _poll(self, session: aiohttp.ClientSession) -> None:
        instance = self.targets[0].instance_id
        url = f"{self.base_url}/v1/instances/{instance}/channels?limit=200"
        while True:
            if not self._waiting:
                await asyncio.sleep(0.001)
                continue
            began = time.monotonic()
            async with session.get(url, headers=self.headers) as response:
                page = await response.json()
            answered = time.monotonic()
            self.result.polls += 1
            self.result.poll_seconds += answered - began
            for channel in page["channels"]:
                waiting = self._waiting.get(channel["id"])
                last = channel["last_event_at"]
                if waiting is None or last is None or waiting[1].done():
                    continue
                if datetime.fromisoformat(last) >= waiting[0]:
                    waiting[1].set_result(answered)
            await asyncio.sleep(POLL_INTERVAL)


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a deployment under steady load, as freshness and soak share them."""
    parser.add_argument("--rate", type=float, default=1_000.0, help="webhooks/s (default 1000)")
    parser.add_argument("--channels", type=int, default=1_000)
    parser.add_argument("--probes", type=int, default=10, help="probe channels (default 10)")
    parser.add_argument("--processes", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per process (default 4)")
    parser.add_argument("--concurrency", type=int, default=256, help="webhooks in flight, at most")
