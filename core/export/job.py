"""What one send carries from step to step: the options of a send call, the per-call state its threads share
(`Sending`: Visma sessions, the chart cache, the clock) and the `SendJob` of one run (run, context, marker, claim,
voucher, attempts so far), which ends as a `SendResultView`.

The steps themselves are in `core.export.send` (claim, build, post) and `core.export.reconcile` (marker look-up).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from core.accounts.sessions import visma_session
from core.accounts.tokens import check_token_key
from core.db.engine import session_scope
from core.db.models import PayrollRun
from core.export.claims import LEASE, AttemptRecord, Claim, now_utc
from core.export.context import MappingContext, load_run_context
from core.export.restore import look_up_before_posting
from core.export.results import SendResultView
from core.export.voucher import Voucher, build_voucher
from core.mappings.chart import Chart, cached_chart, fetch_chart, store_chart
from core.payroll.store import run_label
from core.payroll.types import PayrollRunData
from core.visma.client import VismaSession


@dataclass
class ExportOptions:
    """Knobs of the send path; tests inject a clock and a short lease."""

    lease: timedelta = LEASE
    concurrency: int = 8
    clock: Callable[[], datetime] = now_utc
    respect_backoff: bool = False  # the worker waits RETRY_BASE·2^n before retrying a transient failure


@dataclass
class SendJob:
    """One run's send: loaded first, then given its session, marker, claim and voucher as the steps go; every
    attempt made on its way is appended to ``attempts`` and written with the run's final transition."""

    run: PayrollRun  # detached: the row as loaded, before this send changed it
    ctx: MappingContext
    data: PayrollRunData
    vs: VismaSession | None = None
    marker: str = ""
    claim: Claim | None = None
    voucher: Voucher | None = None
    body: dict | None = None
    attempts: list[AttemptRecord] = field(default_factory=list)

    @property
    def run_id(self) -> int:
        return self.run.id

    @property
    def label(self) -> str:
        return run_label(self.run.year, self.run.period, self.run.run_number)

    def outcome(self, outcome: str, status: str, *, message: str = "", entry_id: str | None = None,
                voucher_id: str | None = None, voucher_number: str | None = None) -> SendResultView:
        return SendResultView(self.run_id, self.ctx.company_code, self.label, outcome, status, message=message,
                              entry_id=entry_id, voucher_id=voucher_id, voucher_number=voucher_number)


class Sending:
    """The state of one call of send_run / send_pending / reconcile_stale, shared by the pool's threads: one
    VismaSession per account and one chart per Visma company for the duration of the call."""

    def __init__(self, rt, *, actor: str, options: ExportOptions) -> None:
        check_token_key(rt)  # a key that opens no stored token stops the call before any run is touched
        self.rt = rt
        # Runs up to this id were in the database when it was found restored from a copy: marker first, then post.
        self.look_up_below = look_up_before_posting(rt, actor=actor)
        self.actor = actor
        self.opts = options
        self._lock = threading.Lock()
        self._sessions: dict[int, VismaSession] = {}
        self._charts: dict[str, Chart] = {}

    @property
    def engine(self):
        return self.rt.engine

    def now(self) -> datetime:
        return self.opts.clock()

    def session(self, account_id: int) -> VismaSession:
        with self._lock:
            vs = self._sessions.get(account_id)
        if vs is None:
            vs = visma_session(self.rt, account_id)
            with self._lock:
                vs = self._sessions.setdefault(account_id, vs)
        return vs

    def load(self, run_id: int) -> SendJob:
        with session_scope(self.rt.engine) as session:
            run, _company, ctx, data = load_run_context(session, run_id)
            session.expunge_all()
        return SendJob(run, ctx, data)

    def chart(self, ctx: MappingContext, vs: VismaSession) -> Chart:
        key = ctx.visma_company_id or ""
        with self._lock:
            chart = self._charts.get(key)
        if chart is None:
            chart = cached_chart(self.rt.engine, key)
            if chart is None:
                chart = fetch_chart(vs, key)
                store_chart(self.rt.engine, chart)
            with self._lock:
                self._charts[key] = chart
        return chart

    def build(self, job: SendJob, chart: Chart | None) -> None:
        """The job's voucher and its JSON body, from the journal, the mapping and the chart (raises JournalError)."""
        data, ctx = job.data, job.ctx
        day = date(data.year, data.period, 1)
        job.voucher = build_voucher(
            data,
            ledger_map=ctx.ledger_map,
            cost_center_map=ctx.cost_center_map(chart),
            accounts_with_cost_centers=chart.cost_center_accounts(day) if chart else (),
            marker=job.marker,
            company_name=ctx.company_name,
        )
        job.body = job.voucher.to_visma_json()


def _voucher_error_fields(err) -> dict:
    return {
        "http_status": err.status, "visma_error_code": err.error_code, "visma_error_id": err.error_id,
        "error_message": str(err), "response_text": err.body or None,
    }


def ms_since(start: float) -> int:
    return int((time.monotonic() - start) * 1000)
