"""What waking another thread or process costs on this machine.

Every webhook Switchboard stores waits on two other processes (PostgreSQL, then Redis), and a
naive receiver also hands each request to a thread. A bare endpoint does neither. On the VMs
this project is measured on, such a wake-up costs several times what it does on bare metal,
which is where the receiver's ratios to bare Starlette go (README, Performance). This prints
the cost of a round trip between two threads (queue ping-pong) and between two processes
(pipe ping-pong), in wall time and in the caller's CPU time.

    .venv/bin/python -m bench.wakeups [--round-trips 20000]
"""

from __future__ import annotations

import argparse
import os
import queue
import resource
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Wakeups:
    """(wall µs, CPU µs) of one round trip between two threads, and between two processes."""

    threads: tuple[float, float]
    processes: tuple[float, float]


def measure(round_trips: int) -> Wakeups:
    return Wakeups(threads(round_trips), processes(round_trips))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(round_trips: int, ping: Callable[[], None]) -> tuple[float, float]:
    """(wall µs, CPU µs of this process) per call of `ping`."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    for _ in range(round_trips):
        ping()
    return (
        (time.perf_counter() - wall) / round_trips * 1e6,
        (cpu_seconds() - cpu) / round_trips * 1e6,
    )


def threads(round_trips: int) -> tuple[float, float]:
    there: queue.Queue[int] = queue.Queue()
    back: queue.Queue[int] = queue.Queue()

    def echo() -> None:
        for _ in range(round_trips):
            back.put(there.get())

    echoing = threading.Thread(target=echo)
    echoing.start()

    def ping() -> None:
        there.put(1)
        back.get()

    try:
        return timed(round_trips, ping)  # both threads' CPU: they share the process
    finally:
        echoing.join()


def processes(round_trips: int) -> tuple[float, float]:
    there_read, there_write = os.pipe()
    back_read, back_write = os.pipe()
    child = os.fork()
    if child == 0:
        for _ in range(round_trips):
            os.read(there_read, 1)
            os.write(back_write, b"x")
        os._exit(0)

    def ping() -> None:
        os.write(there_write, b"x")
        os.read(back_read, 1)

    try:
        return timed(round_trips, ping)  # the caller's CPU only
    finally:
        os.waitpid(child, 0)
        for fd in (there_read, there_write, back_read, back_write):
            os.close(fd)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--round-trips", type=int, default=20_000)
    args = parser.parse_args(argv)
    if args.round_trips < 1:
        parser.error("--round-trips must be positive")
    print(f"Wake-up cost, {os.cpu_count()} CPUs, {args.round_trips:,} round trips each")
    measured = measure(args.round_trips)
    for name, (wall, cpu) in (
        ("two threads (queue)", measured.threads),
        ("two processes (pipe)", measured.processes),
    ):
        print(f"{name:<22} {wall:7.1f} µs wall {cpu:7.1f} µs CPU per round trip")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
