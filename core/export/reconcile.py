"""Reconciling: finding a run's voucher in Visma by its marker, when the outcome of a POST is unknown (timeout,
dropped connection, 5xx after sending) or a stale claim is taken over. The marker decides, never a second POST:
found → ``sent`` with that voucher; not found after an HTTP answer → ``failed`` (transient, sent again with the same
marker); not found after a transport failure, or the look-up failed → ``unconfirmed`` (conclusive only once its
lease has run out).

``check_run`` is the look-up alone, for an ``unconfirmed`` run (the *Check in Visma now* button, ``reconcile`` on
the CLI, the dashboard's background check and the worker): it never posts. Its outcomes: ``confirmed_sent``,
``confirmed_not_sent`` (the run becomes ``failed`` with a passing cause, to be sent again) or ``still_unknown``.
"""

from __future__ import annotations

import calendar
import logging
import time
from datetime import date

from core.db.models import FAILED, SENT, UNCONFIRMED
from core.errors import ServiceError
from core.export.claims import AttemptRecord, dumps, finish_failed, finish_sent, now_utc, release_unknown
from core.export.job import Sending, SendJob, SendResultView, _voucher_error_fields, ms_since
from core.troubleshooting.classify import entry_for
from core.visma.client import VismaError
from core.visma.models import fiscal_year_for

log = logging.getLogger("core.export.reconcile")


def voucher_date(year: int, period: int) -> date:
    """The date of a run's voucher: the last day of its period."""
    return date(year, period, calendar.monthrange(year, period)[1])


def lookup(job: SendJob, marker: str) -> tuple[list, AttemptRecord]:
    """Find the vouchers carrying ``marker`` in the fiscal year of the voucher date (raises VismaError)."""
    started_at = now_utc()
    t0 = time.monotonic()
    voucher_day = voucher_date(job.data.year, job.data.period)
    fy = fiscal_year_for(job.vs.fiscal_years(), voucher_day)
    found = [] if fy is None else [v for v in job.vs.find_vouchers_by_text(fy.id, marker)
                                   if marker in v.voucher_text]
    record = AttemptRecord(kind="reconcile", outcome="reconciled" if found else "not_found", started_at=started_at,
                           duration_ms=ms_since(t0), http_status=200,
                           response_text=dumps([v.raw for v in found]) if found else None)
    if not found:
        record.error_message = (f"No voucher with marker {marker} in Visma"
                                + ("" if fy else f" (no fiscal year covers {voucher_day})") + ".")
    elif len(found) > 1:
        record.error_message = (f"{len(found)} vouchers carry marker {marker}; the oldest is taken as this run's. "
                                "Check Visma for a duplicate.")
    return found, record


def lookup_failed(err: VismaError, started_at, t0: float) -> AttemptRecord:
    return AttemptRecord(kind="reconcile", outcome="unknown", started_at=started_at, duration_ms=ms_since(t0),
                         entry_id=entry_for(err), **_voucher_error_fields(err))


def reconciled(s: Sending, job: SendJob, found: list) -> SendResultView:
    """The marker is in Visma: the run is ``sent`` with the oldest voucher carrying it (not posted again)."""
    voucher = sorted(found, key=lambda v: (v.raw.get("CreatedUtc") or "", v.number or ""))[0]
    finish_sent(s.engine, job.claim, s.actor, job.attempts, voucher_id=voucher.id, voucher_number=voucher.number,
                visma_company_id=job.ctx.visma_company_id, now=s.now())
    log.info("run %s %s %s: reconciled, voucher %s", job.run_id, job.ctx.company_code, job.label,
             voucher.number or voucher.id)
    return job.outcome("reconciled", SENT, voucher_id=voucher.id, voucher_number=voucher.number,
                       message=f"Found in Visma as voucher {voucher.number or voucher.id} (not posted again).")


def after_unknown(s: Sending, job: SendJob, err: VismaError) -> SendResultView:
    """A POST whose outcome is unknown: look the marker up at once, and settle the run only as far as it is known."""
    answered = err.status is not None  # Visma finished the request (5xx); else it may still be processing
    entry = entry_for(err) or "visma-unavailable"
    started_at, t0 = now_utc(), time.monotonic()
    try:
        found, record = lookup(job, job.claim.marker)
    except (VismaError, ServiceError) as lookup_err:
        if isinstance(lookup_err, VismaError):
            job.attempts.append(lookup_failed(lookup_err, started_at, t0))
        message = (f"Visma did not answer; the voucher may or may not be booked ({err}). It is checked in Visma "
                   "by its marker as soon as Visma answers, before anything is sent again.")
        release_unknown(s.engine, job.claim, s.actor, job.attempts, message=message, entry_id=entry,
                        settled=answered, now=s.now())
        return job.outcome("unknown", UNCONFIRMED, message=message, entry_id=entry)
    job.attempts.append(record)
    if found:
        return reconciled(s, job, found)
    if answered:
        message = f"{err} The voucher is not in Visma; the run can be sent again."
        finish_failed(s.engine, job.claim, s.actor, job.attempts, message=message, entry_id=entry, now=s.now())
        return job.outcome("failed", FAILED, message=message, entry_id=entry)
    message = (f"Visma's answer was lost; the voucher may or may not be booked ({err}). Not in Visma yet; Visma may "
               f"still be processing it, so it is checked again after {int(s.opts.lease.total_seconds() // 60)} "
               "minutes, before anything is sent again.")
    release_unknown(s.engine, job.claim, s.actor, job.attempts, message=message, entry_id=entry, settled=False,
                    now=s.now())
    return job.outcome("unknown", UNCONFIRMED, message=message, entry_id=entry)


def lookup_taken_over(s: Sending, job: SendJob) -> tuple[list, SendResultView | None]:
    """A stale claim taken over: look its marker up first. Returns (vouchers found, None), or ([], the outcome) when
    the look-up failed and the run stays ``sending`` (settled: it is checked again by the next sender)."""
    started_at, t0 = now_utc(), time.monotonic()
    try:
        found, record = lookup(job, job.claim.marker)
    except (VismaError, ServiceError) as err:
        if isinstance(err, VismaError):
            job.attempts.append(lookup_failed(err, started_at, t0))
        message = (f"The outcome of an earlier send is still unknown: the look-up in Visma failed ({err}). It is "
                   "checked again as soon as Visma answers.")
        entry = entry_for(err)
        release_unknown(s.engine, job.claim, s.actor, job.attempts, message=message, entry_id=entry, settled=True,
                        now=s.now())
        return [], job.outcome("unknown", UNCONFIRMED, message=message, entry_id=entry)
    job.attempts.append(record)
    return found, None
