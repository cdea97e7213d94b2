"""The export log: one row per payroll run with what the books need to reconcile it — the company, the period, the
Visma voucher (number and date), the amount, the export status, when it was sent and by whom, and how many attempts
it took. The Journal Export and Overview pages show it, ``python -m core history`` writes it as CSV.

One aggregate query (runs joined to their company, their attempts counted, and the attempt that sent the current
generation joined by its id), read as plain rows: fast at tens of thousands of runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from core.db.models import EXPORT_STATUSES, ExportAttempt, PayrollCompany, PayrollRun
from core.errors import ServiceError
from core.export.reconcile import voucher_date
from core.export.views import money

__all__ = ["ExportLogRow", "export_log", "export_log_page", "period_key"]

SENT_OUTCOMES = ("sent", "reconciled")  # the attempt outcomes that put a run's voucher in Visma
_PERIOD = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


@dataclass(frozen=True)
class ExportLogRow:
    """One run in the export log (a row of ``history``; its fields are the CSV's and ``--json``'s columns).

    ``period`` is ``YYYY-MM``; ``voucher_date`` the last day of that period (the date of the run's voucher in Visma);
    ``sent_at`` is UTC; ``sent_by`` who sent the run's current voucher (empty until it is in Visma); ``attempts``
    counts every export attempt of the run (``run_history`` lists them).

    Without ``slots``: the dashboard's ``st.cache_data`` pickles the log on every read, and a slotted dataclass
    pickles through ``dataclasses.fields()`` once per row — 24,000 rows took 0.25 s to unpickle, 0.07 s without.
    """

    company: str
    company_name: str
    period: str
    run: int
    status: str
    voucher_number: str | None
    voucher_date: date
    total_debit: Decimal
    sent_at: datetime | None
    sent_by: str | None
    attempts: int
    run_id: int
    year: int
    error_entry_id: str | None


def period_key(value: str) -> tuple[int, int]:
    """``"2026-03"`` → ``(2026, 3)``; a ServiceError for anything else."""
    found = _PERIOD.match(value or "")
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise ServiceError(f"'{value}' is not a period. Write it as YYYY-MM, for example 2026-03.",
                           code="period_invalid")
    return int(found.group(1)), int(found.group(2))


def _many(value: str | Iterable[str] | None) -> list[str]:
    """One value, several, or none (None or empty: no filter)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [v for v in value if v and str(v).strip()]


def _log_query() -> sa.Select:
    attempts = (
        sa.select(ExportAttempt.run_id, sa.func.count().label("n"))
        .group_by(ExportAttempt.run_id)
        .subquery("attempts")
    )
    # the latest attempt of each (run, generation) that put a voucher in Visma; joined below on the run's current
    # generation, so a run re-sent on purpose has no sender until its new voucher is in
    last_sent = (
        sa.select(ExportAttempt.run_id, ExportAttempt.generation, sa.func.max(ExportAttempt.id).label("id"))
        .where(ExportAttempt.outcome.in_(SENT_OUTCOMES))
        .group_by(ExportAttempt.run_id, ExportAttempt.generation)
        .subquery("last_sent")
    )
    sender = ExportAttempt.__table__.alias("sender")
    return (
        sa.select(
            PayrollRun.id, PayrollCompany.code, PayrollCompany.name, PayrollRun.year, PayrollRun.period,
            PayrollRun.run_number, PayrollRun.status, PayrollRun.voucher_number, PayrollRun.total_debit,
            PayrollRun.sent_at, PayrollRun.error_entry_id, sa.func.coalesce(attempts.c.n, 0).label("attempts"),
            sender.c.actor.label("sent_by"),
        )
        .join(PayrollCompany, PayrollCompany.id == PayrollRun.company_id)
        .outerjoin(attempts, attempts.c.run_id == PayrollRun.id)
        .outerjoin(last_sent, sa.and_(last_sent.c.run_id == PayrollRun.id,
                                      last_sent.c.generation == PayrollRun.generation))
        .outerjoin(sender, sender.c.id == last_sent.c.id)
        .order_by(PayrollCompany.code, PayrollRun.year.desc(), PayrollRun.period.desc(),  # newest first, as Runs
                  PayrollRun.run_number.desc())
    )


def _filtered(conn, stmt: sa.Select, codes: list[str], periods: list[str], statuses: list[str]) -> sa.Select:
    if codes:
        known = set(conn.execute(sa.select(PayrollCompany.code).where(PayrollCompany.code.in_(codes))).scalars())
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise ServiceError(f"There is no payroll company with code {', '.join(unknown)}. The codes are listed "
                               "by `companies list` (and on Journal Export).", code="company_unknown")
        stmt = stmt.where(PayrollCompany.code.in_(codes))
    if periods:
        keys = sorted({period_key(p) for p in periods})
        stmt = stmt.where(sa.or_(*(sa.and_(PayrollRun.year == y, PayrollRun.period == p) for y, p in keys)))
    if statuses:
        wrong = [s for s in statuses if s not in EXPORT_STATUSES]
        if wrong:
            raise ServiceError(f"Unknown export status {', '.join(wrong)}: use {', '.join(EXPORT_STATUSES)}.",
                               code="status_unknown")
        stmt = stmt.where(PayrollRun.status.in_(statuses))
    return stmt


def _rows(result: Iterable) -> list[ExportLogRow]:
    """The query's rows as ExportLogRows. Each row is unpacked by position (in ``_log_query``'s column order: a
    named attribute of a result row costs a lookup, 13 of them per run), and a period's text and voucher date are
    made once per period, not once per run: at tens of thousands of runs this was most of the log's time."""
    periods: dict[tuple[int, int], tuple[str, date]] = {}
    rows = []
    for run_id, code, name, year, period, number, status, voucher, debit, sent_at, entry, attempts, sent_by in result:
        text_and_date = periods.get((year, period))
        if text_and_date is None:
            text_and_date = periods[year, period] = (f"{year:04d}-{period:02d}", voucher_date(year, period))
        rows.append(ExportLogRow(
            company=code, company_name=name, period=text_and_date[0], run=number, status=status,
            voucher_number=voucher, voucher_date=text_and_date[1], total_debit=money(debit), sent_at=sent_at,
            sent_by=sent_by, attempts=int(attempts), run_id=run_id, year=year, error_entry_id=entry,
        ))
    return rows


def _matches(row: ExportLogRow, words: list[str]) -> bool:
    text = f"{row.company} {row.company_name} {row.voucher_number or ''} {row.period} run {row.run}".lower()
    return all(w in text for w in words)


def export_log(
    rt,
    *,
    company_code: str | Iterable[str] | None = None,
    period: str | Iterable[str] | None = None,
    status: str | Iterable[str] | None = None,
    search: str | None = None,
    limit: int | None = None,
) -> list[ExportLogRow]:
    """The export log: one row per run, ordered by company code, year, period and run number.

    Each filter takes one value or several (any of them matches): ``company_code`` payroll company codes (an unknown
    code is a ServiceError), ``period`` ``YYYY-MM``, ``status`` export statuses (``not_sent``, ``sending``,
    ``unconfirmed``, ``sent``, ``failed``). ``search`` keeps the rows whose company code or name, voucher number or
    run (``2026-03 run 1``) contain every word of it, ignoring case. ``limit`` keeps the first rows.
    """
    words = (search or "").lower().split()
    with rt.engine.connect() as conn:  # a Core read: no ORM object per row
        stmt = _filtered(conn, _log_query(), _many(company_code), _many(period), _many(status))
        if limit and not words:
            stmt = stmt.limit(limit)
        rows = _rows(conn.execute(stmt))
    if words:
        rows = [r for r in rows if _matches(r, words)]
    return rows[:limit] if limit else rows


def export_log_page(
    rt,
    *,
    company_code: str | Iterable[str] | None = None,
    period: str | Iterable[str] | None = None,
    status: str | Iterable[str] | None = None,
    search: str | None = None,
    offset: int = 0,
    limit: int = 1000,
) -> tuple[int, list[ExportLogRow]]:
    """One page of the export log (same filters and order as :func:`export_log`) and how many rows match in all.

    A page costs what it shows: without ``search`` the count and the page are two queries in the database, so the
    whole bureau's log is never loaded to draw a thousand rows. A search reads the filtered rows and keeps the
    matching ones (its words may be anywhere in a row's texts)."""
    if (search or "").split():
        rows = export_log(rt, company_code=company_code, period=period, status=status, search=search)
        return len(rows), rows[offset:offset + limit]
    codes, periods, statuses = _many(company_code), _many(period), _many(status)
    with rt.engine.connect() as conn:
        counted = sa.select(sa.func.count()).select_from(PayrollRun).join(
            PayrollCompany, PayrollCompany.id == PayrollRun.company_id)
        total = int(conn.scalar(_filtered(conn, counted, codes, periods, statuses)) or 0)
        stmt = _filtered(conn, _log_query(), codes, periods, statuses).offset(max(0, offset)).limit(limit)
        return total, _rows(conn.execute(stmt))
