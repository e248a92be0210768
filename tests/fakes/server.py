"""The lifecycle every fake provider shares: a Starlette app served by uvicorn in a thread on a
free loopback port, started and stopped around the tests that use it."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn
from starlette.applications import Starlette

_STARTUP_TIMEOUT = 10.0
_SHUTDOWN_TIMEOUT = 10.0
_GRACEFUL_SHUTDOWN = 2


class LoopbackServer:
    """Subclasses set `_app` in `__init__` (after calling ours) and name their URL's path."""

    url_path = ""  # appended to `http://127.0.0.1:PORT` in `url`

    def __init__(self) -> None:
        self._app: Starlette
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    @property
    def url(self) -> str:
        """The base URL the project's `*_API_URL` setting takes."""
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return f"http://127.0.0.1:{self._port}{self.url_path}"

    def start(self) -> None:
        """Serve on a free loopback port; return once connections are accepted."""
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            log_config=None,
            lifespan="off",
            timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [sock]},
            name=f"{type(self).__name__}-{port}",
            daemon=True,
        )
        thread.start()
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(_SHUTDOWN_TIMEOUT)
                sock.close()
                raise RuntimeError(f"{type(self).__name__} failed to start")
            time.sleep(0.005)
        self._server, self._thread, self._port = server, thread, port

    def stop(self) -> None:
        """Shut the server down and wait for its thread; no-op if not running."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(_SHUTDOWN_TIMEOUT)
        self._server = self._thread = self._port = None
        if thread.is_alive():
            raise RuntimeError(f"{type(self).__name__} did not stop in time")

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
