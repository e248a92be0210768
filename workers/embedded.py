"""Workers and scheduler inside the web process, for `switchboard serve`."""

from __future__ import annotations

import threading

import dramatiq

from workers import scheduler

WORKER_THREADS = 4


class EmbeddedWorkers:
    def __init__(self, broker: dramatiq.Broker, threads: int = WORKER_THREADS) -> None:
        self._worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
        self._stop = threading.Event()
        self._scheduler = threading.Thread(
            target=scheduler.run, args=(self._stop,), name="scheduler", daemon=True
        )

    def start(self) -> None:
        self._worker.start()
        self._scheduler.start()

    def stop(self) -> None:
        self._stop.set()
        self._worker.stop(timeout=10_000)
        self._scheduler.join(timeout=10)
