"""The group-commit conveyor: one batch written at a time, each at most half of the webhooks
awaiting an answer, the next one sent before the last one's requests are answered."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any

from receiver.webhooks.event_store import Accepted, Outcome
from receiver.webhooks.ingest import Ingestor
from shared.events import NormalizedEvent

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def accepted(n: int) -> Accepted:
    event = NormalizedEvent("slack.event_callback.message", f"Ev{n}", {}, NOW)
    return Accepted("chn_1", "ins_1", "slack", event, NOW)


class Store:
    """Records each batch and what had been answered when it arrived; holds it until released."""

    def __init__(self, ingestor_answers: list[int], fail: set[int] | None = None) -> None:
        self.batches: list[list[str]] = []
        self.answered_when_written: list[int] = []
        self.release: list[asyncio.Event] = []
        self._answers = ingestor_answers
        self._fail = fail or set()

    async def __call__(self, items: Sequence[Accepted]) -> list[Outcome]:
        number = len(self.batches)
        self.batches.append([item.event.dedup_key for item in items])
        self.answered_when_written.append(len(self._answers))
        released = asyncio.Event()
        self.release.append(released)
        await released.wait()
        if number in self._fail:
            raise ConnectionError("database went away")
        return [Outcome.STORED] * len(items)

    async def batch_count(self, count: int) -> None:
        while len(self.batches) < count:
            await asyncio.sleep(0)


async def submit_all(ingestor: Ingestor, numbers: range, answers: list[int]) -> list[Outcome]:
    async def one(n: int) -> Outcome:
        outcome = await ingestor.submit(accepted(n))
        answers.append(n)
        return outcome

    return await asyncio.gather(*(one(n) for n in numbers))


def run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(scenario, timeout=5))  # a wrong conveyor hangs, not fails


def test_a_lone_webhook_is_written_alone() -> None:
    async def scenario() -> None:
        answers: list[int] = []
        store = Store(answers)
        ingestor = Ingestor(store)
        submitted = asyncio.ensure_future(submit_all(ingestor, range(1), answers))
        await store.batch_count(1)
        store.release[0].set()
        assert await submitted == [Outcome.STORED]
        assert store.batches == [["Ev0"]]

    run(scenario())


def test_concurrent_webhooks_form_two_alternating_batches() -> None:
    async def scenario() -> None:
        answers: list[int] = []
        store = Store(answers)
        ingestor = Ingestor(store)
        first = asyncio.ensure_future(submit_all(ingestor, range(32), answers))
        await store.batch_count(1)
        # Half of the 32 waiting go first; the rest wait for that batch, not beside it.
        assert len(store.batches[0]) == 16
        for _ in range(10):
            await asyncio.sleep(0)
        assert len(store.batches) == 1

        store.release[0].set()
        await store.batch_count(2)
        # The second half went to the database before the first half was answered.
        assert store.batches[1] == [f"Ev{n}" for n in range(16, 32)]
        assert store.answered_when_written[1] == 0
        while len(answers) < 16:
            await asyncio.sleep(0)

        # The answered group comes back while the second batch is written: it waits, whole.
        second = asyncio.ensure_future(submit_all(ingestor, range(100, 116), answers))
        for _ in range(10):
            await asyncio.sleep(0)
        assert len(store.batches) == 2
        store.release[1].set()
        await store.batch_count(3)
        assert store.batches[2] == [f"Ev{n}" for n in range(100, 116)]
        store.release[2].set()
        assert await first == [Outcome.STORED] * 32
        assert await second == [Outcome.STORED] * 16

    run(scenario())


def test_a_failed_batch_fails_those_waiting_too_and_later_webhooks_are_written() -> None:
    async def scenario() -> None:
        answers: list[int] = []
        store = Store(answers, fail={0})
        ingestor = Ingestor(store)
        submitted = asyncio.ensure_future(submit_all(ingestor, range(4), answers))
        await store.batch_count(1)
        store.release[0].set()
        # The database is likely down: the two waiting are answered at once, not after their
        # own batch has waited for a connection too.
        assert await submitted == [Outcome.UNAVAILABLE] * 4
        assert len(store.batches) == 1
        later = asyncio.ensure_future(submit_all(ingestor, range(10, 11), answers))
        await store.batch_count(2)
        store.release[1].set()
        assert await later == [Outcome.STORED]

    run(scenario())


def test_stopping_writes_the_batch_in_hand_and_refuses_the_rest() -> None:
    async def scenario() -> None:
        answers: list[int] = []
        store = Store(answers)
        ingestor = Ingestor(store)
        submitted = asyncio.ensure_future(submit_all(ingestor, range(4), answers))
        await store.batch_count(1)
        stopping = asyncio.ensure_future(ingestor.stop())
        await asyncio.sleep(0)
        store.release[0].set()
        await stopping
        assert await submitted == [Outcome.STORED] * 2 + [Outcome.UNAVAILABLE] * 2
        assert await ingestor.submit(accepted(9)) is Outcome.UNAVAILABLE
        assert len(store.batches) == 1

    run(scenario())
