"""Checking ``unconfirmed`` runs in Visma by their marker: the *Check in Visma now* button, ``python -m core
reconcile``, the dashboard's background check and the worker's first step.

A run is ``unconfirmed`` when a POST's outcome is unknown (Visma did not answer, the answer was lost) or the process
that claimed it gave up or died (``release_abandoned`` turns such ``sending`` runs into ``unconfirmed`` first). The
check only reads Visma, it never posts:

* the marker is in Visma → ``sent`` with that voucher (``confirmed_sent``);
* it is not, and no POST of the run can still be in flight (Visma answered, or the claim's lease has run out) →
  ``failed`` with a passing cause, ``visma-unavailable`` (``confirmed_not_sent``): sending it again is safe, and the
  worker does so for mappings with automatic sending;
* the look-up failed (Visma still down), or Visma may still be processing the request → stays ``unconfirmed``
  (``still_unknown``), checked again later.

Each transition is a conditional UPDATE naming the state and marker it expects, written with its attempt in one
transaction, so two checkers (the page and the background thread) never both settle a run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from core.db.engine import session_scope
from core.db.models import AUTHORIZED, FAILED, SENT, UNCONFIRMED, PayrollCompany, PayrollRun
from core.errors import ServiceError
from core.export.claims import (
    AttemptRecord,
    abandoned_condition,
    now_utc,
    release_abandoned,
    settled_unconfirmed,
)
from core.export.job import ExportOptions, Sending, SendJob, ms_since
from core.export.reconcile import lookup, lookup_failed
from core.export.results import SendResultView
from core.visma.client import VismaError

__all__ = ["ReconcileSummaryView", "count_unconfirmed", "reconcile_runs"]

log = logging.getLogger("core.export.check")

NOT_BOOKED = ("Checked in Visma: no voucher carries this run's marker, so nothing was booked. Send the run again "
              "(automatic sending does so by itself).")


@dataclass(frozen=True, slots=True)
class ReconcileSummaryView:
    """What a check of unconfirmed runs found: counts (the CLI's ``reconcile --json`` fields) and each run's result
    (a `SendResultView` whose outcome is ``confirmed_sent``, ``confirmed_not_sent``, ``still_unknown`` or
    ``skipped``)."""

    confirmed_sent: int
    confirmed_not_sent: int
    still_unknown: int
    results: tuple[SendResultView, ...]


def _summary(results: Iterable[SendResultView]) -> ReconcileSummaryView:
    results = tuple(results)

    def count(outcome: str) -> int:
        return sum(1 for r in results if r.outcome == outcome)

    return ReconcileSummaryView(count("confirmed_sent"), count("confirmed_not_sent"), count("still_unknown"), results)


class _Checker(Sending):
    """One call's checks: the Visma sessions and the clock are shared by its runs."""

    def check(self, run_id: int) -> SendResultView:
        job = self.load(run_id)
        run = job.run
        if run.status != UNCONFIRMED:
            return job.outcome("skipped", run.status, voucher_id=run.voucher_id, voucher_number=run.voucher_number,
                               message=f"Nothing to check: the run is {run.status.replace('_', ' ')}.")
        if job.ctx.account_id is None or job.ctx.account_status != AUTHORIZED:
            return job.outcome("still_unknown", UNCONFIRMED, entry_id="account-not-authorized",
                               message="Cannot look in Visma: the company's account is not authorized. Authorize it "
                                       "again on Accounts, then check.")
        job.vs = self.session(job.ctx.account_id)
        started_at, t0 = now_utc(), time.monotonic()
        try:
            found, record = lookup(job, run.marker or "")
        except (VismaError, ServiceError) as err:
            return self._lookup_failed(job, err, started_at, t0)
        if found:
            return self._confirmed_sent(job, found, record)
        return self._not_found(job, record)

    def _lookup_failed(self, job: SendJob, err: Exception, started_at: datetime, t0: float) -> SendResultView:
        if isinstance(err, VismaError):
            record = lookup_failed(err, started_at, t0)
        else:
            record = AttemptRecord(kind="reconcile", outcome="unknown", started_at=started_at,
                                   duration_ms=ms_since(t0), error_message=err.message, entry_id=err.entry_id)
        self._write(job, record, sa.and_(PayrollRun.status == UNCONFIRMED), {"updated_at": self.now()})
        return job.outcome("still_unknown", UNCONFIRMED, entry_id=record.entry_id,
                           message=f"Visma still does not answer ({getattr(err, 'message', err)}); the voucher may "
                                   "or may not be booked. Checked again as soon as Visma answers.")

    def _confirmed_sent(self, job: SendJob, found: list, record: AttemptRecord) -> SendResultView:
        voucher = sorted(found, key=lambda v: (v.raw.get("CreatedUtc") or "", v.number or ""))[0]
        now = self.now()
        won = self._write(job, record, PayrollRun.status == UNCONFIRMED, {
            "status": SENT, "voucher_id": voucher.id, "voucher_number": voucher.number,
            "visma_company_id": job.ctx.visma_company_id, "sent_at": now, "claimed_by": None,
            "error_message": None, "error_entry_id": None, "updated_at": now})
        if not won:
            return self._settled_meanwhile(job)
        log.info("run %s %s %s: confirmed in Visma as voucher %s", job.run_id, job.ctx.company_code, job.label,
                 voucher.number or voucher.id)
        return job.outcome("confirmed_sent", SENT, voucher_id=voucher.id, voucher_number=voucher.number,
                           message=f"Booked in Visma as voucher {voucher.number or voucher.id} (not posted again).")

    def _not_found(self, job: SendJob, record: AttemptRecord) -> SendResultView:
        now = self.now()
        won = self._write(job, record, settled_unconfirmed(now, self.opts.lease), {
            "status": FAILED, "claimed_by": None, "error_message": NOT_BOOKED,
            "error_entry_id": "visma-unavailable", "updated_at": now})
        if won:
            log.info("run %s %s %s: not in Visma; failed, to be sent again", job.run_id, job.ctx.company_code,
                     job.label)
            return job.outcome("confirmed_not_sent", FAILED, entry_id="visma-unavailable", message=NOT_BOOKED)
        if self._write(job, record, PayrollRun.status == UNCONFIRMED, {"updated_at": now}):
            return job.outcome(
                "still_unknown", UNCONFIRMED, entry_id=job.run.error_entry_id,
                message="Not in Visma yet, but Visma may still be processing the request; checked again "
                        f"{int(self.opts.lease.total_seconds() // 60)} minutes after it was sent.")
        return self._settled_meanwhile(job)

    def _settled_meanwhile(self, job: SendJob) -> SendResultView:
        with session_scope(self.engine) as session:
            status = session.scalar(sa.select(PayrollRun.status).where(PayrollRun.id == job.run_id))
        return job.outcome("skipped", status, message="Settled by another check or send a moment ago.")

    def _write(self, job: SendJob, record: AttemptRecord, where, values: dict) -> bool:
        """The conditional UPDATE of the run (same marker, expected state) and, if it won, its attempt."""
        with session_scope(self.engine) as session:
            result = session.execute(
                sa.update(PayrollRun)
                .where(PayrollRun.id == job.run_id, PayrollRun.marker == job.run.marker,
                       PayrollRun.generation == job.run.generation, where)
                .values(**values)
            )
            if result.rowcount != 1:
                return False
            session.add(record.row(job.run_id, job.run.generation, self.actor))
            return True


def _unconfirmed_ids(rt, run_ids: list[int] | None, company_codes: list[str] | None) -> list[int]:
    stmt = sa.select(PayrollRun.id).where(PayrollRun.status == UNCONFIRMED).order_by(PayrollRun.id)
    if run_ids is not None:
        stmt = stmt.where(PayrollRun.id.in_(run_ids))
    if company_codes:
        stmt = stmt.join(PayrollCompany, PayrollCompany.id == PayrollRun.company_id).where(
            PayrollCompany.code.in_(company_codes))
    with session_scope(rt.engine) as session:
        return list(session.execute(stmt).scalars())


def _refuse_not_unconfirmed(rt, run_id: int) -> None:
    with session_scope(rt.engine) as session:
        status = session.scalar(sa.select(PayrollRun.status).where(PayrollRun.id == run_id))
    if status is None:
        raise ServiceError(f"There is no run with id {run_id}. See `runs list`.", code="run-unknown")
    raise ServiceError(f"Run {run_id} is {status.replace('_', ' ')}, not unconfirmed: there is nothing to check in "
                       "Visma.", code="not-unconfirmed")


def reconcile_runs(rt, run_ids: Iterable[int] | None = None, *, company_codes: Iterable[str] | None = None,
                   actor: str, options: ExportOptions | None = None) -> ReconcileSummaryView:
    """Check unconfirmed runs in Visma by their marker (all of them, or ``run_ids``, or those of ``company_codes``);
    never posts. Runs left ``sending`` by a process that gave up or died become ``unconfirmed`` first. A single run
    asked for by id that is not unconfirmed is refused (ServiceError); in a list it is skipped."""
    opts = options or ExportOptions()
    release_abandoned(rt.engine, now=opts.clock(), lease=opts.lease)
    ids = list(run_ids) if run_ids is not None else None
    todo = _unconfirmed_ids(rt, ids, list(company_codes) if company_codes else None)
    if ids is not None and len(ids) == 1 and not todo:
        _refuse_not_unconfirmed(rt, ids[0])
    if not todo:
        return _summary(())
    checker = _Checker(rt, actor=actor, options=opts)
    return _summary(checker.check(run_id) for run_id in todo)


def count_unconfirmed(rt, *, now: datetime | None = None, options: ExportOptions | None = None) -> int:
    """How many runs wait for a check: ``unconfirmed``, or ``sending`` with a claim nobody holds any more."""
    opts = options or ExportOptions()
    moment = now or opts.clock()
    with session_scope(rt.engine) as session:
        return session.scalar(sa.select(sa.func.count()).select_from(PayrollRun).where(sa.or_(
            PayrollRun.status == UNCONFIRMED, abandoned_condition(moment, opts.lease)))) or 0
