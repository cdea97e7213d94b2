"""Payroll companies and processed runs in the database: storing them from any source, reading them back.

Why it is shaped this way:

* **All or nothing.** A batch of runs (one imported file, one source sync) is written in one transaction: every run
  row and every journal line, or nothing. A run that already exists — same (company, year, period, run number) —
  refuses the whole batch with a message naming the run; re-importing a file can never
  create a second voucher later. Two imports racing end the same way (the unique constraint is the backstop).
* **Sources are interchangeable.** The demo seed, a CSV/XLSX import and a payroll API connector
  (`core.payroll.sources.PayrollSource`) all hand over `PayrollRunData`; `sync_source` is how a connector's runs
  arrive (new runs stored, known runs ignored, as the connector contract says).
* **Counting in SQL.** `list_payroll_companies` aggregates with one GROUP BY, so the dashboard stays fast with
  thousands of companies.

"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.db import audit
from core.db.engine import session_scope
from core.db.models import (
    FAILED,
    NOT_SENT,
    SENDING,
    SENT,
    UNCONFIRMED,
    Account,
    CompanyMapping,
    JournalLineRow,
    PayrollCompany,
    PayrollRun,
    utcnow,
)
from core.errors import ServiceError
from core.money import round_cents
from core.payroll.file_import import RowError, parse_journal_file
from core.payroll.sources import PayrollSource, PayrollSourceError
from core.payroll.types import JournalLine, PayrollCompanyData, PayrollRunData, journal_difference, run_label
from core.payroll.views import CompanyView, ImportErrorView, ImportView
from core.words import plural

__all__ = [
    "DuplicateRunError",
    "get_company",
    "import_journal_file",
    "list_payroll_companies",
    "load_run_data",
    "run_label",
    "store_runs",
    "sync_source",
]

class DuplicateRunError(ServiceError):
    """A run that is already stored; nothing of the batch was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="duplicate-run")


def get_company(session: Session, code: str) -> PayrollCompany:
    company = session.exec(select(PayrollCompany).where(PayrollCompany.code == code)).first()
    if company is None:
        raise ServiceError(
            f"There is no payroll company with code {code!r}. See `companies list` for the codes, or import its "
            "runs first.",
            code="company-unknown",
        )
    return company


def _ensure_company(session: Session, data: PayrollCompanyData, source: str) -> PayrollCompany:
    company = session.exec(select(PayrollCompany).where(PayrollCompany.code == data.code)).first()
    if company is None:
        company = PayrollCompany(code=data.code, name=data.name or data.code, source=source)
        session.add(company)
        session.flush()
    return company


def _line_rows(run_id: int, lines: Iterable[JournalLine]) -> list[dict]:
    return [
        {
            "run_id": run_id,
            "ledger_account": line.ledger_account,
            "component": (line.component or "")[:200],
            "description": (line.description or "")[:200],
            "debit": line.debit,
            "credit": line.credit,
            "department": line.department,
            "cost_center": line.cost_center,
            "cost_unit": line.cost_unit,
            "employee": (line.employee or None) and line.employee[:200],
            "percentage": line.percentage,
        }
        for line in lines
    ]


def _totals(lines: Sequence[JournalLine]) -> tuple[Decimal, Decimal]:
    """The run's exact totals rounded once, half up: the totals its voucher will have."""
    debit, credit = journal_difference(lines)
    return round_cents(debit), round_cents(credit)


def store_runs(
    session: Session,
    company: PayrollCompany,
    runs: Sequence[PayrollRunData],
    *,
    source: str,
    skip_existing: bool = False,
) -> list[PayrollRun]:
    """Insert runs and their lines in the caller's transaction.

    A run whose key exists already is refused (`DuplicateRunError`, nothing written by this call's transaction)
    unless ``skip_existing`` (the idempotent demo seed and source syncs), which leaves it alone.
    """
    keys = {(r.year, r.period, r.run_number) for r in runs}
    if len(keys) != len(runs):
        raise DuplicateRunError(f"The batch holds the same run twice for {company.code}; nothing was imported.")
    existing = {
        (row.year, row.period, row.run_number): row
        for row in session.exec(select(PayrollRun).where(PayrollRun.company_id == company.id))
    }
    dupes = sorted(keys & existing.keys())
    if dupes and not skip_existing:
        shown = ", ".join(run_label(*k) for k in dupes[:5]) + (" …" if len(dupes) > 5 else "")
        raise DuplicateRunError(
            f"{company.name} ({company.code}) already has {plural(len(dupes), 'run')} {shown}; nothing was imported. "
            "A processed run is imported once; if payroll reprocessed it, give the new run its own run number."
        )
    stored: list[PayrollRun] = []
    now = utcnow()
    for data in runs:
        if (data.year, data.period, data.run_number) in existing:
            continue
        debit, credit = _totals(data.lines)
        row = PayrollRun(
            company_id=company.id,
            year=data.year,
            period=data.period,
            run_number=data.run_number,
            processed_at=data.processed_at,
            source=source,
            total_debit=debit,
            total_credit=credit,
            line_count=len(data.lines),
            updated_at=now,
        )
        session.add(row)
        stored.append(row)
    session.flush()
    lines: list[dict] = []
    for row, data in zip(stored, (r for r in runs if (r.year, r.period, r.run_number) not in existing), strict=True):
        lines.extend(_line_rows(row.id, data.lines))
        if len(lines) >= 5000:
            session.execute(sa.insert(JournalLineRow), lines)
            lines = []
    if lines:
        session.execute(sa.insert(JournalLineRow), lines)
    return stored


