"""Read-only views of runs and exports for the dashboard and the CLI: lists, voucher preview, history, support bundle.

Lists are single SQL queries (joins and GROUP BY), never loops over ORM objects, so they stay fast with thousands of
companies. Nothing here returns a token: support bundles hold the voucher sent, Visma's answers and ErrorIds, the
mapping and the catalogue entry — what support needs, nothing that opens an account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import select

from core.db.engine import session_scope
from core.db.models import FAILED, ExportAttempt, PayrollCompany, PayrollRun
from core.errors import ServiceError
from core.export.context import load_run_context
from core.export.texts import export_marker
from core.export.voucher import JournalError, build_voucher
from core.mappings.chart import cached_chart
from core.payroll.store import run_label
from core.troubleshooting.catalogue import find_entry

MAX_ID = 2**63 - 1  # the largest id a database stores

__all__ = [
    "company_status_grid",
    "export_counts_by_period",
    "get_run",
    "list_runs",
    "preview_run",
    "recent_failures",
    "run_history",
    "AttemptView",
    "PreviewRowView",
    "PreviewView",
    "RunView",
]


CENT = Decimal("0.01")


def money(value) -> Decimal:
    """An amount to the cent (``0.00`` when missing): what the views return and the CLI prints as ``"12.50"``."""
    return Decimal(value).quantize(CENT) if value is not None else Decimal("0.00")


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# ------------------------------------------------------------------------------------------------ read models
# Field names are the CLI's ``--json`` field names, in the order it prints them. Times are ISO 8601 strings as
# stored (naive UTC), as the CLI has always printed them.


@dataclass(frozen=True, slots=True)
class RunView:
    """One payroll run with its export state (a row of ``runs list``)."""

    id: int
    company: str
    company_code: str
    year: int
    period: int
    run_number: int
    label: str
    processed_at: str | None
    status: str
    voucher_number: str | None
    voucher_id: str | None
    error_entry_id: str | None
    error_message: str | None
    attempt_count: int
    sent_at: str | None
    total_debit: Decimal
    line_count: int
    claimed_by: str | None
    claimed_at: str | None


@dataclass(frozen=True, slots=True)
class AttemptView:
    """One export attempt of a run (post, reconcile, lookup or build), oldest first in a run's history."""

    id: int
    run_id: int
    generation: int
    started_at: str | None
    duration_ms: int | None
    actor: str
    kind: str
    outcome: str
    http_status: int | None
    visma_error_code: str | None
    visma_error_id: str | None
    error_message: str | None
    entry_id: str | None


@dataclass(frozen=True, slots=True)
class PreviewRowView:
    account_number: int
    account_name: str | None
    debit: Decimal
    credit: Decimal
    transaction_text: str
    cost_center: str | None


@dataclass(frozen=True, slots=True)
class PreviewView:
    """The voucher a run would become, with its rows and the JSON body Visma would get; nothing is sent."""

    run_id: int
    company: str
    company_code: str
    label: str
    status: str
    voucher_date: date
    voucher_text: str
    marker: str
    rows: tuple[PreviewRowView, ...]
    total_debit: Decimal
    total_credit: Decimal
    balanced: bool
    line_count: int
    body: dict


_RUN_COLUMNS = (
    PayrollRun.id, PayrollCompany.name, PayrollCompany.code, PayrollRun.year, PayrollRun.period,
    PayrollRun.run_number, PayrollRun.processed_at, PayrollRun.status, PayrollRun.voucher_number,
    PayrollRun.voucher_id, PayrollRun.error_entry_id, PayrollRun.error_message, PayrollRun.attempt_count,
    PayrollRun.sent_at, PayrollRun.total_debit, PayrollRun.line_count, PayrollRun.claimed_by,
    PayrollRun.claimed_at,
)


def _run_view(r) -> RunView:
    """One row of ``_RUN_COLUMNS`` as ``list_runs`` and ``get_run`` return it."""
    return RunView(
        id=r.id, company=r.name, company_code=r.code, year=r.year, period=r.period, run_number=r.run_number,
        label=run_label(r.year, r.period, r.run_number), processed_at=iso(r.processed_at), status=r.status,
        voucher_number=r.voucher_number, voucher_id=r.voucher_id, error_entry_id=r.error_entry_id,
        error_message=r.error_message, attempt_count=r.attempt_count, sent_at=iso(r.sent_at),
        total_debit=money(r.total_debit), line_count=r.line_count, claimed_by=r.claimed_by,
        claimed_at=iso(r.claimed_at),
    )


