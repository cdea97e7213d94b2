"""A local stand-in for Visma: identity server + eAccounting API v2 + a sandbox-only admin API.

``start_sandbox()`` runs it in this process on a free port (tests, demo mode); ``python -m sandbox`` serves it alone.
It imports nothing from ``core/``: it plays a separate system, reached only over HTTP.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

import uvicorn

from sandbox.app import create_app
from sandbox.store import Store

__all__ = ["SandboxServer", "start_sandbox", "create_app", "Store"]


class SandboxServer:
    """A running sandbox: ``url`` (``http://127.0.0.1:PORT``, no trailing slash), ``stop()``, a context manager."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, db_path: str | None = None, redirect_uris: Iterable[str] = (),
        seed: bool = True, log_level: str = "warning", companies: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.store = Store(db_path)
        try:
            self.app = create_app(self.store, redirect_uris, seed_data=seed, companies=companies)
        except BaseException:
            self.store.close()
            raise
        # proto=IPPROTO_TCP: asyncio only sets TCP_NODELAY on such sockets; without it every response waits 40 ms
        # for a delayed ACK (headers and body are two writes).
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(128)
        self.host = host
        self.port = self._sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(self.app, log_level=log_level, lifespan="off", access_log=False, http="h11")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name=f"sandbox-{self.port}", daemon=True)

    def start(self, timeout: float = 15.0) -> SandboxServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"The sandbox did not start on {self.url}.")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self._server.should_exit = True
            self._thread.join(timeout)
        self._sock.close()
        self.store.close()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_sandbox(
    port: int = 0, db_path: str | None = None, redirect_uris: Iterable[str] = (), *, host: str = "127.0.0.1",
    seed: bool = True, log_level: str = "warning", companies: Mapping[str, Mapping[str, Any]] | None = None,
) -> SandboxServer:
    """Start a sandbox in a background thread and wait until it serves.

    ``port=0`` picks a free port (read it from ``.url``); ``db_path`` keeps state in a SQLite file shared with other
    processes (``None``: in memory, private to this server); ``redirect_uris`` are registered for the seeded client
    besides ``http://localhost:8501/`` and ``http://127.0.0.1:8501/``; ``seed`` writes the seed into an empty store;
    ``companies`` makes states and faults part of the seed, e.g. ``{seed.TRANSPORT: {"state": "read_only",
    "faults": {"http_error": 503}}}`` (kept across ``POST /_sandbox/reset``). Several sandboxes in one process are
    independent.
    """
    return SandboxServer(host, port, db_path, redirect_uris, seed, log_level, companies).start()
