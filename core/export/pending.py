"""Which runs a bulk send takes: one query, shared by the send itself (`core.export.send.send_pending`) and by the
counts a page shows on its button, so that "Send 68 runs" and the progress's "68 of 68" are the same set.

Pending: ``not_sent`` runs, ``unconfirmed`` runs and ``sending`` runs nobody holds any more (both reconciled before
anything is posted), and ``failed`` runs whose failure is transient (rate limit, Visma unavailable). With
``include_failed`` every ``failed`` run; with ``causes`` only the ``failed`` runs of those troubleshooting entries (a
retry by cause: "fiscal year missing — fixed it, retry all 11"), ``unknown`` standing for a failure no entry
explains. Only runs of mapped companies, in period order per company.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from core.db.engine import session_scope
from core.db.models import FAILED, NOT_SENT, CompanyMapping, PayrollCompany, PayrollRun
from core.errors import ServiceError
from core.export.claims import LEASE, TRANSIENT_ENTRIES, now_utc, stale_condition
from core.export.results import SendResultView
from core.words import plural

__all__ = ["NO_ENTRY", "PendingRun", "failed_counts_by_cause", "pending_counts", "pending_runs"]

NO_ENTRY = "unknown"  # the cause of a failure no troubleshooting entry explains


@dataclass(frozen=True, slots=True)
class PendingRun:
    run_id: int
    company_code: str
    status: str
    entry_id: str | None


def _cause_filter(causes: list[str]):
    named = [c for c in causes if c != NO_ENTRY]
    conditions = [PayrollRun.error_entry_id.in_(named)] if named else []
    if NO_ENTRY in causes:
        conditions.append(PayrollRun.error_entry_id.is_(None))
    return sa.and_(PayrollRun.status == FAILED, sa.or_(*conditions))


def _statement(codes: list[str] | None, *, include_failed: bool, causes: list[str] | None, auto_only: bool,
               now: datetime, lease: timedelta):
    if causes:
        which = _cause_filter(causes)
    else:
        failed = (PayrollRun.status == FAILED) if include_failed else sa.and_(
            PayrollRun.status == FAILED, PayrollRun.error_entry_id.in_(sorted(TRANSIENT_ENTRIES)))
        which = sa.or_(PayrollRun.status == NOT_SENT, failed, stale_condition(now, lease))
    stmt = (
        sa.select(PayrollRun.id, PayrollCompany.code, PayrollRun.status, PayrollRun.error_entry_id)
        .join(PayrollCompany, PayrollCompany.id == PayrollRun.company_id)
        .join(CompanyMapping, CompanyMapping.payroll_company_id == PayrollCompany.id)
        .where(which)
        .order_by(PayrollCompany.code, PayrollRun.year, PayrollRun.period, PayrollRun.run_number)
    )
    if codes is not None:
        stmt = stmt.where(PayrollCompany.code.in_(codes))
    if auto_only:
        stmt = stmt.where(CompanyMapping.auto_send.is_(True))
    return stmt


def _unmapped_skips(session, codes: list[str]) -> list[SendResultView]:
    known = {c.code: c for c in session.exec(select(PayrollCompany).where(PayrollCompany.code.in_(codes)))}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ServiceError(f"Unknown payroll company {plural(len(unknown), 'code')}: {', '.join(unknown)}. "
                           "See `companies list`.",
                           code="company-unknown")
    mapped = set(session.exec(select(CompanyMapping.payroll_company_id)).all())
    return [SendResultView(None, code, None, "skipped", None, entry_id="company-not-mapped",
                           message=f"{known[code].name} is not mapped to a Visma company.")
            for code in codes if known[code].id not in mapped]


def pending_runs(rt, company_codes: Iterable[str] | None = None, *, include_failed: bool = False,
                 causes: Iterable[str] | None = None, auto_only: bool = False, now: datetime | None = None,
                 lease: timedelta = LEASE) -> tuple[list[list[PendingRun]], list[SendResultView]]:
    """Pending runs grouped per company (in period order), plus skip results for unmapped companies asked for."""
    codes = list(company_codes) if company_codes else None
    stmt = _statement(codes, include_failed=include_failed, causes=list(causes) if causes else None,
                      auto_only=auto_only, now=now or now_utc(), lease=lease)
    with session_scope(rt.engine) as session:
        rows = session.execute(stmt).all()
        skipped = _unmapped_skips(session, codes) if codes is not None else []
    groups: dict[str, list[PendingRun]] = {}
    for run_id, code, status, entry in rows:
        groups.setdefault(code, []).append(PendingRun(run_id, code, status, entry))
    return list(groups.values()), skipped


def pending_counts(rt, *, include_failed: bool = False, causes: Iterable[str] | None = None) -> dict[str, int]:
    """How many runs a bulk send with these options would take, per company code (mapped companies only)."""
    stmt = _statement(None, include_failed=include_failed, causes=list(causes) if causes else None,
                      auto_only=False, now=now_utc(), lease=LEASE).subquery()
    with session_scope(rt.engine) as session:
        rows = session.execute(sa.select(stmt.c.code, sa.func.count()).group_by(stmt.c.code)).all()
    return {code: int(n) for code, n in rows}


def failed_counts_by_cause(rt) -> dict[str, int]:
    """How many failed runs of mapped companies a retry by cause would take, per cause (``NO_ENTRY`` for failures
    no entry explains), most first: one GROUP BY, for the page's "Retry all N" buttons."""
    stmt = (
        sa.select(PayrollRun.error_entry_id, sa.func.count())
        .join(CompanyMapping, CompanyMapping.payroll_company_id == PayrollRun.company_id)
        .where(PayrollRun.status == FAILED)
        .group_by(PayrollRun.error_entry_id)
    )
    with session_scope(rt.engine) as session:
        rows = session.execute(stmt).all()
    return {entry or NO_ENTRY: int(n) for entry, n in sorted(rows, key=lambda r: (-r[1], r[0] or ""))}
