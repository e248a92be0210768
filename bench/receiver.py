"""Webhook receiver throughput: Switchboard against slack_bolt, bare Starlette, a naive design.

Each server runs alone, as one uvicorn process (uvloop + httptools, no access log), and gets
the same load: wrk replaying distinct, freshly signed Slack Events API webhooks (see
bench/wrk_slack.lua), a short warm-up and then a measured run.

* switchboard: `switchboard web` on Postgres (database switchboard_bench, created and dropped
  here) and Redis (no worker runs, messages pile up). Afterwards the events table is checked
  against the 2xx answers wrk counted.
  With `--transport unix` (the default) it reaches both over Unix sockets, as a deployment
  with its database and Redis on the same host should: PostgreSQL's own socket, and a private
  redis-server started here with one (the machine's Redis listens on TCP only). With
  `--transport tcp`, over loopback TCP to 127.0.0.1:5432 and the machine's Redis (db 15).
  On a 2-core VM a loopback TCP round trip costs the sender 55-60 us of CPU, a Unix socket's
  far less, and the receiver pays two per batch (README, Benchmarks).
* naive: the calibration (bench/servers/naive_app.py). Per webhook, in a thread: one INSERT and
  commit, one blocking Dramatiq send, on the same PostgreSQL and Redis, checked the same way.
  The issue puts such a design at about a third of the targets; how far it falls short of that
  on a given machine shows what the machine's round trips cost.
* bolt: slack_bolt's AsyncApp behind its Starlette adapter (bench/servers/bolt_app.py).
* bare: Starlette answering 200 without reading the body (bench/servers/bare_app.py).

Run from the repository root, with the venv's Python and `wrk` on PATH:

    .venv/bin/python -m bench.receiver [--duration 15] [--connections 32] [--only NAME] [--rounds 3]
                                       [--transport unix|tcp]

The servers are measured in turn, and the whole sequence is repeated (`--rounds`, default 3):
this VM's speed drifts by 10-20 % over minutes, so each ratio is taken within a round and the
verdict is on the median of the rounds.

The report goes to stdout, progress to stderr; server logs and the generated request files
live in bench/results/ (request files are deleted after each run). "cpu cores" and
"cpu us/req" are the server process's own CPU time over the measured run (all its threads;
not Postgres, Redis or wrk): about 1.0 core means the server is saturated, less means it waits.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import wakeups  # noqa: E402  (needs ROOT on sys.path)
from bench.harness import (  # noqa: E402
    SWITCHBOARD,
    BenchError,
    exit_on_sigterm,
    flush_redis,
    free_port,
    progress,
    run,
    switchboard_cli,
    verdict,
)
from tests.fakes.slack_api import FakeSlackAPI  # noqa: E402
from tests.support.private_servers import PrivateRedis  # noqa: E402
from tests.support.services import unix_socket_directory  # noqa: E402

BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
WRK_SCRIPT = BENCH / "wrk_slack.lua"

HOST = "127.0.0.1"
DATABASE = "switchboard_bench"
POSTGRES_PORT = 5432
PSQL = ["psql", "-h", HOST, "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-A", "-t"]
TCP_REDIS_URL = f"redis://{HOST}:6379/15"
TRANSPORTS = ("unix", "tcp")
TRANSPORT_NAMES = {"unix": "Unix sockets", "tcp": "loopback TCP"}
BOT_TOKEN = "xoxb-bench-token"
TEAM_ID = "T0001"  # FakeSlackAPI's default workspace
BASELINE_PATH = "/slack/events"

SERVERS = ("switchboard", "naive", "bolt", "bare")
TARGET_VS_BOLT = 1.5
TARGET_VS_BARE = 0.35
TARGET_P99_MS = 30.0
# The issue puts a naive receiver (bench/servers/naive_app.py) at about a third of the targets.
NAIVE_SHARE = 1 / 3
WAKEUP_ROUND_TRIPS = 5_000
MAX_DURATION = 240  # signed timestamps must stay within Slack's 300 s window
WRK_TIMEOUT = "10s"  # slower answers would be left out of wrk's latency histogram
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
RATE_HEADROOM = 1.5  # measured run: signed requests per second of the warm-up's rate
MIN_RATE = 2_000.0
TEXT = (
    "Deploy {n} of switchboard-api finished on prod-eu-1: 42 checks passed, "
    "p99 latency nominal, no alerts raised."
)


# -- load --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    duration: int
    warmup: int
    connections: int
    threads: int
    channels: int
    max_rate: int
    only: tuple[str, ...]
    rounds: int
    transport: str = "unix"


@dataclass(frozen=True)
class WrkResult:
    responses: int
    duration_s: float
    sent: int
    loaded: int
    wraps: int
    ok_2xx: int
    non_2xx: int
    socket_errors: int  # connect, read and write errors
    timeouts: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.responses / self.duration_s

    @property
    def unanswered(self) -> int:
        """Requests written but not answered when wrk stopped (in flight, or lost)."""
        return self.sent - self.responses


_BENCH_LINE = re.compile(r"^BENCH (.*)$", re.MULTILINE)


def parse_wrk(stdout: str) -> WrkResult:
    match = _BENCH_LINE.search(stdout)
    if match is None:
        raise BenchError(f"wrk printed no BENCH line:\n{stdout}")
    values = {k: float(v) for k, v in (pair.split("=", 1) for pair in match.group(1).split())}

    def count(key: str) -> int:
        return int(values[key])

    return WrkResult(
        responses=count("responses"),
        duration_s=values["duration_us"] / 1e6,
        sent=count("sent"),
        loaded=count("loaded"),
        wraps=count("wraps"),
        ok_2xx=count("ok_2xx"),
        non_2xx=count("non_2xx"),
        socket_errors=count("err_connect") + count("err_read") + count("err_write"),
        timeouts=count("err_timeout"),
        p50_ms=values["p50_us"] / 1000,
        p90_ms=values["p90_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        max_ms=values["max_us"] / 1000,
    )


@dataclass(frozen=True)
class SignedRequest:
    path: str
    timestamp: str
    signature: str
    body: str

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": self.timestamp,
            "X-Slack-Signature": self.signature,
        }


class Signer:
    """Slack v0 signatures of event_callback bodies, all stamped with the current second."""

    def __init__(self, signing_secret: str) -> None:
        self.timestamp = str(int(time.time()))
        self._mac = hmac.new(
            signing_secret.encode(), f"v0:{self.timestamp}:".encode(), hashlib.sha256
        )

    def request(self, path: str, event_id: str, n: int) -> SignedRequest:
        body = event_callback(event_id, n, int(self.timestamp))
        mac = self._mac.copy()
        mac.update(body.encode())
        return SignedRequest(path, self.timestamp, "v0=" + mac.hexdigest(), body)


def event_callback(event_id: str, n: int, now: int) -> str:
    """A message event as the Events API delivers it (compact JSON, like Slack sends)."""
    ts = f"{now}.{n % 1_000_000:06d}"
    channel = f"C0BENCH{n % 7:02d}"
    payload = {
        "token": "bench-deprecated-verification-token",
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "api_app_id": "A0BENCH01",
        "event": {
            "user": f"U0USER{n % 13:03d}",
            "type": "message",
            "ts": ts,
            "client_msg_id": f"{n:08x}-7d2f-4c1e-9b0a-5e6f7a8b9c0d",
            "text": TEXT.format(n=n),
            "team": TEAM_ID,
            "channel": channel,
            "event_ts": ts,
            "channel_type": "channel",
        },
        "type": "event_callback",
        "event_id": event_id,
        "event_time": now,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": "U0BOT",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJUMDAwMSJ9-{channel}",
    }
    return json.dumps(payload, separators=(",", ":"))


def write_requests(
    prefix: Path,
    paths: Sequence[str],
    signing_secret: str,
    event_prefix: str,
    count: int,
    threads: int,
) -> None:
    """`count` distinct requests, round-robin over `paths`, dealt to `<prefix>.<thread>`."""
    signer = Signer(signing_secret)
    files: list[IO[str]] = []
    try:
        for thread in range(1, threads + 1):
            files.append(open(f"{prefix}.{thread}", "w", encoding="utf-8"))
        for n in range(count):
            request = signer.request(paths[n % len(paths)], f"{event_prefix}{n:09d}", n)
            files[n % threads].write(
                f"{request.path}\t{request.timestamp}\t{request.signature}\t{request.body}\n"
            )
    finally:
        for file in files:
            file.close()


def remove_requests(prefix: Path, threads: int) -> None:
    """The request files and the start-barrier file of bench/wrk_slack.lua."""
    for suffix in [*range(1, threads + 1), "go"]:
        Path(f"{prefix}.{suffix}").unlink(missing_ok=True)


def run_wrk(url: str, prefix: Path, seconds: int, opts: Options) -> WrkResult:
    argv = [
        "wrk",
        "-t", str(opts.threads),
        "-c", str(opts.connections),
        "-d", f"{seconds}s",
        "--timeout", WRK_TIMEOUT,
        "--latency",
        "-s", str(WRK_SCRIPT),
        url,
        "--", str(prefix), str(opts.threads),
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120, check=False)
    if done.returncode != 0:
        raise BenchError(f"wrk exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return parse_wrk(done.stdout)


@dataclass(frozen=True)
class Measured:
    result: WrkResult
    event_prefix: str  # event_id prefix of the measured run's requests
    cpu_s: float | None  # CPU seconds the server process used during the measured run


def measure(server: Server, paths: Sequence[str], signing_secret: str, opts: Options) -> Measured:
    """Warm-up, then the measured run; each phase gets its own freshly signed requests.

    The warm-up is sized by --max-rate, the measured run by the warm-up's rate with headroom,
    so no request is sent twice without signing millions. A cold warm-up can be slower than
    the headroom allows for; a measured run that runs out of requests (duplicates are cheaper
    than new events, so its figures would flatter) is run once more, sized by its own rate.
    """
    tag = secrets.token_hex(3).upper()
    rate = float(opts.max_rate)
    if opts.warmup > 0:
        rate = _next_rate(_phase(server, paths, signing_secret, opts, "warmup", tag, rate))
    measured = _phase(server, paths, signing_secret, opts, "measured", tag, rate)
    if measured.result.wraps:
        progress(f"{server.name}: measuring again with {RATE_HEADROOM}x the rate just measured")
        again = f"{tag}R"  # new event ids: the first attempt's are stored already
        rate = _next_rate(measured)
        measured = _phase(server, paths, signing_secret, opts, "measured", again, rate)
    return measured


def _phase(
    server: Server,
    paths: Sequence[str],
    signing_secret: str,
    opts: Options,
    phase: str,
    tag: str,
    rate: float,
) -> Measured:
    name = server.name
    seconds = opts.warmup if phase == "warmup" else opts.duration
    event_prefix = f"Ev{tag}{phase[0].upper()}"
    prefix = RESULTS / f"{name}-{phase}.requests"
    count = math.ceil(rate * seconds)
    progress(f"{name}: signing {count:,} requests for the {phase} ({seconds} s)")
    try:
        remove_requests(prefix, opts.threads)  # a stale start-barrier file would open it early
        write_requests(prefix, paths, signing_secret, event_prefix, count, opts.threads)
        progress(f"{name}: {phase}, wrk -t{opts.threads} -c{opts.connections} -d{seconds}s")
        cpu_before = cpu_seconds(server.pid)
        result = run_wrk(server.url, prefix, seconds, opts)
        cpu_after = cpu_seconds(server.pid)
    finally:
        remove_requests(prefix, opts.threads)
    if result.wraps:
        progress(
            f"WARNING {name}: the {phase} exhausted its {result.loaded:,} requests and "
            f"replayed some ({result.wraps} wrap-arounds)"
        )
    cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    return Measured(result, event_prefix, cpu)


def _next_rate(measured: Measured) -> float:
    return max(measured.result.rps * RATE_HEADROOM, MIN_RATE)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process and all its threads (Linux /proc), if readable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """A server process in its own process group; stopping it ends the whole group."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], port: int) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self.log_path = RESULTS / f"{name}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self._process.pid

    def __enter__(self) -> Server:
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def wait_ready(self, probe: Callable[[], bool]) -> None:
        """Poll `probe` (False or a connection error: not yet) until it holds."""
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self._process is not None and self._process.poll() is not None:
                raise BenchError(
                    f"{self.name} exited early; see {self.log_path}:\n{self.log_tail()}"
                )
            with contextlib.suppress(httpx.TransportError):
                if probe():
                    progress(f"{self.name}: ready on port {self.port} (pid {self.pid})")
                    return
            if time.monotonic() > deadline:
                raise BenchError(
                    f"{self.name} not ready after {READY_TIMEOUT} s:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            progress(f"{self.name}: did not stop within {STOP_TIMEOUT} s, killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def uvicorn_argv(app: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", app,
        "--app-dir", str(ROOT),
        "--host", HOST,
        "--port", str(port),
        "--loop", "uvloop",
        "--http", "httptools",
        "--no-access-log",
        "--log-level", "warning",
    ]  # fmt: skip


def check_answer(name: str, response: httpx.Response) -> None:
    if response.status_code != 200 or response.content:
        raise BenchError(
            f"{name} answered {response.status_code} {response.content[:300]!r} to a signed "
            "webhook; expected 200 with an empty body"
        )


def sanity_probe(
    name: str, url: str, path: str, signing_secret: str, event_id: str
) -> Callable[[], bool]:
    """A probe sending one signed webhook: True on 200, BenchError on any other answer."""

    def probe() -> bool:
        request = Signer(signing_secret).request(path, event_id, 0)
        response = httpx.post(url + path, content=request.body, headers=request.headers)
        check_answer(name, response)
        return True

    return probe


# -- switchboard -------------------------------------------------------------------------------


def psql(sql: str, database: str = "postgres") -> str:
    done = subprocess.run(
        [*PSQL, "-d", database, "-c", sql], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"psql failed on {sql!r}: {done.stderr.strip()}")
    return done.stdout.strip()


@dataclass(frozen=True)
class Services:
    """Where `switchboard web` finds PostgreSQL and Redis."""

    transport: str
    database_url: str
    redis_url: str


@contextlib.contextmanager
def services(transport: str) -> Iterator[Services]:
    if transport == "tcp":
        database_url = f"postgresql+psycopg://postgres@{HOST}:{POSTGRES_PORT}/{DATABASE}"
        yield Services(transport, database_url, TCP_REDIS_URL)
        return
    database_url = f"postgresql+psycopg://postgres@/{DATABASE}?host={postgres_socket_dir()}"
    directory = Path(tempfile.mkdtemp(prefix="switchboard-bench-redis-"))
    redis_server = PrivateRedis(directory, free_port())
    try:
        try:
            redis_server.start()
        except (OSError, RuntimeError) as exc:
            raise BenchError(f"no private redis-server ({exc}): try --transport tcp") from exc
        progress("PostgreSQL and a private Redis over Unix sockets")
        yield Services(transport, database_url, redis_server.unix_url)
    finally:
        redis_server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def postgres_socket_dir() -> str:
    directory = unix_socket_directory(f"postgresql://postgres@{HOST}:{POSTGRES_PORT}/postgres")
    if directory is None:
        raise BenchError("PostgreSQL has no Unix socket on this machine: use --transport tcp")
    return directory


def drop_database() -> None:
    psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def provision(url: str, token: str, signing_secret: str, channels: int) -> list[str]:
    """One instance with `channels` connected Slack channels, through the public API."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:

        def post(path: str, body: object, status: int) -> dict[str, object]:
            response = api.post(path, json=body)
            if response.status_code != status:
                raise BenchError(f"POST {path}: {response.status_code} {response.text[:300]}")
            answer: dict[str, object] = response.json()
            return answer

        instance = post("/v1/instances", {"name": "bench"}, 201)["id"]
        ids: list[str] = []
        config = {"bot_token": BOT_TOKEN, "signing_secret": signing_secret}
        for _ in range(channels):
            created = post(f"/v1/instances/{instance}/channels", {"channel_type": "slack"}, 201)
            channel = str(created["id"])
            post(f"/v1/instances/{instance}/channels/{channel}/connect", {"config": config}, 200)
            ids.append(channel)
    return ids


def stored_events(event_prefix: str) -> int:
    return int(
        psql(f"SELECT count(*) FROM events WHERE dedup_key LIKE '{event_prefix}%'", DATABASE)
    )


def wait_for_stored(event_prefix: str, result: WrkResult) -> int:
    """Rows of the measured run once the server has finished what wrk left in flight."""
    ceiling = result.ok_2xx + result.unanswered
    deadline = time.monotonic() + 15
    last, stable_since = -1, time.monotonic()
    while True:
        stored, now = stored_events(event_prefix), time.monotonic()
        if stored != last:
            last, stable_since = stored, now
        if stored >= ceiling or now - stable_since > 1.0 or now > deadline:
            return stored
        time.sleep(0.1)


@dataclass(frozen=True)
class Run:
    name: str
    result: WrkResult
    cpu_s: float | None  # the server process's CPU seconds during the measured run
    stored: int | None = None  # switchboard and naive: rows of the measured run in `events`


@contextlib.contextmanager
def bench_database(where: Services, **extra: str) -> Iterator[dict[str, str]]:
    """A fresh, migrated database and an empty Redis; yields the environment that reaches them."""
    env = {
        **os.environ,
        "DATABASE_URL": where.database_url,
        "REDIS_URL": where.redis_url,
        "SECRET_KEY": secrets.token_urlsafe(36),  # 48 characters
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    drop_database()
    flush_redis(where.redis_url)
    try:
        psql(f"CREATE DATABASE {DATABASE}")
        switchboard_cli(env, "migrate")
        yield env
    finally:
        drop_database()
        flush_redis(where.redis_url)


def run_switchboard(opts: Options, fake: FakeSlackAPI, where: Services) -> Run:
    signing_secret = secrets.token_hex(16)
    progress("switchboard: fresh database and redis db, migrate, token")
    with bench_database(where, SLACK_API_URL=fake.url) as env:
        token = switchboard_cli(env, "tokens", "create")
        port = free_port()
        argv = [str(SWITCHBOARD), "web", "--host", HOST, "--port", str(port)]
        with Server("switchboard", argv, env, port) as server:
            server.wait_ready(lambda: httpx.get(server.url + "/healthz").status_code == 200)
            progress(f"switchboard: provisioning {opts.channels} connected Slack channels")
            channels = provision(server.url, token, signing_secret, opts.channels)
            paths = [f"/webhooks/slack/{channel}" for channel in channels]
            sanity_probe("switchboard", server.url, paths[0], signing_secret, "EvSANITY")()
            measured = measure(server, paths, signing_secret, opts)
            stored = wait_for_stored(measured.event_prefix, measured.result)
    return Run("switchboard", measured.result, measured.cpu_s, stored)


def run_naive(opts: Options, where: Services) -> Run:
    """The calibration server (bench/servers/naive_app.py) on the same PostgreSQL and Redis."""
    signing_secret = secrets.token_hex(16)
    progress("naive: fresh database and redis db, migrate")
    with bench_database(where, BENCH_SIGNING_SECRET=signing_secret) as env:
        port = free_port()
        argv = uvicorn_argv("bench.servers.naive_app:app", port)
        paths = [f"/webhooks/slack/C{n:04d}" for n in range(opts.channels)]
        with Server("naive", argv, env, port) as server:
            server.wait_ready(
                sanity_probe("naive", server.url, paths[0], signing_secret, "EvSANITY")
            )
            measured = measure(server, paths, signing_secret, opts)
            stored = wait_for_stored(measured.event_prefix, measured.result)
    return Run("naive", measured.result, measured.cpu_s, stored)


def run_baseline(name: str, opts: Options, fake: FakeSlackAPI) -> Run:
    signing_secret = secrets.token_hex(16)
    env = {
        **os.environ,
        "BENCH_SIGNING_SECRET": signing_secret,
        "BENCH_BOT_TOKEN": BOT_TOKEN,
        "BENCH_SLACK_API_URL": fake.url,
    }
    port = free_port()
    with Server(name, uvicorn_argv(f"bench.servers.{name}_app:app", port), env, port) as server:
        server.wait_ready(sanity_probe(name, server.url, BASELINE_PATH, signing_secret, "EvSANITY"))
        measured = measure(server, [BASELINE_PATH], signing_secret, opts)
    return Run(name, measured.result, measured.cpu_s)


# -- report ------------------------------------------------------------------------------------


def report(rounds: list[dict[str, Run]], opts: Options, machine: wakeups.Wakeups) -> bool:
    """Print the report; False when a stored-events check fails."""
    cpus = os.cpu_count()
    print(
        f"Receiver benchmark: wrk -t{opts.threads} -c{opts.connections}, {opts.warmup} s warm-up, "
        f"{opts.duration} s measured, {cpus} CPUs, one uvicorn process per server, "
        f"{len(rounds)} round(s) with the servers interleaved; Switchboard and the naive server "
        f"reach PostgreSQL and Redis over {TRANSPORT_NAMES[opts.transport]}"
    )
    print(
        f"Wake-ups on this machine (bench/wakeups.py): a round trip between two threads takes "
        f"{machine.threads[0]:.0f} µs ({machine.threads[1]:.0f} µs CPU), between two processes "
        f"{machine.processes[0]:.0f} µs ({machine.processes[1]:.0f} µs CPU of the caller)"
    )
    print()
    columns = ("req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "non-2xx", "sock err", "timeouts")
    print(
        f"{'server':<15}"
        + "".join(f"{c:>9}" for c in columns)
        + f"{'cpu cores':>10}{'cpu us/req':>11}"
    )
    for number, runs in enumerate(rounds, 1):
        for name in SERVERS:
            if name in runs:
                label = f"{name} #{number}" if len(rounds) > 1 else name
                print(_row(label, runs[name]))
    print()
    for name, target in (("bolt", TARGET_VS_BOLT), ("bare", TARGET_VS_BARE)):
        found = _median_ratio(rounds, "switchboard", name)
        if found:
            ratio, each = found
            met = verdict(ratio >= target)
            print(f"switchboard / {name} = {ratio:.2f}{each} (target >= {target}) {met}")
    _print_calibration(rounds)
    ok = True
    for number, runs in enumerate(rounds, 1):
        for name in ("switchboard", "naive"):
            if name in runs:
                ok = _check(runs[name], number if len(rounds) > 1 else None) and ok
    return ok


def _median_ratio(
    rounds: list[dict[str, Run]], server: str, baseline: str
) -> tuple[float, str] | None:
    """The median over the rounds of server's req/s ÷ baseline's, and the rounds' ratios."""
    ratios = [
        r[server].result.rps / r[baseline].result.rps
        for r in rounds
        if server in r and baseline in r
    ]
    if not ratios:
        return None
    # Each ratio compares servers measured minutes apart at most; the median of the
    # rounds is robust to a round during which the machine (a shared VM) was slower.
    each = f" (rounds: {', '.join(f'{r:.2f}' for r in ratios)})" if len(ratios) > 1 else ""
    return statistics.median(ratios), each


def _print_calibration(rounds: list[dict[str, Run]]) -> None:
    """How the naive receiver compares with what the issue expects of it on its machine."""
    for name, target in (("bolt", TARGET_VS_BOLT), ("bare", TARGET_VS_BARE)):
        found = _median_ratio(rounds, "naive", name)
        if found:
            ratio, each = found
            expected = target * NAIVE_SHARE
            print(f"naive / {name} = {ratio:.2f}{each} (the issue expects about {expected:.2f})")
    found = _median_ratio(rounds, "switchboard", "naive")
    if found:
        ratio, each = found
        expected = 1 / NAIVE_SHARE
        print(
            f"switchboard / naive = {ratio:.2f}{each} "
            f"(the issue expects batching to give about {expected:.0f}x)"
        )


def _row(label: str, run: Run) -> str:
    r = run.result
    cores = f"{run.cpu_s / r.duration_s:.2f}" if run.cpu_s is not None else "n/a"
    per_request = f"{run.cpu_s / r.responses * 1e6:.0f}" if run.cpu_s and r.responses else "n/a"
    return (
        f"{label:<15}{r.rps:>9.0f}{r.p50_ms:>9.2f}{r.p90_ms:>9.2f}{r.p99_ms:>9.2f}"
        f"{r.max_ms:>9.1f}{r.non_2xx:>9}{r.socket_errors:>9}{r.timeouts:>9}"
        f"{cores:>10}{per_request:>11}"
    )


def _check(storing: Run, number: int | None) -> bool:
    """The stored-events check of one run of a storing server, and Switchboard's p99 verdict."""
    sb = storing.result
    which = f" (round {number})" if number is not None else ""
    if storing.name == "switchboard":
        met = verdict(sb.p99_ms < TARGET_P99_MS)
        print(
            f"switchboard p99{which} = {sb.p99_ms:.1f} ms (target < {TARGET_P99_MS:.0f} ms) {met}"
        )
    stored = storing.stored
    assert stored is not None
    # Requests still in flight when wrk stopped were never answered; the server may
    # still have stored them, so they are the only allowed surplus.
    surplus = stored - sb.ok_2xx
    consistent = sb.wraps == 0 and 0 <= surplus <= sb.unanswered
    answer = "OK: every acknowledged webhook is stored" if consistent else "MISMATCH"
    print(
        f"{storing.name} stored check{which}: events rows of the measured run = {stored}, "
        f"2xx answers = {sb.ok_2xx}, unanswered when wrk stopped = {sb.unanswered} "
        f"(of which stored: {surplus}) -> {answer}"
    )
    if sb.wraps:
        print(f"  request set exhausted ({sb.wraps} wrap-arounds): duplicates were sent")
    return consistent


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="measured seconds (default 15)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t (default 2)")
    parser.add_argument(
        "--channels", type=int, default=50, help="Switchboard channels the load is spread over"
    )
    parser.add_argument(
        "--max-rate",
        type=int,
        default=50_000,
        help="requests signed per second of warm-up (default 50000); the measured run is "
        f"sized at {RATE_HEADROOM}x the warm-up's rate (or this, without warm-up)",
    )
    parser.add_argument(
        "--only", action="append", choices=SERVERS, help="run only this server (repeatable)"
    )
    parser.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default="unix",
        help="how Switchboard reaches PostgreSQL and Redis (default unix: their Unix sockets)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="times each server is measured, interleaved; ratios are the rounds' median "
        "(default 3)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= MAX_DURATION:
        parser.error(f"--duration must be within 1..{MAX_DURATION} s (signatures expire)")
    if not 0 <= args.warmup <= 60:
        parser.error("--warmup must be within 0..60 s")
    if args.connections < args.threads or args.threads < 1:
        parser.error("--connections must be at least --threads, and --threads at least 1")
    if args.channels < 1 or args.max_rate < 1 or args.rounds < 1:
        parser.error("--channels, --max-rate and --rounds must be positive")
    only = tuple(name for name in SERVERS if name in args.only) if args.only else SERVERS
    return Options(
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        threads=args.threads,
        channels=args.channels,
        max_rate=args.max_rate,
        only=only,
        rounds=args.rounds,
        transport=args.transport,
    )


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed (apt-get install wrk)")
    if "switchboard" in opts.only and not SWITCHBOARD.exists():
        raise BenchError(f"{SWITCHBOARD} not found: run with the project's venv Python")
    exit_on_sigterm()
    RESULTS.mkdir(exist_ok=True)
    machine = wakeups.measure(WAKEUP_ROUND_TRIPS)
    fake = FakeSlackAPI()
    fake.start()
    try:
        fake.add_workspace(BOT_TOKEN, team_id=TEAM_ID)
        # Only the storing servers use them; the tcp transport starts nothing.
        storing = {"switchboard", "naive"} & set(opts.only)
        with services(opts.transport if storing else "tcp") as where:
            rounds = measure_rounds(opts, fake, where)
    finally:
        fake.stop()
    return 0 if report(rounds, opts, machine) else 1


def measure_rounds(opts: Options, fake: FakeSlackAPI, where: Services) -> list[dict[str, Run]]:
    rounds: list[dict[str, Run]] = []
    for _ in range(opts.rounds):
        runs: dict[str, Run] = {}
        for name in opts.only:
            if name == "switchboard":
                runs[name] = run_switchboard(opts, fake, where)
            elif name == "naive":
                runs[name] = run_naive(opts, where)
            else:
                runs[name] = run_baseline(name, opts, fake)
            r = runs[name].result
            progress(f"{name}: {r.rps:,.0f} req/s, p99 {r.p99_ms:.1f} ms")
            time.sleep(1)  # let the machine settle before the next server
        rounds.append(runs)
    return rounds


if __name__ == "__main__":
    run(main)
