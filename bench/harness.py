"""What the worker benchmarks share: a fresh database, Redis db 4, real `switchboard`
processes, RSS sampling and the one-line verdicts.

Run the benchmarks from the repository root with the venv's Python; every process they start
is stopped (its whole process group) on the way out, and their logs stay in bench/results/.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SWITCHBOARD = Path(sys.executable).with_name("switchboard")

HOST = "127.0.0.1"
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", f"postgresql://postgres@{HOST}:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", f"redis://{HOST}:6379/4")
STOP_TIMEOUT = 15.0
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class BenchError(Exception):
    """The benchmark could not run; the message says why."""


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def libpq(url: str) -> str:
    """A SQLAlchemy URL as psycopg takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextlib.contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database (SQLAlchemy URL), dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flush_redis(url: str = REDIS_URL) -> None:
    """Empty a benchmark's own Redis database (db 4 unless BENCH_REDIS_URL says otherwise)."""
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def environment(database_url: str, secret_key: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": secret_key,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def switchboard_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(SWITCHBOARD), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"switchboard {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout.strip()


class Process:
    """A `switchboard …` process in its own process group; stopping it ends the group."""

    def __init__(self, name: str, args: Sequence[str], env: dict[str, str]) -> None:
        RESULTS.mkdir(exist_ok=True)
        self.name = name
        self.log_path = RESULTS / f"{name}.log"
        with open(self.log_path, "wb") as log:
            self.popen = subprocess.Popen(
                [str(SWITCHBOARD), *args],
                env=env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise BenchError(f"{self.name} exited early; see {self.log_path}:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            progress(f"{self.name}: did not stop within {STOP_TIMEOUT} s, killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def running(*processes: Process) -> Iterator[None]:
    try:
        yield
    finally:
        for process in processes:
            process.stop()


def wait_until_healthy(process: Process, url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process.check_alive()
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise BenchError(f"{process.name} not healthy after {timeout} s:\n{process.log_tail()}")


# -- memory ------------------------------------------------------------------------------------


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (Dramatiq forks its worker processes)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pids: Sequence[int]) -> dict[int, float]:
    """User + system CPU seconds each of `pids` (those still running) has used so far."""
    used = {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


@dataclass
class CpuMeter:
    """CPU used by a changing set of processes between `start()` and `stop()`."""

    pids: Callable[[], list[int]]
    _before: dict[int, float] = field(default_factory=dict)
    seconds: float = 0.0

    def start(self) -> None:
        self._before = cpu_seconds(self.pids())

    def stop(self) -> float:
        after = cpu_seconds(self.pids())
        self.seconds = sum(used - self._before.get(pid, 0.0) for pid, used in after.items())
        return self.seconds


def postgres_pids() -> list[int]:
    """The local PostgreSQL server's processes (other clients' work included)."""
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                found.append(int(entry.name))
    return found


def rss_bytes(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return None
    return int(fields[1]) * PAGE_SIZE


@dataclass
class RssSampler:
    """Samples the RSS of every process under `roots` in a thread; peaks and a time series."""

    roots: list[int]
    interval: float = 0.25
    peaks: dict[int, int] = field(default_factory=dict)
    series: list[tuple[float, dict[int, int]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, name="rss", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def sample(self) -> None:
        now = time.monotonic()
        snapshot: dict[int, int] = {}
        for root in self.roots:
            for pid in descendants(root):
                rss = rss_bytes(pid)
                if rss is not None:
                    snapshot[pid] = rss
                    self.peaks[pid] = max(rss, self.peaks.get(pid, 0))
        self.series.append((now, snapshot))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def window_peak(self, start: float, end: float) -> dict[int, int]:
        """Each process's highest RSS among the samples taken within [start, end]."""
        peaks: dict[int, int] = {}
        for moment, snapshot in self.series:
            if start <= moment <= end:
                for pid, rss in snapshot.items():
                    peaks[pid] = max(rss, peaks.get(pid, 0))
        return peaks


def megabytes(value: float) -> str:
    return f"{value / 1_048_576:,.0f} MB"


def exit_on_sigterm() -> None:
    """SIGTERM unwinds through every `finally`, so started processes are stopped."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signal.SIGTERM)

    signal.signal(signal.SIGTERM, handler)


def run(main: Callable[[], int]) -> None:
    """A benchmark's entry point: its exit code; 2 when it could not run, with the reason."""
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
