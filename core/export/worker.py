"""Automatic sending: ``python -m core worker [--once] [--interval 60]``.

Each round it (1) checks every ``unconfirmed`` run in Visma by its marker, whatever its mapping's switch
(`core.export.check.reconcile_runs`: read-only; a run left ``sending`` by a process that died becomes
``unconfirmed`` first; one whose voucher is certainly not in Visma becomes ``failed`` on a passing cause), and (2)
sends the pending runs of mappings with automatic sending on: ``not_sent`` runs, and runs that failed on a passing
Visma problem (rate limit, Visma unavailable, not booked after all) once their backoff (1, 2, 4 … 30 minutes) has
passed. Runs that Visma refused stay ``failed`` until a
person fixes the cause and sends them: retrying a refusal only hammers Visma.

Several workers (processes or machines over one PostgreSQL) may run at once: every run is claimed by a conditional
UPDATE, so each is posted by one of them. SIGINT/SIGTERM stop the loop after the current round. One log line per run,
never a token.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from core.export.check import reconcile_runs
from core.export.job import ExportOptions
from core.export.results import ExportSummaryView, SendResultView, summarize
from core.export.send import send_pending
from core.settings import ConfigurationError

__all__ = ["run_once", "run_worker"]

log = logging.getLogger("core.export.worker")


def _line(result: SendResultView) -> str:
    voucher = f" voucher {result.voucher_number}" if result.voucher_number else ""
    entry = f" [{result.entry_id}]" if result.entry_id else ""
    return f"run {result.run_id} {result.company} {result.label}: {result.outcome}{voucher}{entry}"


def run_once(rt, *, actor: str, options: ExportOptions | None = None,
             echo: Callable[[str], None] | None = None) -> ExportSummaryView:
    """One round: check unconfirmed runs in Visma, then send what automatic sending covers. Returns the combined
    summary (a check's outcomes counted as sent, failed or unknown)."""
    opts = options or ExportOptions(respect_backoff=True)
    opts.respect_backoff = True
    checked = summarize(reconcile_runs(rt, actor=actor, options=opts).results)
    sent = send_pending(rt, actor=actor, auto_only=True, options=opts)
    summary = checked + sent
    for r in summary.results:
        if r.outcome != "skipped":  # runs waiting for their backoff, or taken by another worker: no line
            (echo or log.info)(_line(r))
    return summary


def run_worker(rt, *, actor: str, once: bool = False, interval: float = 60.0, stop: threading.Event | None = None,
               echo: Callable[[str], None] | None = None, options: ExportOptions | None = None) -> dict:
    """Loop ``run_once`` every ``interval`` seconds until SIGINT/SIGTERM (or ``stop`` is set); once with ``once``.

    Returns ``{"rounds", "sent", "failed", "unknown"}``; with ``once`` also ``results`` (one object per run handled).
    """
    stop = stop or threading.Event()
    previous: dict = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    totals = {"rounds": 0, "sent": 0, "failed": 0, "unknown": 0}
    try:
        while True:
            try:
                summary = run_once(rt, actor=actor, options=options, echo=echo)
            except ConfigurationError:
                raise  # a wrong key or setting will not heal by itself: stop, and say what to fix
            except Exception as exc:  # noqa: BLE001 - a bad round must not end the worker; say what happened
                (echo or log.warning)(f"round failed: {type(exc).__name__}: {getattr(exc, 'message', exc)}")
                summary = summarize([])
            totals["rounds"] += 1
            for k in ("sent", "failed", "unknown"):
                totals[k] += getattr(summary, k)
            if once:
                totals["results"] = list(summary.results)  # one round: what happened to each run
                break
            if stop.wait(interval):
                break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return totals