def list_runs(
    rt, *, company_code: str | None = None, status: str | None = None, limit: int | None = None
) -> list[RunView]:
    """Runs with their export state, newest period first (one query)."""
    stmt = (
        sa.select(*_RUN_COLUMNS)
        .join(PayrollCompany, PayrollCompany.id == PayrollRun.company_id)
        .order_by(PayrollCompany.code, PayrollRun.year.desc(), PayrollRun.period.desc(), PayrollRun.run_number.desc())
    )
    if company_code:
        stmt = stmt.where(PayrollCompany.code == company_code)
    if status:
        stmt = stmt.where(PayrollRun.status == status)
    if limit:
        stmt = stmt.limit(limit)
    with session_scope(rt.engine) as session:
        rows = session.execute(stmt).all()
    return [_run_view(r) for r in rows]


def get_run(rt, run_id: int) -> RunView:
    """One run, with the same fields as a row of ``list_runs`` (one query by primary key, for deep links)."""
    if not 0 < run_id <= MAX_ID:  # a mistyped link: no database holds such an id (and the driver could not bind it)
        raise ServiceError(f"There is no run with id {run_id}. Pick the company and the run from the list instead.",
                           code="run_not_found")
    stmt = (
        sa.select(*_RUN_COLUMNS)
        .join(PayrollCompany, PayrollCompany.id == PayrollRun.company_id)
        .where(PayrollRun.id == run_id)
    )
    with session_scope(rt.engine) as session:
        row = session.execute(stmt).first()
    if row is None:
        raise ServiceError(
            f"There is no run with id {run_id}: it was never imported or has been deleted. Pick the company and the "
            "run from the list instead (or see `runs list`).",
            code="run-unknown",
        )
    return _run_view(row)


def company_status_grid(rt) -> list[dict]:
    """Run counts per (company, year, period, status): the Overview's company × period grid, one query.

    At 2,000 companies × 12 runs this is ~24,000 small rows at most (fewer when a period has several runs of one
    status), instead of every run's full record."""
    # grouped on the run table's own integer key first, then joined to the companies: a third faster on SQLite than
    # grouping on the joined code and name strings
    counts = (
        sa.select(PayrollRun.company_id, PayrollRun.year, PayrollRun.period, PayrollRun.status,
                  sa.func.count().label("n"))
        .group_by(PayrollRun.company_id, PayrollRun.year, PayrollRun.period, PayrollRun.status)
        .subquery()
    )
    stmt = (
        sa.select(PayrollCompany.code, PayrollCompany.name, counts.c.year, counts.c.period, counts.c.status,
                  counts.c.n)
        .join(counts, counts.c.company_id == PayrollCompany.id)
        .order_by(PayrollCompany.code, counts.c.year, counts.c.period, counts.c.status)
    )
    with rt.engine.connect() as conn:  # a Core read: no ORM session bookkeeping for tens of thousands of rows
        rows = conn.execute(stmt).all()
    return [
        {"company_code": code, "company": name, "year": year, "period": period, "status": status, "count": int(n)}
        for code, name, year, period, status, n in rows
    ]


