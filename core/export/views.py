"""Read-only views of runs and exports for the dashboard and the CLI: lists, voucher preview, history, support bundle.

Lists are single SQL queries (joins and GROUP BY), never loops over ORM objects, so they stay fast with thousands of
companies. Nothing here returns a token: support bundles hold the voucher sent, Visma's answers and ErrorIds, the
mapping and the catalogue entry — what support needs, nothing that opens an account.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import select

from core.db.engine import session_scope
from core.db.models import FAILED, Account, AuditEvent, ExportAttempt, PayrollCompany, PayrollRun
from core.errors import ServiceError
from core.export.voucher import JournalError, build_voucher, export_marker
from core.mappings.mappings import cached_chart, load_context, load_run_context
from core.payroll.store import run_label
from core.troubleshooting.troubleshooting import find_entry

__all__ = [
    "company_status_grid",
    "export_counts_by_period",
    "export_history",
    "get_run",
    "list_runs",
    "preview_run",
    "recent_failures",
    "run_history",
    "support_bundle",
]


def _money(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01"))) if value is not None else "0.00"


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


_RUN_COLUMNS = (
    PayrollRun.id, PayrollCompany.name, PayrollCompany.code, PayrollRun.year, PayrollRun.period,
    PayrollRun.run_number, PayrollRun.processed_at, PayrollRun.status, PayrollRun.voucher_number,
    PayrollRun.voucher_id, PayrollRun.error_entry_id, PayrollRun.error_message, PayrollRun.attempt_count,
    PayrollRun.sent_at, PayrollRun.total_debit, PayrollRun.line_count, PayrollRun.claimed_by,
    PayrollRun.claimed_at,
)


def _run_row(r) -> dict:
    """One row of ``_RUN_COLUMNS`` as the dict ``list_runs`` and ``get_run`` return."""
    return {
        "id": r[0], "company": r[1], "company_code": r[2], "year": r[3], "period": r[4], "run_number": r[5],
        "label": run_label(r[3], r[4], r[5]), "processed_at": _iso(r[6]), "status": r[7],
        "voucher_number": r[8], "voucher_id": r[9], "error_entry_id": r[10], "error_message": r[11],
        "attempt_count": r[12], "sent_at": _iso(r[13]), "total_debit": _money(r[14]), "line_count": r[15],
        "claimed_by": r[16], "claimed_at": _iso(r[17]),
    }


def list_runs(
    rt, *, company_code: str | None = None, status: str | None = None, limit: int | None = None
) -> list[dict]:
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
    return [_run_row(r) for r in rows]


def get_run(rt, run_id: int) -> dict:
    """One run, with the same fields as a row of ``list_runs`` (one query by primary key, for deep links)."""
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
    return _run_row(row)


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


def preview_run(rt, run_id: int) -> dict:
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
    rows = [
        {
            "account_number": r.account_number,
            "account_name": (names.get(r.account_number) or {}).get("name"),
            "debit": _money(r.debit), "credit": _money(r.credit), "transaction_text": r.transaction_text,
            "cost_center": items.get(r.cost_center_item_id, r.cost_center_item_id) if r.cost_center_item_id else None,
        }
        for r in voucher.rows
    ]
    return {
        "run_id": run.id, "company": ctx.company_name, "company_code": ctx.company_code,
        "label": run_label(run.year, run.period, run.run_number), "status": run.status,
        "voucher_date": voucher.voucher_date.isoformat(), "voucher_text": voucher.voucher_text, "marker": marker,
        "rows": rows, "total_debit": _money(voucher.total_debit), "total_credit": _money(voucher.total_credit),
        "balanced": voucher.is_balanced, "line_count": len(data.lines), "body": voucher.to_visma_json(),
    }


def _attempt_dict(a: ExportAttempt, *, with_bodies: bool = False) -> dict:
    out = {
        "id": a.id, "run_id": a.run_id, "generation": a.generation, "started_at": _iso(a.started_at),
        "duration_ms": a.duration_ms, "actor": a.actor, "kind": a.kind, "outcome": a.outcome,
        "http_status": a.http_status, "visma_error_code": a.visma_error_code, "visma_error_id": a.visma_error_id,
        "error_message": a.error_message, "entry_id": a.entry_id,
    }
    if with_bodies:
        out["request"] = json.loads(a.request_json) if a.request_json else None
        out["response"] = a.response_text
    return out


def run_history(rt, run_id: int) -> list[dict]:
    """Every attempt on one run, oldest first."""
    with session_scope(rt.engine) as session:
        attempts = session.exec(select(ExportAttempt).where(ExportAttempt.run_id == run_id)
                                .order_by(ExportAttempt.id)).all()
        return [_attempt_dict(a) for a in attempts]


def export_history(rt, *, company_code: str | None = None, limit: int = 200) -> list[dict]:
    """The newest attempts (of one company, or all), with the run they belong to."""
    stmt = (
        sa.select(ExportAttempt, PayrollCompany.code, PayrollRun.year, PayrollRun.period, PayrollRun.run_number)
        .join(PayrollRun, PayrollRun.id == ExportAttempt.run_id)
        .join(PayrollCompany, PayrollCompany.id == PayrollRun.company_id)
        .order_by(ExportAttempt.id.desc())
        .limit(limit)
    )
    if company_code:
        stmt = stmt.where(PayrollCompany.code == company_code)
    with session_scope(rt.engine) as session:
        rows = session.execute(stmt).all()
        return [dict(_attempt_dict(a), company_code=code, label=run_label(y, p, n)) for a, code, y, p, n in rows]


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
            "last_at": _iso(g["last_at"]),
        })
    return out


def support_bundle(rt, run_id: int) -> dict:
    """Everything support needs about one run's export, as JSON-ready data (no token, no secret)."""
    with session_scope(rt.engine) as session:
        run = session.get(PayrollRun, run_id)
        if run is None:
            raise ServiceError(f"There is no run with id {run_id}. See `runs list`.", code="run-unknown")
        company = session.get(PayrollCompany, run.company_id)
        ctx = load_context(session, company)
        account = session.get(Account, ctx.account_id) if ctx.account_id else None
        attempts = session.exec(select(ExportAttempt).where(ExportAttempt.run_id == run_id)
                                .order_by(ExportAttempt.id)).all()
        attempt_dicts = [_attempt_dict(a, with_bodies=True) for a in attempts]
        audit_rows = session.exec(select(AuditEvent).where(AuditEvent.run_id == run_id).order_by(AuditEvent.id)).all()
        audit_dicts = [{"at": _iso(e.at), "actor": e.actor, "action": e.action,
                        "detail": json.loads(e.detail) if e.detail else None} for e in audit_rows]
    last_post = next((a for a in reversed(attempt_dicts) if a["kind"] == "post"), None)
    last_error = next((a for a in reversed(attempt_dicts) if a["visma_error_id"] or a["error_message"]), None)
    entry = find_entry(run.error_entry_id) if run.error_entry_id else None
    return {
        "run": {
            "id": run.id, "company": company.name, "company_code": company.code,
            "label": run_label(run.year, run.period, run.run_number), "processed_at": _iso(run.processed_at),
            "status": run.status, "marker": run.marker, "generation": run.generation,
            "voucher_id": run.voucher_id, "voucher_number": run.voucher_number, "sent_at": _iso(run.sent_at),
            "error_message": run.error_message, "error_entry_id": run.error_entry_id,
            "attempt_count": run.attempt_count, "total_debit": _money(run.total_debit),
        },
        "mapping": {
            "account": ctx.account_name, "account_status": account.status if account else None,
            "visma_company_id": ctx.visma_company_id, "visma_company_name": ctx.visma_company_name,
            "auto_send": ctx.auto_send, "ledger_rows": ctx.ledger_map, "cost_center_rows": ctx.cost_center_rows,
        },
        "voucher_sent": last_post["request"] if last_post else None,
        "visma_response": last_post["response"] if last_post else None,
        "visma_error_id": last_error["visma_error_id"] if last_error else None,
        "visma_error_code": last_error["visma_error_code"] if last_error else None,
        "entry": entry.to_dict() if entry else None,
        "attempts": attempt_dicts,
        "audit": audit_dicts,
    }
