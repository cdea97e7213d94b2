"""The dashboard's background check of unconfirmed runs: a daemon thread that, every ``interval`` seconds, looks
whether a run is ``unconfirmed`` (or left ``sending`` by a process that died) and, if so, checks it in Visma by its
marker (`core.export.check.reconcile_runs`: a read, never a post). So a run that Visma did not answer for becomes
``sent`` or ``failed`` by itself as soon as Visma answers, with nobody running the worker.

One per dashboard process (the page keeps it in ``st.cache_resource`` and stops it when the runtime is released).
``RECONCILE_INTERVAL_SECONDS`` (default 30; 0 turns it off, for example where ``python -m core worker`` runs).
A round that fails is logged in one line and the thread goes on.
"""

from __future__ import annotations

import logging
import threading

from core.export.check import count_unconfirmed, reconcile_runs

__all__ = ["BackgroundCheck", "start_background_check"]

log = logging.getLogger("core.export.background")
ACTOR = "dashboard (background check)"


class BackgroundCheck:
    def __init__(self, rt, *, interval: float) -> None:
        self.rt = rt
        self.interval = interval
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="unconfirmed-check", daemon=True)

    def start(self) -> BackgroundCheck:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def check_once(self) -> None:
        """One round: nothing to do (one COUNT) or a check of every unconfirmed run."""
        if count_unconfirmed(self.rt):
            summary = reconcile_runs(self.rt, actor=ACTOR)
            if summary.confirmed_sent or summary.confirmed_not_sent:
                log.info("background check: %s confirmed sent, %s not booked, %s still unknown",
                         summary.confirmed_sent, summary.confirmed_not_sent, summary.still_unknown)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check_once()
            except Exception as exc:  # noqa: BLE001 - a bad round must not end the thread; say what happened
                log.warning("background check failed: %s: %s", type(exc).__name__, getattr(exc, "message", exc))
            self.rounds += 1


def start_background_check(rt) -> BackgroundCheck | None:
    """Start the check at the runtime's configured interval; None when it is turned off."""
    interval = rt.settings.reconcile_interval_seconds
    if interval <= 0:
        return None
    return BackgroundCheck(rt, interval=interval).start()
