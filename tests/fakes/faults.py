"""What every fake provider keeps about its calls: a record of each one, and the faults a test
has queued for the next ones (slowed, rate limited, failed). `FaultyFake` gives a fake the
test-facing half and `_suffer` (record a call, wait out its delay); each fake answers its own
provider's 429. `SecondsFaultyFake` adds `rate_limit_next` for the fakes whose 429 is a whole
number of seconds (Discord's is a float and a scope, so it keeps its own)."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar

from tests.fakes.server import LoopbackServer

Request = TypeVar("Request")
Limit = TypeVar("Limit")  # what a fake's 429 needs: seconds, or Discord's (seconds, global)


@dataclass(frozen=True)
class Fault(Generic[Limit]):
    """The faults one call suffers: a delay first, then a rate limit, or else a failure."""

    delay: float
    rate_limit: Limit | None
    status: int | None


class CallLog(Generic[Request, Limit]):
    """Thread-safe: the fake's handlers run on uvicorn's loop, tests call from their own thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Request] = []
        self._rate_limits: deque[Limit] = deque()
        self._failures: deque[int] = deque()
        self._delays: deque[float] = deque()

    def record(self, call: Request) -> Fault[Limit]:
        """Keep `call` and hand it the next queued faults; a rate limit spares the failure."""
        with self._lock:
            self._calls.append(call)
            delay = self._delays.popleft() if self._delays else 0.0
            limit = self._rate_limits.popleft() if self._rate_limits else None
            status = self._failures.popleft() if limit is None and self._failures else None
        return Fault(delay, limit, status)

    @property
    def calls(self) -> list[Request]:
        """Snapshot of every call received so far, oldest first."""
        with self._lock:
            return list(self._calls)

    def rate_limit(self, n: int, limit: Limit) -> None:
        _check_count(n)
        with self._lock:
            self._rate_limits.extend([limit] * n)

    def fail(self, n: int, status: int) -> None:
        _check_count(n)
        if not 400 <= status <= 599:
            raise ValueError(f"status must be 4xx or 5xx, got {status}")
        with self._lock:
            self._failures.extend([status] * n)

    def slow(self, n: int, seconds: float) -> None:
        _check_count(n)
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        with self._lock:
            self._delays.extend([seconds] * n)


class FaultyFake(LoopbackServer, Generic[Request, Limit]):
    def __init__(self) -> None:
        super().__init__()
        self._log: CallLog[Request, Limit] = CallLog()

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next ``n`` calls (not rate limited) with HTTP ``status``."""
        self._log.fail(n, status)

    def slow_next(self, n: int, seconds: float) -> None:
        """Delay the next ``n`` responses (of any kind) by ``seconds``."""
        self._log.slow(n, seconds)

    @property
    def requests(self) -> list[Request]:
        """Snapshot of every call received so far, oldest first."""
        return self._log.calls

    async def _suffer(self, call: Request) -> Fault[Limit]:
        """Record `call`, wait out its injected delay, and hand back what else it suffers."""
        fault = self._log.record(call)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        return fault


class SecondsFaultyFake(FaultyFake[Request, int]):
    """A fake whose 429 carries a whole number of seconds to wait."""

    def rate_limit_next(self, n: int, retry_after: int = 1) -> None:
        """Answer the next ``n`` calls with HTTP 429 saying to retry after ``retry_after`` s."""
        if retry_after < 0:
            raise ValueError("retry_after must be >= 0")
        self._log.rate_limit(n, retry_after)


def _check_count(n: int) -> None:
    if n < 0:
        raise ValueError("n must be >= 0")