def preview_run(rt, run_id: int) -> PreviewView:
    """The voucher this run would become (with the mapping and the cached Visma chart); nothing is sent."""
    with session_scope(rt.engine) as session:
        run, _company, ctx, data = load_run_context(session, run_id)
        marker = run.marker or export_marker(data, generation=run.generation - 1)
    chart = cached_chart(rt.engine, ctx.visma_company_id)
    day = date(run.year, run.period, 1)
    try:
        voucher = build_voucher(
            data, ledger_map=ctx.ledger_map, cost_center_map=ctx.cost_center_map(chart),
            accounts_with_cost_centers=chart.cost_center_accounts(day) if chart else (), marker=marker,
            company_name=ctx.company_name,
        )
    except JournalError as err:
        raise ServiceError(err.message, entry_id=err.code) from None
    names = chart.accounts_for(day) if chart else {}
    items = {i["id"]: s for s, i in chart.cost_center_items.items()} if chart else {}
    rows = tuple(
        PreviewRowView(
            account_number=r.account_number,
            account_name=(names.get(r.account_number) or {}).get("name"),
            debit=money(r.debit), credit=money(r.credit), transaction_text=r.transaction_text,
            cost_center=items.get(r.cost_center_item_id, r.cost_center_item_id) if r.cost_center_item_id else None,
        )
        for r in voucher.rows
    )
    return PreviewView(
        run_id=run.id, company=ctx.company_name, company_code=ctx.company_code,
        label=run_label(run.year, run.period, run.run_number), status=run.status,
        voucher_date=voucher.voucher_date, voucher_text=voucher.voucher_text, marker=marker,
        rows=rows, total_debit=money(voucher.total_debit), total_credit=money(voucher.total_credit),
        balanced=voucher.is_balanced, line_count=len(data.lines), body=voucher.to_visma_json(),
    )


def attempt_view(a: ExportAttempt) -> AttemptView:
    return AttemptView(
        id=a.id, run_id=a.run_id, generation=a.generation, started_at=iso(a.started_at), duration_ms=a.duration_ms,
        actor=a.actor, kind=a.kind, outcome=a.outcome, http_status=a.http_status,
        visma_error_code=a.visma_error_code, visma_error_id=a.visma_error_id, error_message=a.error_message,
        entry_id=a.entry_id,
    )


def run_history(rt, run_id: int) -> list[AttemptView]:
    """Every attempt on one run, oldest first."""
    with session_scope(rt.engine) as session:
        attempts = session.exec(select(ExportAttempt).where(ExportAttempt.run_id == run_id)
                                .order_by(ExportAttempt.id)).all()
        return [attempt_view(a) for a in attempts]


def export_counts_by_period(rt, *, company_code: str | None = None) -> list[dict]:
    """Run counts per (year, period, status), one GROUP BY."""
    stmt = (
        sa.select(PayrollRun.year, PayrollRun.period, PayrollRun.status, sa.func.count())
        .group_by(PayrollRun.year, PayrollRun.period, PayrollRun.status)
        .order_by(PayrollRun.year, PayrollRun.period, PayrollRun.status)
    )
    if company_code:
        stmt = stmt.join(PayrollCompany, PayrollCompany.id == PayrollRun.company_id).where(
            PayrollCompany.code == company_code)
    with session_scope(rt.engine) as session:
        return [{"year": y, "period": p, "status": s, "count": int(n)} for y, p, s, n in session.execute(stmt).all()]


def recent_failures(rt, *, limit_companies: int = 10) -> list[dict]:
    """Failed runs grouped by troubleshooting entry: count, companies affected, last failure (GROUP BY in SQL)."""
    stmt = (
        sa.select(PayrollRun.error_entry_id, PayrollCompany.code, sa.func.count(), sa.func.max(PayrollRun.updated_at))
        .join(PayrollCompany, PayrollCompany.id == PayrollRun.company_id)
        .where(PayrollRun.status == FAILED)
        .group_by(PayrollRun.error_entry_id, PayrollCompany.code)
    )
    with session_scope(rt.engine) as session:
        rows = session.execute(stmt).all()
    groups: dict[str | None, dict] = {}
    for entry_id, code, count, last in rows:
        g = groups.setdefault(entry_id, {"entry_id": entry_id, "count": 0, "companies": [], "last_at": None})
        g["count"] += int(count)
        g["companies"].append(code)
        if last is not None and (g["last_at"] is None or last > g["last_at"]):
            g["last_at"] = last
    out = []
    for g in sorted(groups.values(), key=lambda g: (-g["count"], g["entry_id"] or "")):
        entry = find_entry(g["entry_id"]) if g["entry_id"] else None
        companies = sorted(g["companies"])
        out.append({
            "entry_id": g["entry_id"], "title": entry.title if entry else "Unknown error", "count": g["count"],
            "companies_affected": len(companies), "companies": companies[:limit_companies],
            "last_at": iso(g["last_at"]),
        })
    return out
