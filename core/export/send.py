"""Sending payroll runs to Visma as vouchers: exactly once, with every attempt recorded.

One run, one voucher, once. How (state transitions in `core.export.claims`):

1. **Build first.** The voucher is built from the stored journal and the mapping before anything is claimed; a run
   that cannot become a voucher (unmapped account, unbalanced) ends ``failed`` with its entry and no call to Visma.
2. **Claim.** ``not_sent`` (or ``failed``) → ``sending`` with a conditional UPDATE; the loser skips the run. The
   claim stores the run's marker (``voucher.export_marker``, unique per run and generation), which is also in
   the ``VoucherText``.
3. **Post** once (`VismaSession.create_voucher`; the client itself repeats a POST only when Visma provably did not
   process it: 429 or a connection never made). Success → ``sent`` with Visma's voucher id and number. A definite
   refusal (4xx) → ``failed`` with the raw error, Visma's ErrorCode/ErrorId and the troubleshooting entry.
4. **Unknown outcome** (timeout, dropped connection, 5xx after sending): the attempt is recorded ``unknown``, the run
   stays ``sending`` and the marker is looked up in Visma (in the fiscal year of the voucher date) at once:
   found → ``sent`` with that voucher (attempt kind ``reconcile``). Not found after an HTTP answer (Visma finished
   the request) → ``failed`` with a transient entry, to be sent again with the same marker. Not found after a
   transport failure, or the look-up itself failed → stays ``sending``: a request Visma may still be processing must
   not be raced, so the run is reconciled again once its lease has run out (settled at once when Visma did answer).
5. **Stale claims** (a crash while ``sending``, or the cases above) are taken over by the next sender — `send_run`,
   `send_pending` or the worker — which reconciles first and posts only when the marker is not in Visma.
6. **Re-sending** a ``sent`` run is `resend_run` with a reason: a new generation (new marker), an audit event with
   the previous voucher; never implicit.

Which runs are "pending": ``not_sent`` runs, stale ``sending`` runs (reconciled first) and ``failed`` runs whose
failure is transient (``rate-limited``, ``visma-unavailable``). Definite failures (Visma refused the voucher) are
sent again only by an explicit `send_run`, or by `send_pending(include_failed=True)` (CLI ``--retry-failed``):
repeating a refusal without a fix only hammers Visma. The worker also waits a growing backoff before retrying a
transient failure (`core.export.claims.retry_due`).

Bulk (`send_pending`): one task per payroll company (its runs in period order, so voucher numbers follow periods), a
bounded thread pool (default 8), each thread with its own database sessions; one `VismaSession` per account; the
Visma chart comes from the database cache (`core.mappings.chart`), so a month-end run costs one Visma call per run.
Pacing: ``POST /v2/vouchers`` is paced fleet-wide through the database (`core.visma.pacing.FleetRateLimiter`: at most
570 a minute per OAuth client id, under Visma's 600, in any 60-second span, whatever the number of processes and
machines on the database); every other call of the process shares one in-process `RateLimiter` per OAuth client id
(570 a minute per URL). Should Visma still answer 429 (other calls, clocks far apart), that is safe: the client repeats
a POST after a 429 (never processed) and a run whose 429s persist ends ``failed`` (rate-limited) for a later retry,
never posted twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from core.db import audit
from core.db.engine import session_scope
from core.db.models import AUTHORIZED, FAILED, NOT_SENT, SENDING, SENT, CompanyMapping, PayrollCompany, PayrollRun
from core.errors import ServiceError
from core.export.claims import (
    LEASE,
    TRANSIENT_ENTRIES,
    AttemptRecord,
    Claim,
    claim,
    dumps,
    finish_failed,
    finish_sent,
    new_claim_token,
    now_utc,
    release_unknown,
    renew,
    reset_for_resend,
    retry_due,
    stale_condition,
    take_over,
)
from core.export.context import MappingContext, load_run_context
from core.export.views import (  # noqa: F401  (re-exported: the service layer imports them from here)
    export_counts_by_period,
    export_history,
    list_runs,
    preview_run,
    recent_failures,
    run_history,
    support_bundle,
)
from core.export.voucher import JournalError, Voucher, build_voucher, export_marker
from core.mappings.chart import Chart, cached_chart, fetch_chart, store_chart
from core.payroll.store import run_label

__all__ = [
    "ExportOptions",
    "reconcile_stale",
    "resend_run",
    "send_pending",
    "send_run",
    "shared_rate_limiter",
    # views
    "export_counts_by_period",
    "export_history",
    "list_runs",
    "preview_run",
    "recent_failures",
    "run_history",
    "support_bundle",
]

log = logging.getLogger("core.export.send")


@dataclass
class ExportOptions:
    """Knobs of the send path; tests inject a clock and a short lease."""

    lease: timedelta = LEASE
    concurrency: int = 8
    clock: Callable[[], datetime] = now_utc
    respect_backoff: bool = False  # the worker waits RETRY_BASE·2^n before retrying a transient failure


# ------------------------------------------------------------------------------------------------ rate limit

_LIMITERS: dict[str, object] = {}
_LIMITERS_LOCK = threading.Lock()


VOUCHER_POST = ("POST", "/vouchers")  # the key `VismaClient` passes for ``POST /v2/vouchers``


def shared_rate_limiter(rt):
    """Install the pacing of ``rt.visma`` (unless one is already set) and return it: voucher POSTs through the
    database-wide `FleetRateLimiter` of the runtime's OAuth client id, other calls through this process's one
    `RateLimiter` for that client id."""
    from core.visma.client import RateLimiter
    from core.visma.pacing import FleetRateLimiter, PacedLimiter

    client = rt.visma
    if getattr(client, "rate_limiter", None) is None:
        with _LIMITERS_LOCK:
            local = _LIMITERS.setdefault(rt.settings.client_id, RateLimiter())
            if client.rate_limiter is None:
                client.rate_limiter = PacedLimiter(FleetRateLimiter(rt.engine, rt.settings.client_id), local,
                                                   keys={VOUCHER_POST})
    return client.rate_limiter


# ------------------------------------------------------------------------------------------------ per-call state


class _Sessions:
    """One VismaSession per account for the duration of one send call (thread-safe)."""

    def __init__(self, rt) -> None:
        self.rt = rt
        self._lock = threading.Lock()
        self._sessions: dict[int, object] = {}

    def get(self, account_id: int):
        with self._lock:
            vs = self._sessions.get(account_id)
        if vs is None:
            from core.accounts.sessions import visma_session

            vs = visma_session(self.rt, account_id)
            with self._lock:
                vs = self._sessions.setdefault(account_id, vs)
        return vs


@dataclass
class _Job:
    run_id: int
    status: str
    generation: int
    label: str
    company_code: str


@dataclass
class _Outcome:
    run_id: int
    company: str
    label: str
    outcome: str  # sent | reconciled | failed | unknown | skipped
    status: str
    message: str = ""
    entry_id: str | None = None
    voucher_id: str | None = None
    voucher_number: str | None = None
    attempts: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "run_id": self.run_id, "company": self.company, "label": self.label, "outcome": self.outcome,
            "status": self.status, "voucher_id": self.voucher_id, "voucher_number": self.voucher_number,
            "entry_id": self.entry_id, "message": self.message,
        }


def _voucher_error_fields(err) -> dict:
    return {
        "http_status": err.status, "visma_error_code": err.error_code, "visma_error_id": err.error_id,
        "error_message": str(err), "response_text": err.body or None,
    }


def _entry_of(err) -> str | None:
    entry = getattr(err, "entry_id", None)
    if entry:
        return entry
    from core.troubleshooting.troubleshooting import classify

    return classify(http_status=err.status, error_code=err.error_code, message=err.message)


def _ms(start: float) -> int:
    return int((time.monotonic() - start) * 1000)


# ------------------------------------------------------------------------------------------------ the send path


class _Sender:
    """Sends runs for one call of send_run / send_pending (shared by the pool's threads)."""

    def __init__(self, rt, *, actor: str, options: ExportOptions) -> None:
        self.rt = rt
        self.actor = actor
        self.opts = options
        self.sessions = _Sessions(rt)
        self._charts: dict[str, Chart] = {}
        self._chart_lock = threading.Lock()
        shared_rate_limiter(rt)

    # -- helpers ------------------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.opts.clock()

    def _chart(self, ctx: MappingContext, vs) -> Chart:
        key = ctx.visma_company_id or ""
        with self._chart_lock:
            chart = self._charts.get(key)
        if chart is None:
            chart = cached_chart(self.rt.engine, key)
            if chart is None:
                chart = fetch_chart(vs, key)
                store_chart(self.rt.engine, chart)
            with self._chart_lock:
                self._charts[key] = chart
        return chart

    def _load(self, run_id: int):
        with session_scope(self.rt.engine) as session:
            run, _company, ctx, data = load_run_context(session, run_id)
            session.expunge_all()
        return run, ctx, data

    def _build(self, ctx: MappingContext, data, chart: Chart | None, marker: str) -> Voucher:
        day = date(data.year, data.period, 1)
        return build_voucher(
            data,
            ledger_map=ctx.ledger_map,
            cost_center_map=ctx.cost_center_map(chart),
            accounts_with_cost_centers=chart.cost_center_accounts(day) if chart else (),
            marker=marker,
            company_name=ctx.company_name,
        )

    # -- one run ------------------------------------------------------------------------------------------------
    def send(self, run_id: int, *, allow_failed: bool, explicit: bool) -> _Outcome:
        run, ctx, data = self._load(run_id)
        label = run_label(run.year, run.period, run.run_number)
        base = _Outcome(run_id, ctx.company_code, label, "skipped", run.status,
                        voucher_id=run.voucher_id, voucher_number=run.voucher_number)
        now = self.now()
        if run.status == SENT:
            base.message = (f"Already sent as voucher {run.voucher_number or run.voucher_id}; re-send explicitly with "
                            "a reason (`resend RUN --reason …`) if it must be posted again.")
            base.entry_id = "voucher-already-sent"
            return base
        if ctx.mapping_id is None:
            base.message = f"{ctx.company_name} is not mapped to a Visma company; map it first."
            base.entry_id = "company-not-mapped"
            return base
        if ctx.account_status != AUTHORIZED:
            base.message = (f"Account {ctx.account_name!r} is not authorized ({ctx.account_status}); authorize it "
                            "again, then send.")
            base.entry_id = "account-not-authorized"
            return base
        if run.status == SENDING:
            c = take_over(self.rt.engine, run_id, token=new_claim_token(), now=now, lease=self.opts.lease)
            if c is None:
                base.message = (f"Being sent right now by {run.claimed_by} (since {run.claimed_at:%Y-%m-%d %H:%M:%S} "
                                "UTC); nothing done.")
                return base
            return self._reconcile_then_post(c, run, ctx, data, label)
        if run.status == FAILED and not allow_failed:
            transient = run.error_entry_id in TRANSIENT_ENTRIES
            if not transient:
                base.message = (f"Failed earlier ({run.error_entry_id or 'error'}): fix the cause, then send this run "
                                "explicitly or bulk-send with --retry-failed.")
                base.entry_id = run.error_entry_id
                return base
            if self.opts.respect_backoff and not retry_due(run.updated_at, run.attempt_count, now):
                base.message = "Failed on a passing Visma problem; the next retry waits for its backoff."
                base.entry_id = run.error_entry_id
                return base
        marker = export_marker(data, generation=run.generation - 1)
        vs = self.sessions.get(ctx.account_id)
        # Build before claiming: a run that cannot become a voucher never reaches Visma.
        chart = None
        started = now_utc()
        try:
            chart = self._chart(ctx, vs)
        except Exception as err:  # noqa: BLE001 - a failed look-up fails this run, with its entry
            return self._fail_before_post(run, ctx, label, marker, "lookup", err, started)
        try:
            voucher = self._build(ctx, data, chart, marker)
            body = voucher.to_visma_json()
        except JournalError as err:
            return self._fail_before_post(run, ctx, label, marker, "build", err, started)
        c = claim(self.rt.engine, run_id, token=new_claim_token(), marker=marker, generation=run.generation,
                  expect=run.status, now=self.now())
        if c is None:
            base.message = "Another sender claimed this run a moment ago; nothing done."
            return base
        return self._post(c, ctx, data, label, voucher, body, vs, [])

    def _fail_before_post(self, run, ctx, label, marker, kind, err, started) -> _Outcome:
        """A run that failed before any POST: claim it (one winner) and record why."""
        from core.visma.client import VismaError

        record = AttemptRecord(kind=kind, outcome="failed", started_at=started)
        if isinstance(err, JournalError):
            record.entry_id, record.error_message = err.code, err.message
        elif isinstance(err, VismaError):
            record.entry_id = _entry_of(err)
            for k, v in _voucher_error_fields(err).items():
                setattr(record, k, v)
        elif isinstance(err, ServiceError):
            record.entry_id, record.error_message = err.entry_id, err.message
        else:
            log.exception("unexpected error before posting run %s", run.id)
            record.error_message = f"{type(err).__name__}: {err}"
        c = claim(self.rt.engine, run.id, token=new_claim_token(), marker=marker, generation=run.generation,
                  expect=run.status, now=self.now())
        if c is None:
            return _Outcome(run.id, ctx.company_code, label, "skipped", SENDING,
                            message="Another sender claimed this run a moment ago; nothing done.")
        finish_failed(self.rt.engine, c, self.actor, [record], message=record.error_message or "failed",
                      entry_id=record.entry_id, now=self.now())
        log.info("run %s %s %s: failed before posting (%s)", run.id, ctx.company_code, label, record.entry_id)
        return _Outcome(run.id, ctx.company_code, label, "failed", FAILED, message=record.error_message or "",
                        entry_id=record.entry_id)

    def _post(self, c: Claim, ctx, data, label, voucher: Voucher, body: dict, vs, attempts: list) -> _Outcome:
        from core.visma.client import VismaError

        started_at = now_utc()
        t0 = time.monotonic()
        request_json = dumps(body)
        try:
            info = vs.create_voucher(body)
        except VismaError as err:
            record = AttemptRecord(kind="post", outcome="unknown" if err.outcome_unknown else "failed",
                                   started_at=started_at, duration_ms=_ms(t0), request_json=request_json,
                                   entry_id=_entry_of(err), **_voucher_error_fields(err))
            attempts.append(record)
            if err.outcome_unknown:
                return self._after_unknown(c, ctx, data, label, err, vs, attempts)
            finish_failed(self.rt.engine, c, self.actor, attempts, message=str(err), entry_id=record.entry_id,
                          now=self.now())
            log.info("run %s %s %s: failed (%s)", c.run_id, ctx.company_code, label, record.entry_id)
            return _Outcome(c.run_id, ctx.company_code, label, "failed", FAILED, message=str(err),
                            entry_id=record.entry_id)
        except ServiceError as err:  # the token could not be had (re-authorization needed): nothing was sent
            attempts.append(AttemptRecord(kind="post", outcome="failed", started_at=started_at, duration_ms=_ms(t0),
                                          request_json=request_json, error_message=err.message,
                                          entry_id=err.entry_id))
            finish_failed(self.rt.engine, c, self.actor, attempts, message=err.message, entry_id=err.entry_id,
                          now=self.now())
            return _Outcome(c.run_id, ctx.company_code, label, "failed", FAILED, message=err.message,
                            entry_id=err.entry_id)
        except BaseException as err:
            # A bug or an interrupt while the POST may be out: treat the outcome as unknown, never as "not sent".
            attempts.append(AttemptRecord(kind="post", outcome="unknown", started_at=started_at, duration_ms=_ms(t0),
                                          request_json=request_json, error_message=f"{type(err).__name__}: {err}"))
            release_unknown(self.rt.engine, c, self.actor, attempts, message="Interrupted while posting; the run "
                            "will be checked in Visma before any retry.", entry_id=None, settled=False,
                            now=self.now())
            raise
        attempts.append(AttemptRecord(kind="post", outcome="sent", started_at=started_at, duration_ms=_ms(t0),
                                      http_status=201, request_json=request_json, response_text=dumps(info.raw)))
        finish_sent(self.rt.engine, c, self.actor, attempts, voucher_id=info.id, voucher_number=info.number,
                    visma_company_id=ctx.visma_company_id, now=self.now())
        log.info("run %s %s %s: sent as voucher %s", c.run_id, ctx.company_code, label, info.number or info.id)
        return _Outcome(c.run_id, ctx.company_code, label, "sent", SENT, voucher_id=info.id,
                        voucher_number=info.number, message=f"Sent as voucher {info.number or info.id}.")

    # -- reconciliation -----------------------------------------------------------------------------------------
    def _lookup(self, vs, data, marker: str) -> tuple[list, AttemptRecord]:
        """Find the vouchers carrying ``marker`` in the fiscal year of the voucher date (raises VismaError)."""
        from core.visma.models import fiscal_year_for

        started_at = now_utc()
        t0 = time.monotonic()
        voucher_day = _voucher_date(data.year, data.period)
        fy = fiscal_year_for(vs.fiscal_years(), voucher_day)
        found = [] if fy is None else [v for v in vs.find_vouchers_by_text(fy.id, marker) if marker in v.voucher_text]
        record = AttemptRecord(kind="reconcile", outcome="reconciled" if found else "not_found", started_at=started_at,
                               duration_ms=_ms(t0), http_status=200,
                               response_text=dumps([v.raw for v in found]) if found else None)
        if not found:
            record.error_message = (f"No voucher with marker {marker} in Visma"
                                    + ("" if fy else f" (no fiscal year covers {voucher_day})") + ".")
        elif len(found) > 1:
            record.error_message = (f"{len(found)} vouchers carry marker {marker}; the oldest is taken as this run's. "
                                    "Check Visma for a duplicate.")
        return found, record

    def _lookup_failed(self, err, started_at, t0) -> AttemptRecord:
        return AttemptRecord(kind="reconcile", outcome="unknown", started_at=started_at, duration_ms=_ms(t0),
                             entry_id=_entry_of(err), **_voucher_error_fields(err))

    def _reconciled(self, c: Claim, ctx, label, found, attempts) -> _Outcome:
        voucher = sorted(found, key=lambda v: (v.raw.get("CreatedUtc") or "", v.number or ""))[0]
        finish_sent(self.rt.engine, c, self.actor, attempts, voucher_id=voucher.id, voucher_number=voucher.number,
                    visma_company_id=ctx.visma_company_id, now=self.now())
        log.info("run %s %s %s: reconciled, voucher %s", c.run_id, ctx.company_code, label,
                 voucher.number or voucher.id)
        return _Outcome(c.run_id, ctx.company_code, label, "reconciled", SENT, voucher_id=voucher.id,
                        voucher_number=voucher.number,
                        message=f"Found in Visma as voucher {voucher.number or voucher.id} (not posted again).")

    def _after_unknown(self, c: Claim, ctx, data, label, err, vs, attempts) -> _Outcome:
        from core.visma.client import VismaError

        answered = err.status is not None  # Visma finished the request (5xx); else it may still be processing
        entry = _entry_of(err) or "visma-unavailable"
        started_at, t0 = now_utc(), time.monotonic()
        try:
            found, record = self._lookup(vs, data, c.marker)
        except (VismaError, ServiceError) as lookup_err:
            if isinstance(lookup_err, VismaError):
                attempts.append(self._lookup_failed(lookup_err, started_at, t0))
            message = (f"{err} The voucher could not be looked up in Visma yet; the run stays 'sending' and is "
                       "checked again before any retry.")
            release_unknown(self.rt.engine, c, self.actor, attempts, message=message, entry_id=entry,
                            settled=answered, now=self.now())
            return _Outcome(c.run_id, ctx.company_code, label, "unknown", SENDING, message=message, entry_id=entry)
        attempts.append(record)
        if found:
            return self._reconciled(c, ctx, label, found, attempts)
        if answered:
            message = f"{err} The voucher is not in Visma; the run can be sent again."
            finish_failed(self.rt.engine, c, self.actor, attempts, message=message, entry_id=entry, now=self.now())
            return _Outcome(c.run_id, ctx.company_code, label, "failed", FAILED, message=message, entry_id=entry)
        message = (f"{err} Not in Visma yet; the run stays 'sending' and is checked again after "
                   f"{int(self.opts.lease.total_seconds() // 60)} minutes before any retry.")
        release_unknown(self.rt.engine, c, self.actor, attempts, message=message, entry_id=entry, settled=False,
                        now=self.now())
        return _Outcome(c.run_id, ctx.company_code, label, "unknown", SENDING, message=message, entry_id=entry)

    def _reconcile_then_post(self, c: Claim, run, ctx, data, label) -> _Outcome:
        """A stale claim taken over: the marker decides — in Visma → sent; not in Visma → post it now."""
        from core.visma.client import VismaError

        vs = self.sessions.get(ctx.account_id)
        marker = c.marker or export_marker(data, generation=run.generation - 1)
        c = Claim(c.run_id, c.token, marker, c.generation, c.claimed_at, True)
        started_at, t0 = now_utc(), time.monotonic()
        try:
            found, record = self._lookup(vs, data, marker)
        except (VismaError, ServiceError) as err:
            attempts = [self._lookup_failed(err, started_at, t0)] if isinstance(err, VismaError) else []
            message = f"Outcome of an earlier send still unknown; the look-up in Visma failed ({err})."
            entry = _entry_of(err) if isinstance(err, VismaError) else err.entry_id
            release_unknown(self.rt.engine, c, self.actor, attempts, message=message, entry_id=entry, settled=True,
                            now=self.now())
            return _Outcome(c.run_id, ctx.company_code, label, "unknown", SENDING, message=message, entry_id=entry)
        if found:
            return self._reconciled(c, ctx, label, found, [record])
        try:
            chart = self._chart(ctx, vs)
            voucher = self._build(ctx, data, chart, marker)
            body = voucher.to_visma_json()
        except (JournalError, VismaError, ServiceError) as err:
            entry = getattr(err, "code", None) if isinstance(err, JournalError) else _entry_or(err)
            message = getattr(err, "message", str(err))
            finish_failed(self.rt.engine, c, self.actor, [record], message=message, entry_id=entry, now=self.now())
            return _Outcome(c.run_id, ctx.company_code, label, "failed", FAILED, message=message, entry_id=entry)
        if not renew(self.rt.engine, c, self.now()):
            return _Outcome(c.run_id, ctx.company_code, label, "skipped", SENDING,
                            message="The claim was taken over by another sender; nothing done.")
        return self._post(c, ctx, data, label, voucher, body, vs, [record])


def _entry_or(err) -> str | None:
    from core.visma.client import VismaError

    if isinstance(err, VismaError):
        return _entry_of(err)
    return getattr(err, "entry_id", None)


def _voucher_date(year: int, period: int) -> date:
    import calendar

    return date(year, period, calendar.monthrange(year, period)[1])


# ------------------------------------------------------------------------------------------------ public API


def send_run(rt, run_id: int, *, actor: str, options: ExportOptions | None = None) -> dict:
    """Send one run now (explicit: a ``failed`` run is sent again, a stale ``sending`` run is reconciled first).

    Returns the result dict (outcome sent | reconciled | failed | unknown | skipped, status, voucher, entry, message).
    """
    sender = _Sender(rt, actor=actor, options=options or ExportOptions())
    return sender.send(run_id, allow_failed=True, explicit=True).to_dict()


def _pending_jobs(rt, company_codes: Iterable[str] | None, *, include_failed: bool, auto_only: bool,
                  now: datetime, lease: timedelta) -> tuple[list[list[int]], list[dict]]:
    """Pending run ids grouped per company (in period order), plus skip results for unmapped companies asked for."""
    codes = list(company_codes) if company_codes else None
    failed_filter = (PayrollRun.status == FAILED) if include_failed else sa.and_(
        PayrollRun.status == FAILED, PayrollRun.error_entry_id.in_(sorted(TRANSIENT_ENTRIES)))
    stmt = (
        sa.select(PayrollRun.id, PayrollCompany.code)
        .join(PayrollCompany, PayrollCompany.id == PayrollRun.company_id)
        .join(CompanyMapping, CompanyMapping.payroll_company_id == PayrollCompany.id)
        .where(sa.or_(PayrollRun.status == NOT_SENT, failed_filter, stale_condition(now, lease)))
        .order_by(PayrollCompany.code, PayrollRun.year, PayrollRun.period, PayrollRun.run_number)
    )
    if codes is not None:
        stmt = stmt.where(PayrollCompany.code.in_(codes))
    if auto_only:
        stmt = stmt.where(CompanyMapping.auto_send.is_(True))
    skipped: list[dict] = []
    with session_scope(rt.engine) as session:
        rows = session.execute(stmt).all()
        if codes is not None:
            known = {c.code: c for c in session.exec(select(PayrollCompany).where(PayrollCompany.code.in_(codes)))}
            unknown = [c for c in codes if c not in known]
            if unknown:
                raise ServiceError(f"Unknown payroll company code(s): {', '.join(unknown)}. See `companies list`.",
                                   code="company-unknown")
            mapped = set(session.exec(select(CompanyMapping.payroll_company_id)).all())
            for code in codes:
                if known[code].id not in mapped:
                    skipped.append({"run_id": None, "company": code, "label": None, "outcome": "skipped",
                                    "status": None, "voucher_id": None, "voucher_number": None,
                                    "entry_id": "company-not-mapped",
                                    "message": f"{known[code].name} is not mapped to a Visma company."})
    groups: dict[str, list[int]] = {}
    for run_id, code in rows:
        groups.setdefault(code, []).append(run_id)
    return list(groups.values()), skipped


def send_pending(
    rt,
    *,
    company_codes: Iterable[str] | None = None,
    actor: str,
    progress: Callable[[int, int, dict], None] | None = None,
    include_failed: bool = False,
    auto_only: bool = False,
    options: ExportOptions | None = None,
) -> dict:
    """Send every pending run (of the given companies, or all mapped ones) with bounded concurrency.

    ``progress(done, total, result)`` is called after each run (from worker threads, one call at a time).
    Returns ``{"sent", "failed", "skipped", "unknown", "total", "results": [...]}``.
    """
    opts = options or ExportOptions()
    groups, skipped = _pending_jobs(rt, company_codes, include_failed=include_failed, auto_only=auto_only,
                                    now=opts.clock(), lease=opts.lease)
    total = sum(len(g) for g in groups)
    sender = _Sender(rt, actor=actor, options=opts)
    results: list[dict] = list(skipped)
    lock = threading.Lock()
    done = 0

    def run_group(run_ids: list[int]) -> None:
        nonlocal done
        for run_id in run_ids:
            try:
                result = sender.send(run_id, allow_failed=include_failed, explicit=False).to_dict()
            except ServiceError as err:
                result = {"run_id": run_id, "outcome": "skipped", "status": None, "message": err.message,
                          "entry_id": err.entry_id}
            with lock:
                results.append(result)
                done += 1
                if progress is not None:
                    progress(done, total, result)

    if groups:
        workers = max(1, min(opts.concurrency, len(groups)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export") as pool:
            for future in [pool.submit(run_group, g) for g in groups]:
                future.result()
    return summarize(results)


def summarize(results: list[dict]) -> dict:
    counts = {"sent": 0, "failed": 0, "skipped": 0, "unknown": 0}
    for r in results:
        outcome = r.get("outcome")
        key = "sent" if outcome in ("sent", "reconciled") else outcome if outcome in counts else "skipped"
        counts[key] += 1
    return {**counts, "total": len(results), "results": results}


def reconcile_stale(rt, *, actor: str, options: ExportOptions | None = None) -> dict:
    """Reconcile (and, when not in Visma, post) every stale ``sending`` run, whatever its mapping's auto-send."""
    opts = options or ExportOptions()
    with session_scope(rt.engine) as session:
        ids = [r[0] for r in session.execute(
            sa.select(PayrollRun.id).where(stale_condition(opts.clock(), opts.lease)).order_by(PayrollRun.id)).all()]
    sender = _Sender(rt, actor=actor, options=opts)
    return summarize([sender.send(i, allow_failed=False, explicit=False).to_dict() for i in ids])


def resend_run(rt, run_id: int, *, reason: str, actor: str, options: ExportOptions | None = None) -> dict:
    """Post a ``sent`` run again, on purpose: new generation and marker, audit event with the reason and the
    previous voucher. The previous voucher stays in Visma (vouchers cannot be deleted through the API); correct it
    there if the re-send replaces it."""
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ServiceError("Say why the run is sent again (--reason TEXT); the reason goes into the audit log.",
                           code="reason-missing")
    opts = options or ExportOptions()

    def record(session, previous: dict) -> None:
        audit.record(session, actor=actor, action="run.resend", run_id=run_id,
                     detail={"reason": reason, "previous_voucher_id": previous["voucher_id"],
                             "previous_voucher_number": previous["voucher_number"],
                             "previous_marker": previous["marker"], "new_generation": previous["generation"] + 1})

    previous = reset_for_resend(rt.engine, run_id, now=opts.clock(), extra=record)
    if previous is None:
        with session_scope(rt.engine) as session:
            run = session.get(PayrollRun, run_id)
            status = run.status if run else None
        if status is None:
            raise ServiceError(f"There is no run with id {run_id}. See `runs list`.", code="run-unknown")
        raise ServiceError(
            f"Run {run_id} is {status}, not sent: use `export {run_id}` to send it (re-send is only for sent runs).",
            code="not-sent",
        )
    result = send_run(rt, run_id, actor=actor, options=opts)
    result["previous_voucher_number"] = previous["voucher_number"]
    result["previous_voucher_id"] = previous["voucher_id"]
    return result
