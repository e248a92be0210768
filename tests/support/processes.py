"""Real `switchboard` processes for end-to-end tests: started, waited for, stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

SWITCHBOARD = str(Path(sys.executable).with_name("switchboard"))
SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"

# Variables a developer's shell might carry that would leak into the processes under test.
_OWN_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "PUBLIC_BASE_URL",
    "SECRET_KEY",
    "SLACK_API_URL",
    "TELEGRAM_API_URL",
    "PORT",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def environment(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _OWN_VARIABLES}
    env.update({"SECRET_KEY": SECRET_KEY, "LOG_LEVEL": "INFO", **values})
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SWITCHBOARD, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


class Process:
    """One `switchboard …` process (or `program …`), its output in a log file for post-mortems.

    It leads a process group of its own, so signals reach the children it forks too."""

    def __init__(
        self,
        args: list[str],
        env: dict[str, str],
        cwd: Path,
        name: str,
        program: tuple[str, ...] = (SWITCHBOARD,),
    ) -> None:
        self.log_path = cwd / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            [*program, *args],
            env=env,
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_http(self, url: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"process exited early:\n{self.output()}")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{url} not ready after {timeout}s:\n{self.output()}")

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole group at once, as the OOM killer or a lost machine would."""
        if self.running():
            os.killpg(self.popen.pid, sig)
        if sig == signal.SIGKILL:
            self.popen.wait(10)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self._log.close()
