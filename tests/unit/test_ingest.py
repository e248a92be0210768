"""The group-commit conveyor: one batch written at a time, each at most half of the webhooks
awaiting an answer, the next one sent once the last one is stored: before it is enqueued, and
before its requests are answered."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any

from receiver.webhooks.event_store import Accepted, OnStored, Outcome
from receiver.webhooks.ingest import Ingestor
from shared.events import NormalizedEvent

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def accepted(n: int) -> Accepted:
    event = NormalizedEvent("slack.event_callback.message", f"Ev{n}", {}, NOW)
    return Accepted("chn_1", "ins_1", "slack", event, NOW)


class Conveyor:
    """An Ingestor on a store that records each batch, and how many webhooks had been answered
    when it arrived, and holds it until released."""

    def __init__(self, fail: frozenset[int] = frozenset(), hold_enqueue: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.answered_when_written: list[int] = []
        self.release: list[asyncio.Event] = []
        self.enqueue: list[asyncio.Event] = []  # with hold_enqueue, each batch's enqueue waits
        self._hold_enqueue = hold_enqueue
        self.answered: list[int] = []
        self._fail = fail
        self.ingestor = Ingestor(self._store)

    async def _store(self, items: Sequence[Accepted], on_stored: OnStored) -> list[Outcome]:
        number = len(self.batches)
        self.batches.append([item.event.dedup_key for item in items])
        self.answered_when_written.append(len(self.answered))
        released = asyncio.Event()
        self.release.append(released)
        await released.wait()
        if number in self._fail:
            raise ConnectionError("database went away")
        on_stored()
        enqueued = asyncio.Event()
        self.enqueue.append(enqueued)
        if self._hold_enqueue:
            await enqueued.wait()
        return [Outcome.STORED] * len(items)

    def submit(self, numbers: range) -> asyncio.Future[list[Outcome]]:
        """Submit webhooks `numbers` concurrently; the future holds their outcomes in order."""

        async def one(n: int) -> Outcome:
            outcome = await self.ingestor.submit(accepted(n))
            self.answered.append(n)
            return outcome

        return asyncio.ensure_future(asyncio.gather(*(one(n) for n in numbers)))

    async def batch_count(self, count: int) -> None:
        await until(lambda: len(self.batches) >= count)

    async def enqueue_count(self, count: int) -> None:
        await until(lambda: len(self.enqueue) >= count)

    async def answer_count(self, count: int) -> None:
        await until(lambda: len(self.answered) >= count)

    async def store_and_enqueue(self, number: int) -> None:
        """Let batch `number` be stored, then enqueued (with hold_enqueue)."""
        self.release[number].set()
        await self.enqueue_count(number + 1)
        self.enqueue[number].set()


async def until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0)


async def idle_turns(count: int = 10) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


def run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(scenario, timeout=5))  # a wrong conveyor hangs, not fails


def test_a_lone_webhook_is_written_alone() -> None:
    async def scenario() -> None:
        conveyor = Conveyor()
        submitted = conveyor.submit(range(1))
        await conveyor.batch_count(1)
        conveyor.release[0].set()
        assert await submitted == [Outcome.STORED]
        assert conveyor.batches == [["Ev0"]]

    run(scenario())


def test_concurrent_webhooks_form_two_alternating_batches() -> None:
    async def scenario() -> None:
        conveyor = Conveyor()
        first = conveyor.submit(range(32))
        await conveyor.batch_count(1)
        # Half of the 32 waiting go first; the rest wait for that batch, not beside it.
        assert len(conveyor.batches[0]) == 16
        await idle_turns()
        assert len(conveyor.batches) == 1

        conveyor.release[0].set()
        await conveyor.batch_count(2)
        # The second half went to the database before the first half was answered.
        assert conveyor.batches[1] == [f"Ev{n}" for n in range(16, 32)]
        assert conveyor.answered_when_written[1] == 0
        await conveyor.answer_count(16)

        # The answered group comes back while the second batch is written: it waits, whole.
        second = conveyor.submit(range(100, 116))
        await idle_turns()
        assert len(conveyor.batches) == 2
        conveyor.release[1].set()
        await conveyor.batch_count(3)
        assert conveyor.batches[2] == [f"Ev{n}" for n in range(100, 116)]
        conveyor.release[2].set()
        assert await first == [Outcome.STORED] * 32
        assert await second == [Outcome.STORED] * 16

    run(scenario())


def test_the_next_batch_goes_once_the_last_is_stored_while_it_is_enqueued() -> None:
    async def scenario() -> None:
        conveyor = Conveyor(hold_enqueue=True)
        submitted = conveyor.submit(range(32))
        await conveyor.batch_count(1)
        conveyor.release[0].set()
        await conveyor.batch_count(2)
        await idle_turns()
        assert conveyor.answered == []  # the first batch is stored, not yet enqueued
        conveyor.enqueue[0].set()
        await conveyor.answer_count(16)
        await conveyor.store_and_enqueue(1)
        assert await submitted == [Outcome.STORED] * 32

    run(scenario())


def test_a_webhook_arriving_while_a_batch_is_enqueued_is_written_after_it() -> None:
    async def scenario() -> None:
        conveyor = Conveyor(hold_enqueue=True)
        first = conveyor.submit(range(1))
        await conveyor.batch_count(1)
        conveyor.release[0].set()  # stored with nothing waiting: no next batch to send yet
        await conveyor.enqueue_count(1)
        later = conveyor.submit(range(1, 2))
        await idle_turns()
        conveyor.enqueue[0].set()
        await conveyor.batch_count(2)
        await conveyor.store_and_enqueue(1)
        assert (await first, await later) == ([Outcome.STORED], [Outcome.STORED])

    run(scenario())


def test_a_failed_batch_fails_those_waiting_too_and_later_webhooks_are_written() -> None:
    async def scenario() -> None:
        conveyor = Conveyor(fail=frozenset({0}))
        submitted = conveyor.submit(range(4))
        await conveyor.batch_count(1)
        conveyor.release[0].set()
        # The database is likely down: the two waiting are answered at once, not after their
        # own batch has waited for a connection too.
        assert await submitted == [Outcome.UNAVAILABLE] * 4
        assert len(conveyor.batches) == 1
        later = conveyor.submit(range(10, 11))
        await conveyor.batch_count(2)
        conveyor.release[1].set()
        assert await later == [Outcome.STORED]

    run(scenario())


def test_stopping_writes_the_batch_in_hand_and_refuses_the_rest() -> None:
    async def scenario() -> None:
        conveyor = Conveyor()
        submitted = conveyor.submit(range(4))
        await conveyor.batch_count(1)
        stopping = asyncio.ensure_future(conveyor.ingestor.stop())
        await asyncio.sleep(0)
        conveyor.release[0].set()
        await stopping
        assert await submitted == [Outcome.STORED] * 2 + [Outcome.UNAVAILABLE] * 2
        assert await conveyor.ingestor.submit(accepted(9)) is Outcome.UNAVAILABLE
        assert len(conveyor.batches) == 1

    run(scenario())
