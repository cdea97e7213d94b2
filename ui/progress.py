"""Progress of a bulk send, drawn while it runs: the sending thread reports, the script thread draws."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ProgressRelay:
    """Carries progress from the thread that sends to the script thread that draws.

    Streamlit elements may only be touched from the script thread, while the service may report progress from its
    worker threads. The service gets :meth:`callback` (thread-safe: it only puts on a queue); the page runs the send
    in a helper thread and drains the queue in the script thread with :meth:`pump`.
    """

    events: queue.Queue = field(default_factory=queue.Queue)
    done: int = 0
    total: int = 0
    last: dict = field(default_factory=dict)

    def callback(self, *args: Any, **kwargs: Any) -> None:
        self.events.put((args, kwargs))

    def _absorb(self, args: tuple, kwargs: dict) -> None:
        event: dict[str, Any] = {}
        if args and isinstance(args[0], Mapping):
            event = dict(args[0])
        else:
            names = ("done", "total", "result")
            event = {name: value for name, value in zip(names, args, strict=False)}
        event.update(kwargs)
        self.done = int(event.get("done", self.done + 1) or 0)
        self.total = int(event.get("total", self.total) or self.total)
        self.last = event

    def pump(self, on_update: Callable[[ProgressRelay], None], *, wait: float = 0.1) -> bool:
        """Apply queued events (waiting up to ``wait`` s for the first); True when something arrived."""
        try:
            args, kwargs = self.events.get(timeout=wait)
        except queue.Empty:
            return False
        self._absorb(args, kwargs)
        while True:
            try:
                args, kwargs = self.events.get_nowait()
            except queue.Empty:
                break
            self._absorb(args, kwargs)
        on_update(self)
        return True


def run_with_progress(fn: Callable[[Callable[..., None]], Any], on_update: Callable[[ProgressRelay], None]) -> Any:
    """Run ``fn(progress_callback)`` in a helper thread; draw progress from this (the script) thread.

    Returns ``fn``'s result or re-raises its exception here, so pages handle errors as for any service call.
    """
    relay = ProgressRelay()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = fn(relay.callback)
        except BaseException as exc:  # re-raised in the script thread below
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="bulk-send", daemon=True)
    worker.start()
    while worker.is_alive():
        relay.pump(on_update)
    worker.join()
    while relay.pump(on_update, wait=0):
        pass
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")
