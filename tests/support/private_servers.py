"""Throw-away PostgreSQL and Redis servers that a test may stop, flush, restart or kill.

Fault-injection tests must never touch the servers other suites share: each gets its own
PostgreSQL cluster and its own redis-server, on free ports, in a temporary directory that is
removed afterwards. If they cannot be started the tests skip loudly, or fail with CI=true.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis

from tests.support.processes import free_port
from tests.support.services import unavailable

START_TIMEOUT = 30.0
# Durability is not under test, and these settings make a cluster start and write faster.
FAST_AND_LOOSE = "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path is None:
        raise FileNotFoundError("initdb: no PostgreSQL server binaries installed")
    return Path(on_path).parent


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


class PrivatePostgres:
    """A PostgreSQL cluster of our own. PostgreSQL refuses to run as root, so as root its
    commands run as the `postgres` OS user, in a directory that user owns."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self._bin = _postgres_bin()
        self._as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        data = self.directory / "data"
        self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            f"-c max_connections=300 {FAST_AND_LOOSE}"
        )
        log = str(self.directory / "postgres.log")
        self._pg_ctl("start", "-l", log, "-t", str(int(START_TIMEOUT)), "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """`fast` ends sessions and shuts down cleanly; `immediate` is a crash."""
        self._pg_ctl("stop", "-m", mode)

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def create_database(self) -> str:
        name = f"switchboard_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self._libpq(), autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _libpq(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-w", *args)

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self._as_owner, str(self._bin / program), *args],
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT + 10,
        )


class PrivateRedis:
    """A redis-server of our own that keeps nothing on disk: a restart starts it empty."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        # The same server over a Unix socket: cheaper than loopback TCP for a co-located client.
        self.socket = directory / "redis.sock"
        self.unix_url = f"unix://{self.socket}?db=0"
        self._popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--unixsocket", str(self.socket), "--unixsocketperm", "700"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        with (self.directory / "redis.log").open("ab") as log:
            self._popen = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self._popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: see {self.directory}/redis.log")
            time.sleep(0.02)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """SIGTERM shuts down cleanly; SIGKILL is a crash. Either way the data is gone."""
        if self._popen is not None and self._popen.poll() is None:
            self._popen.send_signal(sig)
            self._popen.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def flushall(self) -> None:
        with redis.Redis.from_url(self.url) as client:
            client.flushall()

    def freeze(self) -> None:
        """Stop the server without closing its sockets: its clients hang as on a lost network."""
        assert self._popen is not None
        self._popen.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self._popen is not None and self._popen.poll() is None:
            self._popen.send_signal(signal.SIGCONT)

    def _answers(self) -> bool:
        try:
            with redis.Redis.from_url(self.url, socket_connect_timeout=0.5) as client:
                return bool(client.ping())
        except redis.ConnectionError:
            return False


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    directory = Path(tempfile.mkdtemp(prefix="switchboard-pg-"))
    try:
        server = PrivatePostgres(directory, free_port())
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        server.init()
        server.start()
    except (OSError, LookupError, subprocess.SubprocessError) as exc:
        shutil.rmtree(directory, ignore_errors=True)
        unavailable("A private PostgreSQL server", _with_output(exc))
        raise
    try:
        yield server
    finally:
        try:
            server.stop("immediate")
        except subprocess.SubprocessError:
            pass  # already stopped by the test
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    directory = Path(tempfile.mkdtemp(prefix="switchboard-redis-"))
    server = PrivateRedis(directory, free_port())
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        server.stop(signal.SIGKILL)
        shutil.rmtree(directory, ignore_errors=True)
        unavailable("A private redis-server", exc)
        raise
    try:
        yield server
    finally:
        server.thaw()  # a frozen server ignores SIGKILL's wait otherwise
        server.stop(signal.SIGKILL)
        shutil.rmtree(directory, ignore_errors=True)


def _with_output(exc: Exception) -> Exception:
    """A failed command's own words say why; keep them in the reason."""
    if isinstance(exc, subprocess.CalledProcessError):
        output = (exc.stderr or b"").decode(errors="replace").strip()
        return RuntimeError(f"{exc}: {output[-500:]}")
    return exc