def check_company(company: PayrollCompanyData) -> None:
    """A payroll company's code and name fit the columns they are stored in (PostgreSQL refuses longer)."""
    limits = PayrollCompany.__table__.c
    for what, value, limit in (("code", company.code, limits.code.type.length),
                               ("name", company.name, limits.name.type.length)):
        if not value.strip():
            raise ServiceError(f"The payroll company's {what} is empty; name the company.", code="company-invalid")
        if len(value) > limit:
            raise ServiceError(f"The payroll company's {what} '{value[:40]}…' is {len(value)} characters; at most "
                               f"{limit} fit. Use a shorter {what}.", code="company-invalid")


_LINE_TEXTS = ("ledger_account", "component", "description", "department", "cost_center", "cost_unit", "employee")


_LINE_NUMBERS = ("debit", "credit", "percentage")


def _check_numbers(run: PayrollRunData, number: int, line: JournalLine, columns) -> None:
    """Every amount of a line is stored exactly as given (never rounded between its balance and its voucher)."""
    for name in _LINE_NUMBERS:
        value = getattr(line, name)
        problem = None if value is None else columns[name].type.refusal(value)
        if problem:
            raise ServiceError(
                f"Run {run.label} of {run.company_code}, line {number}: the {name} {problem}, so it cannot be sent "
                "as given. Nothing of this batch was stored; round it in the payroll system and send the run again.",
                code="line-amount-inexact")


def check_lines(runs: Sequence[PayrollRunData]) -> None:
    """Every text of every line fits its column and every amount is stored exactly; a payroll source's run that does
    not is refused as a whole, named (a file's rows are checked with their row numbers by the parser before this)."""
    columns = JournalLineRow.__table__.c
    for run in runs:
        for number, line in enumerate(run.lines, start=1):
            _check_numbers(run, number, line, columns)
            for name in _LINE_TEXTS:
                value, limit = getattr(line, name) or "", columns[name].type.length
                if len(value) > limit:
                    raise ServiceError(
                        f"Run {run.label} of {run.company_code}, line {number}: the {name.replace('_', ' ')} is "
                        f"{len(value)} characters; at most {limit} fit. Nothing of this batch was stored; shorten it "
                        "in the payroll system and send the run again.", code="line-too-long")


def _write_batch(rt, company: PayrollCompanyData, runs: Sequence[PayrollRunData], *, source: str, actor: str,
                 skip_existing: bool) -> list[str]:
    check_company(company)
    check_lines(runs)
    try:
        with session_scope(rt.engine) as session:
            row = _ensure_company(session, company, source)
            stored = store_runs(session, row, runs, source=source, skip_existing=skip_existing)
            labels = [run_label(r.year, r.period, r.run_number) for r in stored]
            if stored:
                audit.record(session, actor=actor, action="runs.imported",
                             detail={"company": company.code, "source": source, "runs": labels})
            return labels
    except IntegrityError:
        # Another import of the same runs committed between our check and our insert.
        raise DuplicateRunError(
            f"Runs of {company.code} were imported by someone else at the same moment; nothing of this batch was "
            "imported. Check `runs list` and import again only what is missing."
        ) from None


def import_journal_file(
    rt, company_code: str, filename: str, data: bytes, *, actor: str, company_name: str | None = None
) -> ImportView:
    """Import a payroll journal report (CSV or XLSX) for one payroll company, all or nothing.

    Returns the run labels imported, or every error: a file with any bad row imports nothing and lists every bad
    row; a run that exists already refuses the whole file (an error without a row, naming the run).
    """
    code = (company_code or "").strip()
    if not code:
        raise ServiceError("Name the payroll company the file belongs to (--company CODE).", code="company-missing")
    with session_scope(rt.engine) as session:
        known = session.exec(select(PayrollCompany).where(PayrollCompany.code == code)).first()
        name = company_name or (known.name if known else code)
    check_company(PayrollCompanyData(code, name))  # before reading the file: the company is named wrongly
    result = parse_journal_file(filename, data, company_code=code)
    if result.errors:
        return _refused(code, *(_error_view(e) for e in result.errors))
    if not result.runs:
        return _refused(code, ImportErrorView(None, None, f"{filename} holds no journal lines."))
    try:
        labels = _write_batch(rt, PayrollCompanyData(code, name), result.runs, source="import", actor=actor,
                              skip_existing=False)
    except DuplicateRunError as exc:
        return _refused(code, ImportErrorView(None, None, exc.message))
    return ImportView(company=code, imported=tuple(labels), errors=(), notes=tuple(result.notes))


