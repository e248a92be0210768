"""Switchboard deployed as a user runs it: `serve` on SQLite, or `web` + `worker` on
PostgreSQL and Redis, each a real process on loopback."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import create_engine, text

from tests.support import secret_scan
from tests.support.processes import SWITCHBOARD, Process, environment, free_port, run

T = TypeVar("T")


@dataclass
class Deployment:
    base_url: str
    database_url: str
    env: dict[str, str]
    cwd: Path
    processes: dict[str, Process] = field(default_factory=dict)
    receivers: list[str] = field(default_factory=list)  # URLs of the receivers `start_web` ran

    def cli(self, *args: str) -> str:
        result = run(list(args), self.env, self.cwd)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def org_token(self) -> str:
        token = self.cli("tokens", "create").strip()
        secret_scan.remember(token)
        return token

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=10)

    def sql(self, query: str, **params: Any) -> list[Any]:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(query), params))
        finally:
            engine.dispose()

    def execute(self, statement: str) -> None:
        """Run one statement and commit it: for fault injection."""
        engine = create_engine(self.database_url)
        try:
            with engine.begin() as conn:
                conn.execute(text(statement))
        finally:
            engine.dispose()

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{p.output()}" for name, p in self.processes.items())

    def start(
        self, name: str, args: list[str], program: tuple[str, ...] | None = None, **env: str
    ) -> Process:
        """Start one more process; everything started is stopped with the deployment."""
        extra = {"program": program} if program else {}
        process = Process(args, {**self.env, **env}, self.cwd, name, **extra)
        self.processes[name] = process
        return process

    def start_web(self, name: str = "web") -> str:
        """Start a receiver, the first one on `base_url`; returns its URL once it answers."""
        url = self.next_receiver_url()
        process = self.start(name, ["web", "--port", url.rsplit(":", 1)[1]])
        process.wait_http(url + "/healthz")
        self.receivers.append(url)
        return url

    def next_receiver_url(self) -> str:
        return self.base_url if not self.receivers else f"http://127.0.0.1:{free_port()}"


@contextmanager
def deployed(kind: str, request: Any, cwd: Path, **env: str) -> Iterator[Deployment]:
    """`embedded` or `distributed`; the latter takes the PostgreSQL and Redis fixtures."""
    if kind == "embedded":
        with embedded(cwd, **env) as deployment:
            yield deployment
        return
    postgres = request.getfixturevalue("postgres_url")
    redis = request.getfixturevalue("test_redis_url")
    with distributed(cwd, postgres, redis, **env) as deployment:
        yield deployment


def eventually(probe: Callable[[], T], accept: Callable[[T], bool], timeout: float = 15.0) -> T:
    """Poll `probe` until `accept` holds; return the last value either way."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not accept(value) and time.monotonic() < deadline:
        time.sleep(0.05)
        value = probe()
    return value


def wait_for_syncs(deployment: Deployment) -> None:
    """Until every connection has had its first sync and none is running: a sync locks its
    channels' rows and sets its connection's status, so tests of other things wait for it."""
    query = (
        "SELECT count(*) FROM connections WHERE last_sync IS NULL OR sync_lease_owner IS NOT NULL"
    )
    unsettled = eventually(lambda: deployment.sql(query)[0][0], lambda n: n == 0)
    assert unsettled == 0, deployment.logs()


@contextmanager
def embedded(cwd: Path, **env: str) -> Iterator[Deployment]:
    port = free_port()
    database_url = f"sqlite:///{cwd / 'switchboard.db'}"
    deployment = _deployment(cwd, port, database_url, env)
    deployment.cli("migrate")
    with _running(deployment, {"serve": ["serve", "--port", str(port)]}):
        yield deployment


@contextmanager
def distributed(cwd: Path, database_url: str, redis_url: str, **env: str) -> Iterator[Deployment]:
    port = free_port()
    deployment = _deployment(cwd, port, database_url, {"REDIS_URL": redis_url, **env})
    deployment.cli("migrate")
    commands = {
        "web": ["web", "--port", str(port)],
        "worker": ["worker", "--processes", "1", "--threads", "4"],
    }
    with _running(deployment, commands):
        yield deployment


@contextmanager
def on_servers(cwd: Path, database_url: str, redis_url: str, **env: str) -> Iterator[Deployment]:
    """A migrated deployment on PostgreSQL and Redis that runs nothing yet: the test starts
    the processes it needs (`start`, `start_web`), and they are all stopped afterwards."""
    deployment = _deployment(cwd, free_port(), database_url, {"REDIS_URL": redis_url, **env})
    deployment.cli("migrate")
    try:
        yield deployment
    finally:
        # All at once: a graceful shutdown takes a worker a second or two.
        for process in deployment.processes.values():
            process.kill(signal.SIGTERM)
        for process in deployment.processes.values():
            process.stop()


def _deployment(cwd: Path, port: int, database_url: str, env: dict[str, str]) -> Deployment:
    base_url = f"http://127.0.0.1:{port}"
    # PUBLIC_BASE_URL may be overridden: a TLS-terminating proxy's https URL, for instance.
    full_env = environment(**{"DATABASE_URL": database_url, "PUBLIC_BASE_URL": base_url, **env})
    return Deployment(base_url, database_url, full_env, cwd)


@contextmanager
def _running(deployment: Deployment, commands: dict[str, list[str]]) -> Iterator[None]:
    try:
        for name, args in commands.items():
            deployment.processes[name] = Process(args, deployment.env, deployment.cwd, name)
        deployment.processes[next(iter(commands))].wait_http(deployment.base_url + "/healthz")
        yield
    finally:
        for process in deployment.processes.values():
            process.stop()
    _assert_no_secret_in_clear(deployment)


def _assert_no_secret_in_clear(deployment: Deployment) -> None:
    """Credentials and webhook secrets never reach logs or the database in clear."""
    in_logs = secret_scan.found_in(deployment.logs())
    in_rows = secret_scan.found_in(secret_scan.database_text(deployment.database_url))
    assert not in_logs and not in_rows, f"secrets in clear: logs {in_logs}, database {in_rows}"


def procfile(path: Path) -> dict[str, str]:
    """Process type → command, as Procfile runners read it."""
    entries = [line.split(":", 1) for line in path.read_text().splitlines() if line.strip()]
    return {kind.strip(): command.strip() for kind, command in entries}


def run_procfile(deployment: Deployment, path: Path, **counts: int) -> None:
    """Run `counts[type]` copies of each Procfile process type, each through `sh` with a PORT
    of its own, as honcho, foreman or a platform would; receivers join `deployment.receivers`."""
    commands = procfile(path)
    search_path = f"{Path(SWITCHBOARD).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    for kind, count in counts.items():
        for n in range(1, count + 1):
            url = deployment.next_receiver_url() if kind == "web" else ""
            process = deployment.start(
                f"{kind}.{n}",
                ["-c", f"exec {commands[kind]}"],
                program=("sh",),
                PORT=url.rsplit(":", 1)[1] if url else str(free_port()),
                PATH=search_path,
            )
            if url:
                process.wait_http(url + "/healthz")
                deployment.receivers.append(url)


def restart_workers(deployment: Deployment, processes: int = 1, threads: int = 2) -> None:
    """Replace the deployment's workers with `processes` processes of `threads` threads."""
    stop_workers(deployment)
    args = ["worker", "--processes", str(processes), "--threads", str(threads)]
    deployment.processes["workers"] = Process(args, deployment.env, deployment.cwd, "workers")


def stop_workers(deployment: Deployment) -> None:
    for name in [n for n in deployment.processes if n.startswith("worker")]:
        deployment.processes.pop(name).stop()
