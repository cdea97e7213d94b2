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
4. **Unknown outcome** (timeout, dropped connection, 5xx after sending): the attempt is recorded ``unknown`` and the
   marker is looked up in Visma (in the fiscal year of the voucher date) at once: found → ``sent`` with that voucher
   (attempt kind ``reconcile``). Not found after an HTTP answer (Visma finished the request) → ``failed`` with a
   transient entry, to be sent again with the same marker. Not found after a transport failure, or the look-up itself
   failed → ``unconfirmed``: shown as such, checked by its marker (`core.export.check`) as soon as Visma answers —
   conclusively once no request Visma may still be processing can be raced (settled at once when Visma did answer,
   else when the claim's lease has run out).
5. **Stale claims** (a crash while ``sending``: `core.export.claims.release_abandoned` makes it ``unconfirmed``) and
   ``unconfirmed`` runs are taken over by the next explicit sender — `send_run` or `send_pending` — which reconciles
   first and posts only when the marker is not in Visma.
6. **Re-sending** a ``sent`` run is `resend_run` with a reason: a new generation (new marker), an audit event with
   the previous voucher; never implicit.

Which runs are "pending" (`core.export.pending`): ``not_sent`` runs, ``unconfirmed`` and stale ``sending`` runs
(reconciled first) and ``failed`` runs whose failure is transient (``rate-limited``, ``visma-unavailable``). Definite
failures (Visma refused the voucher) are sent again only by an explicit `send_run`, or by
`send_pending(include_failed=True)` (CLI ``--retry-failed``): repeating a refusal without a fix only hammers Visma.
The worker also waits a growing backoff before retrying a transient failure (`core.export.claims.retry_due`).

Code: one `core.export.job.SendJob` per run carries it through the sender's steps (refusals, build, claim, post);
`core.export.reconcile` looks markers up and settles unknown outcomes; `core.export.results` holds what is returned.

Bulk (`send_pending`): one task per payroll company (its runs in period order, so voucher numbers follow periods), a
bounded thread pool (default 8), each thread with its own database sessions; one `VismaSession` per account; the
Visma chart comes from the database cache (`core.mappings.chart`), so a month-end run costs one Visma call per run.
Pacing, composed once by the runtime (`core.runtime.Runtime.visma`, `core.visma.pacing.paced_limiter`), not by the
sender: ``POST /v2/vouchers`` is paced fleet-wide through the database (`core.visma.pacing.FleetRateLimiter`: at most
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
from dataclasses import asdict
from datetime import datetime

from core.accounts.tokens import check_token_key
from core.db import audit
from core.db.engine import session_scope
from core.db.models import (
    AUTHORIZED,
    FAILED,
    SENDING,
    SENT,
    UNCONFIRMED,
    PayrollRun,
)
from core.errors import ServiceError
from core.export.claims import (
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
    take_over,
)
from core.export.job import ExportOptions, Sending, SendJob, _voucher_error_fields
from core.export.job import ms_since as _ms
from core.export.pending import PendingRun, pending_runs
from core.export.preflight import preflight_runs
from core.export.reconcile import after_unknown, lookup_taken_over, reconciled
from core.export.restore import note_progress
from core.export.results import ExportSummaryView, ResendResultView, SendResultView, summarize
from core.export.texts import export_marker
from core.export.voucher import JournalError
from core.troubleshooting.classify import entry_for
from core.visma.client import VismaError

__all__ = ["resend_run", "send_pending", "send_run"]

log = logging.getLogger("core.export.send")


# ------------------------------------------------------------------------------------------------ the send path


class _Sender(Sending):
    """Sends runs for one call of send_run / send_pending (shared by the pool's threads): each run
    is one `SendJob` taken through the steps check → (take over → reconcile) | (build → claim) → post."""

    def send(self, run_id: int, *, allow_failed: bool) -> SendResultView:
        try:
            return self._send(run_id, allow_failed=allow_failed)
        finally:
            note_progress(self.rt)  # this machine's mark of how far the database got (see core.export.restore)

    def _send(self, run_id: int, *, allow_failed: bool) -> SendResultView:
        job = self.load(run_id)
        refusal = self._refusal(job, allow_failed=allow_failed)
        if refusal is not None:
            return refusal
        if job.run.status in (SENDING, UNCONFIRMED):
            return self._take_over(job)
        job.marker = export_marker(job.data, generation=job.run.generation - 1)
        job.vs = self.session(job.ctx.account_id)
        # Build before claiming: a run that cannot become a voucher never reaches Visma.
        failed = self._build_before_claim(job)
        if failed is not None:
            return failed
        job.claim = claim(self.engine, run_id, token=new_claim_token(), marker=job.marker,
                          generation=job.run.generation, expect=job.run.status, now=self.now())
        if job.claim is None:
            return self._skipped(job, "Another sender claimed this run a moment ago; nothing done.")
        if run_id <= self.look_up_below:
            return self._look_up_then_post(job)
        return self._post(job)

    def _look_up_then_post(self, job: SendJob) -> SendResultView:
        """A run the database held when it was restored from a copy: it may have been sent after the copy was made,
        so its marker decides — in Visma → sent; not in Visma → post it now."""
        found, unknown = lookup_taken_over(self, job)
        if unknown is not None:
            return unknown
        if found:
            return reconciled(self, job, found)
        return self._post(job)

    # -- step: may this run be sent now? -----------------------------------------------------------------------
    def _skipped(self, job: SendJob, message: str, entry_id: str | None = None) -> SendResultView:
        return job.outcome("skipped", job.run.status, message=message, entry_id=entry_id,
                           voucher_id=job.run.voucher_id, voucher_number=job.run.voucher_number)

    def _refusal(self, job: SendJob, *, allow_failed: bool) -> SendResultView | None:
        """Why this run is not sent now (a ``skipped`` outcome), or None."""
        run, ctx = job.run, job.ctx
        if run.status == SENT:
            return self._skipped(job, f"Already sent as voucher {run.voucher_number or run.voucher_id}; re-send "
                                 "explicitly with a reason (`resend RUN --reason …`) if it must be posted again.",
                                 "voucher-already-sent")
        if ctx.mapping_id is None:
            return self._skipped(job, f"{ctx.company_name} is not mapped to a Visma company; map it first.",
                                 "company-not-mapped")
        if ctx.account_status != AUTHORIZED:
            return self._skipped(job, f"Account {ctx.account_name!r} is not authorized ({ctx.account_status}); "
                                 "authorize it again, then send.", "account-not-authorized")
        if run.status == FAILED and not allow_failed:
            return self._failed_refusal(job)
        return None

    def _failed_refusal(self, job: SendJob) -> SendResultView | None:
        """A ``failed`` run in a bulk send: only a transient failure is retried, and by the worker after its backoff."""
        run = job.run
        if run.error_entry_id not in TRANSIENT_ENTRIES:
            return self._skipped(job, f"Failed earlier ({run.error_entry_id or 'error'}): fix the cause, then send "
                                 "this run explicitly or bulk-send with --retry-failed.", run.error_entry_id)
        if self.opts.respect_backoff and not retry_due(run.updated_at, run.attempt_count, self.now()):
            return self._skipped(job, "Failed on a passing Visma problem; the next retry waits for its backoff.",
                                 run.error_entry_id)
        return None

    # -- step: build the voucher (before any claim) --------------------------------------------------------------
    def _build_before_claim(self, job: SendJob) -> SendResultView | None:
        """The job's voucher; a run whose chart look-up or build fails ends ``failed`` here (returned)."""
        started = now_utc()
        try:
            chart = self.chart(job.ctx, job.vs)
        except Exception as err:  # noqa: BLE001 - a failed look-up fails this run, with its entry
            return self._fail_before_post(job, "lookup", err, started)
        try:
            self.build(job, chart)
        except JournalError as err:
            return self._fail_before_post(job, "build", err, started)
        return None

    def _fail_before_post(self, job: SendJob, kind: str, err: Exception, started: datetime) -> SendResultView:
        """A run that failed before any POST: claim it (one winner) and record why."""
        record = _record_before_post(job, kind, err, started)
        job.claim = claim(self.engine, job.run_id, token=new_claim_token(), marker=job.marker,
                          generation=job.run.generation, expect=job.run.status, now=self.now())
        if job.claim is None:
            return job.outcome("skipped", SENDING,
                               message="Another sender claimed this run a moment ago; nothing done.")
        job.attempts.append(record)
        finish_failed(self.engine, job.claim, self.actor, job.attempts, message=record.error_message or "failed",
                      entry_id=record.entry_id, now=self.now())
        log.info("run %s %s %s: failed before posting (%s)", job.run_id, job.ctx.company_code, job.label,
                 record.entry_id)
        return job.outcome("failed", FAILED, message=record.error_message or "", entry_id=record.entry_id)

    # -- step: post, once ------------------------------------------------------------------------------------------
    def _post(self, job: SendJob) -> SendResultView:
        c, ctx = job.claim, job.ctx
        started_at = now_utc()
        t0 = time.monotonic()
        request_json = dumps(job.body)
        try:
            info = job.vs.create_voucher(job.body)
        except VismaError as err:
            return self._post_refused(job, err, AttemptRecord(
                kind="post", outcome="unknown" if err.outcome_unknown else "failed", started_at=started_at,
                duration_ms=_ms(t0), request_json=request_json, entry_id=entry_for(err), **_voucher_error_fields(err)))
        except ServiceError as err:  # the token could not be had (re-authorization needed): nothing was sent
            job.attempts.append(AttemptRecord(kind="post", outcome="failed", started_at=started_at,
                                              duration_ms=_ms(t0), request_json=request_json,
                                              error_message=err.message, entry_id=err.entry_id))
            finish_failed(self.engine, c, self.actor, job.attempts, message=err.message, entry_id=err.entry_id,
                          now=self.now())
            return job.outcome("failed", FAILED, message=err.message, entry_id=err.entry_id)
        except BaseException as err:
            # A bug or an interrupt while the POST may be out: treat the outcome as unknown, never as "not sent".
            job.attempts.append(AttemptRecord(kind="post", outcome="unknown", started_at=started_at,
                                              duration_ms=_ms(t0), request_json=request_json,
                                              error_message=f"{type(err).__name__}: {err}"))
            release_unknown(self.engine, c, self.actor, job.attempts, message="Interrupted while posting; the run "
                            "will be checked in Visma before any retry.", entry_id=None, settled=False,
                            now=self.now())
            raise
        job.attempts.append(AttemptRecord(kind="post", outcome="sent", started_at=started_at, duration_ms=_ms(t0),
                                          http_status=201, request_json=request_json, response_text=dumps(info.raw)))
        finish_sent(self.engine, c, self.actor, job.attempts, voucher_id=info.id, voucher_number=info.number,
                    visma_company_id=ctx.visma_company_id, now=self.now())
        log.info("run %s %s %s: sent as voucher %s", c.run_id, ctx.company_code, job.label, info.number or info.id)
        return job.outcome("sent", SENT, voucher_id=info.id, voucher_number=info.number,
                           message=f"Sent as voucher {info.number or info.id}.")

    def _post_refused(self, job: SendJob, err: VismaError, record: AttemptRecord) -> SendResultView:
        """The POST ended in a VismaError: a definite refusal fails the run; an unknown outcome is reconciled."""
        job.attempts.append(record)
        if err.outcome_unknown:
            return after_unknown(self, job, err)
        finish_failed(self.engine, job.claim, self.actor, job.attempts, message=str(err), entry_id=record.entry_id,
                      now=self.now())
        log.info("run %s %s %s: failed (%s)", job.run_id, job.ctx.company_code, job.label, record.entry_id)
        return job.outcome("failed", FAILED, message=str(err), entry_id=record.entry_id)

    # -- step: a stale claim taken over ---------------------------------------------------------------------------
    def _take_over(self, job: SendJob) -> SendResultView:
        run = job.run
        c = take_over(self.engine, run.id, token=new_claim_token(), now=self.now(), lease=self.opts.lease)
        if c is None and run.status == UNCONFIRMED:
            return self._skipped(job, "Visma may still be processing an earlier send of this run (sent "
                                 f"{run.claimed_at:%Y-%m-%d %H:%M} UTC); it is checked in Visma "
                                 f"{int(self.opts.lease.total_seconds() // 60)} minutes after that, before it is "
                                 "sent again.", run.error_entry_id)
        if c is None:
            return self._skipped(job, f"Being sent right now by {run.claimed_by} (since "
                                 f"{run.claimed_at:%Y-%m-%d %H:%M:%S} UTC); nothing done.")
        return self._reconcile_then_post(job, c)

    def _reconcile_then_post(self, job: SendJob, c: Claim) -> SendResultView:
        """A stale claim taken over: the marker decides — in Visma → sent; not in Visma → post it now."""
        job.vs = self.session(job.ctx.account_id)
        job.marker = c.marker or export_marker(job.data, generation=job.run.generation - 1)
        job.claim = Claim(c.run_id, c.token, job.marker, c.generation, c.claimed_at, True)
        found, unknown = lookup_taken_over(self, job)
        if unknown is not None:
            return unknown
        if found:
            return reconciled(self, job, found)
        try:
            self.build(job, self.chart(job.ctx, job.vs))
        except (JournalError, VismaError, ServiceError) as err:
            entry = getattr(err, "code", None) if isinstance(err, JournalError) else entry_for(err)
            message = getattr(err, "message", str(err))
            finish_failed(self.engine, job.claim, self.actor, job.attempts, message=message, entry_id=entry,
                          now=self.now())
            return job.outcome("failed", FAILED, message=message, entry_id=entry)
        if not renew(self.engine, job.claim, self.now()):
            return job.outcome("skipped", SENDING, message="The claim was taken over by another sender; nothing done.")
        return self._post(job)


def _record_before_post(job: SendJob, kind: str, err: Exception, started: datetime) -> AttemptRecord:
    """The attempt of a run that failed before any POST (chart look-up or voucher build), with its entry."""
    record = AttemptRecord(kind=kind, outcome="failed", started_at=started)
    if isinstance(err, JournalError):
        record.entry_id, record.error_message = err.code, err.message
    elif isinstance(err, VismaError):
        record.entry_id = entry_for(err)
        for k, v in _voucher_error_fields(err).items():
            setattr(record, k, v)
    elif isinstance(err, ServiceError):
        record.entry_id, record.error_message = err.entry_id, err.message
    else:
        log.exception("unexpected error before posting run %s", job.run_id)
        record.error_message = f"{type(err).__name__}: {err}"
    return record


# ------------------------------------------------------------------------------------------------ public API


def send_run(rt, run_id: int, *, actor: str, options: ExportOptions | None = None) -> SendResultView:
    """Send one run now (explicit: a ``failed`` run is sent again, an ``unconfirmed`` run is reconciled first)."""
    sender = _Sender(rt, actor=actor, options=options or ExportOptions())
    return sender.send(run_id, allow_failed=True)


def _still_failing(rt, group: list[PendingRun]) -> dict[int, SendResultView]:
    """The failed runs of one company whose fresh preflight still finds an error: their skip results, by run id."""
    failed = [p.run_id for p in group if p.status == FAILED]
    if not failed:
        return {}
    try:
        findings = preflight_runs(rt, failed)
    except ServiceError as err:
        return {i: SendResultView(i, group[0].company_code, None, "skipped", FAILED, entry_id=err.entry_id,
                                  message=err.message) for i in failed}
    out = {}
    for run_id, found in findings.items():
        errors = [f for f in found if f["severity"] == "error"]
        if errors:
            first = errors[0]
            out[run_id] = SendResultView(run_id, group[0].company_code, None, "skipped", FAILED,
                                         entry_id=first["entry_id"],
                                         message="Not sent again: the preflight still finds a problem. "
                                                 + first["message"])
    return out


def send_pending(
    rt,
    *,
    company_codes: Iterable[str] | None = None,
    actor: str,
    progress: Callable[[int, int, SendResultView], None] | None = None,
    include_failed: bool = False,
    causes: Iterable[str] | None = None,
    preflight: bool = False,
    auto_only: bool = False,
    options: ExportOptions | None = None,
) -> ExportSummaryView:
    """Send every pending run (of the given companies, or all mapped ones) with bounded concurrency.

    Which runs: `core.export.pending` (``include_failed``: every failed run too; ``causes``: only the failed runs of
    those entries). ``preflight``: each company's failed runs are checked against live Visma first (one read per
    company) and those whose cause is still there are skipped with it, not sent into the same refusal again.
    ``progress(done, total, result)`` is called after each run (from worker threads, one call at a time).
    """
    opts = options or ExportOptions()
    retry = include_failed or bool(causes)
    groups, skipped = pending_runs(rt, company_codes, include_failed=include_failed, causes=causes,
                                   auto_only=auto_only, now=opts.clock(), lease=opts.lease)
    total = sum(len(g) for g in groups)
    sender = _Sender(rt, actor=actor, options=opts)
    results: list[SendResultView] = list(skipped)
    lock = threading.Lock()
    done = 0

    def report(result: SendResultView) -> None:
        nonlocal done
        with lock:
            results.append(result)
            done += 1
            if progress is not None:
                progress(done, total, result)

    def run_group(group: list[PendingRun]) -> None:
        blocked = _still_failing(rt, group) if preflight else {}
        for item in group:
            if item.run_id in blocked:
                report(blocked[item.run_id])
                continue
            try:
                result = sender.send(item.run_id, allow_failed=retry)
            except ServiceError as err:
                result = SendResultView(item.run_id, item.company_code, None, "skipped", None,
                                        entry_id=err.entry_id, message=err.message)
            report(result)

    if groups:
        workers = max(1, min(opts.concurrency, len(groups)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export") as pool:
            for future in [pool.submit(run_group, g) for g in groups]:
                future.result()
    return summarize(results)


def resend_run(rt, run_id: int, *, reason: str, actor: str,
               options: ExportOptions | None = None) -> ResendResultView:
    """Post a ``sent`` run again, on purpose: new generation and marker, audit event with the reason and the
    previous voucher. The previous voucher stays in Visma (vouchers cannot be deleted through the API); correct it
    there if the re-send replaces it."""
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ServiceError("Say why the run is sent again (--reason TEXT); the reason goes into the audit log.",
                           code="reason-missing")
    opts = options or ExportOptions()
    check_token_key(rt)  # before the run is reset for sending again

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
    return ResendResultView(**asdict(result), previous_voucher_number=previous["voucher_number"],
                            previous_voucher_id=previous["voucher_id"])