def _error_view(error: RowError) -> ImportErrorView:
    return ImportErrorView(row=error.row, column=error.column, message=error.message)


def _refused(code: str, *errors: ImportErrorView) -> ImportView:
    return ImportView(company=code, imported=(), errors=errors)


def sync_source(rt, source: PayrollSource, *, actor: str, since: date | None = None) -> dict:
    """Store the new processed runs of every company of a `PayrollSource` (known runs are left alone).

    One transaction per company, so a company whose data is refused does not hold back the others.
    Returns ``{"companies": n, "runs": n_new}``.
    """
    companies = runs = 0
    name = source.name
    for company in source.list_companies():
        processed = source.list_processed_runs(company.code, since=since)
        naive = [r.label for r in processed if r.processed_at.tzinfo is None]
        if naive:  # a connector bug; refused whole rather than stored at a guessed time
            raise PayrollSourceError(
                f"Payroll source {name!r} returned {plural(len(naive), 'run')} {', '.join(naive)} "
                f"of {company.code} with a processed time without a time zone; nothing of that company was stored. "
                "The connector must return timezone-aware times (UTC).")
        new = _write_batch(rt, company, processed, source=name[:32], actor=actor, skip_existing=True)
        companies += 1
        runs += len(new)
    return {"companies": companies, "runs": runs}


def load_run_data(session: Session, run: PayrollRun, company_code: str) -> PayrollRunData:
    """The stored run as the journal builder takes it (lines in insertion order)."""
    rows = session.execute(
        sa.select(
            JournalLineRow.ledger_account, JournalLineRow.component, JournalLineRow.description,
            JournalLineRow.debit, JournalLineRow.credit, JournalLineRow.department, JournalLineRow.cost_center,
            JournalLineRow.cost_unit, JournalLineRow.employee, JournalLineRow.percentage,
        ).where(JournalLineRow.run_id == run.id).order_by(JournalLineRow.id)
    ).all()
    lines = tuple(
        JournalLine(r.ledger_account, r.component or "", r.description or "", Decimal(r.debit), Decimal(r.credit),
                    r.department, r.cost_center, r.cost_unit, r.employee,
                    None if r.percentage is None else Decimal(r.percentage))
        for r in rows
    )
    return PayrollRunData(company_code, run.year, run.period, run.run_number, run.processed_at, lines)


def list_payroll_companies(rt) -> list[CompanyView]:
    """Every payroll company with its mapping and run counts by status (one aggregate query)."""
    counts = (
        sa.select(
            PayrollRun.company_id.label("cid"),
            sa.func.count().label("total"),
            sa.func.sum(sa.case((PayrollRun.status == NOT_SENT, 1), else_=0)).label("not_sent"),
            sa.func.sum(sa.case((PayrollRun.status == SENDING, 1), else_=0)).label("sending"),
            sa.func.sum(sa.case((PayrollRun.status == UNCONFIRMED, 1), else_=0)).label("unconfirmed"),
            sa.func.sum(sa.case((PayrollRun.status == SENT, 1), else_=0)).label("sent"),
            sa.func.sum(sa.case((PayrollRun.status == FAILED, 1), else_=0)).label("failed"),
        )
        .group_by(PayrollRun.company_id)
        .subquery()
    )
    stmt = (
        sa.select(
            PayrollCompany.id, PayrollCompany.code, PayrollCompany.name, PayrollCompany.source,
            Account.name.label("account_name"), Account.status.label("account_status"),
            Account.visma_company_name, CompanyMapping.visma_company_id, CompanyMapping.auto_send,
            counts.c.total, counts.c.not_sent, counts.c.sending, counts.c.unconfirmed, counts.c.sent,
            counts.c.failed,
        )
        .select_from(PayrollCompany)
        .outerjoin(CompanyMapping, CompanyMapping.payroll_company_id == PayrollCompany.id)
        .outerjoin(Account, Account.id == CompanyMapping.account_id)
        .outerjoin(counts, counts.c.cid == PayrollCompany.id)
        .order_by(PayrollCompany.name, PayrollCompany.code)
    )
    with session_scope(rt.engine) as session:
        rows = session.execute(stmt).all()
    return [
        CompanyView(
            id=r.id, code=r.code, name=r.name, source=r.source,
            account_name=r.account_name, account_status=r.account_status,
            visma_company_name=r.visma_company_name, visma_company_id=r.visma_company_id,
            mapped=r.account_name is not None, auto_send=bool(r.auto_send),
            runs_total=int(r.total or 0), runs_not_sent=int(r.not_sent or 0), runs_sending=int(r.sending or 0),
            runs_unconfirmed=int(r.unconfirmed or 0), runs_sent=int(r.sent or 0), runs_failed=int(r.failed or 0),
        )
        for r in rows
    ]
