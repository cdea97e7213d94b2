"""Preflight: a dry run of an export against live Visma data, without writing anything to Visma.

It answers "would this run go through, and if not, why" before anyone presses Send, with the troubleshooting entry
each problem would raise: the mapping and account (company-not-mapped, account-not-authorized), the token and API
module (one GET of the company settings: token-expired/reauthorize-needed, api-module-inactive, no-company-access,
company-inactive), the fiscal year of the voucher date (fiscal-year-missing, year-locked), the accounting lock
(period-locked), the voucher itself (account-not-mapped, voucher-unbalanced), every account on it (account-not-found
when missing or inactive) and every cost centre (cost-center-not-allowed, cost-center-inactive).

Live means live: the client's cached lists are dropped first, and what is read refreshes the database chart cache the
send path uses (`core.mappings`). Some refusals cannot be seen without writing (a read-only user, Visma.net's ledger
error); those surface on the first send, with their entry.
"""

from __future__ import annotations

import calendar
from datetime import date

import sqlalchemy as sa

from core.accounts.sessions import visma_session
from core.db.engine import session_scope
from core.db.models import AUTHORIZED, NEEDS_REAUTHORIZATION, SENT, PayrollCompany, PayrollRun
from core.errors import ServiceError
from core.export.context import load_context, load_run_context
from core.export.texts import export_marker
from core.export.voucher import JournalError, build_voucher
from core.mappings.chart import Chart, fetch_chart, store_chart
from core.payroll.store import get_company, load_run_data, run_label
from core.troubleshooting.classify import entry_for
from core.visma.client import VismaError

__all__ = ["preflight_company", "preflight_run", "preflight_runs"]

ERROR, WARNING, OK = "error", "warning", "ok"


def _finding(severity: str, entry_id: str | None, message: str, detail: str | None = None, *, check: str) -> dict:
    return {"severity": severity, "entry_id": entry_id, "message": message, "detail": detail, "check": check}


def _visma_finding(err, check: str, what: str) -> dict:
    return _finding(ERROR, entry_for(err), f"{what}: {err.message}", str(err), check=check)


class _Live:
    """The live facts of one Visma company, read once per preflight call."""

    def __init__(self, rt, ctx) -> None:
        self.rt = rt
        self.ctx = ctx
        self.findings: list[dict] = []
        self.vs = None
        self.settings = None
        self.chart: Chart | None = None

    def load(self) -> bool:
        ctx = self.ctx
        if ctx.mapping_id is None:
            self.findings.append(_finding(ERROR, "company-not-mapped", f"{ctx.company_name} is not mapped to a Visma "
                                          "company. Map it to an authorized account first.", check="mapping"))
            return False
        if ctx.account_status != AUTHORIZED:
            entry = "reauthorize-needed" if ctx.account_status == NEEDS_REAUTHORIZATION else "account-not-authorized"
            self.findings.append(_finding(ERROR, entry, f"Account {ctx.account_name!r} is {ctx.account_status}; "
                                          "authorize it again.", check="account"))
            return False
        try:
            self.vs = visma_session(self.rt, ctx.account_id)
            self.vs.invalidate()
            self.settings = self.vs.company_settings()
        except VismaError as err:
            self.findings.append(_visma_finding(err, "token", "Visma refused the account's token or company"))
            return False
        except ServiceError as err:
            self.findings.append(_finding(ERROR, err.entry_id or "reauthorize-needed", err.message, check="token"))
            return False
        self.findings.append(_finding(OK, None, "Token accepted and API module active.", check="token"))
        status = self.settings.company_status
        if status == 0:
            self.findings.append(_finding(ERROR, "company-inactive", "The Visma company is not active.",
                                          check="company"))
        try:
            self.chart = fetch_chart(self.vs, ctx.visma_company_id)
            store_chart(self.rt.engine, self.chart)
        except VismaError as err:
            self.findings.append(_visma_finding(err, "chart", "The chart of accounts could not be read"))
            return False
        return True


def _voucher_day(run: PayrollRun) -> date:
    return date(run.year, run.period, calendar.monthrange(run.year, run.period)[1])


def _check_run(live: _Live, run: PayrollRun, data) -> list[dict]:
    ctx, chart, out = live.ctx, live.chart, []
    label = run_label(run.year, run.period, run.run_number)
    day = _voucher_day(run)
    fy = chart.fiscal_year_for(day)
    if fy is None:
        out.append(_finding(ERROR, "fiscal-year-missing", f"{label}: Visma has no fiscal year for {day}. Create the "
                            "fiscal year in eAccounting (Settings → Fiscal years).", check="fiscal_year"))
    elif fy["locked"]:
        out.append(_finding(ERROR, "year-locked", f"{label}: the fiscal year {fy['start']}–{fy['end']} is locked for "
                            "accounting.", check="fiscal_year"))
    locked_to = live.settings.accounting_locked_to if live.settings else None
    if locked_to is not None and day <= locked_to:
        out.append(_finding(ERROR, "period-locked", f"{label}: the voucher date {day} is in a locked period (locked "
                            f"up to {locked_to}).", check="period"))
    try:
        voucher = build_voucher(
            data, ledger_map=ctx.ledger_map, cost_center_map=ctx.cost_center_map(chart),
            accounts_with_cost_centers=chart.cost_center_accounts(day),
            marker=run.marker or export_marker(data, generation=run.generation - 1), company_name=ctx.company_name,
        )
    except JournalError as err:
        out.append(_finding(ERROR, err.code, f"{label}: {err.message}", check="voucher"))
        return out
    accounts = chart.accounts_for(day)
    items = {i["id"]: (s, i) for s, i in chart.cost_center_items.items()}
    for row in voucher.rows:
        account = accounts.get(row.account_number)
        if account is None or not account["active"]:
            why = "does not exist" if account is None else "is inactive"
            out.append(_finding(ERROR, "account-not-found", f"{label}: Visma account {row.account_number} {why} in "
                                "the fiscal year of the voucher date.", check="accounts"))
            continue
        if row.cost_center_item_id:
            if not account["cc"]:
                out.append(_finding(ERROR, "cost-center-not-allowed", f"{label}: account {row.account_number} does "
                                    "not allow a cost centre.", check="cost_centers"))
            item = items.get(row.cost_center_item_id)
            if item is None:
                out.append(_finding(ERROR, "validation-failed", f"{label}: cost centre {row.cost_center_item_id} does "
                                    "not exist in Visma.", check="cost_centers"))
            elif not item[1]["active"]:
                out.append(_finding(ERROR, "cost-center-inactive", f"{label}: cost centre {item[0]} "
                                    f"({item[1]['name']}) is inactive in Visma.", check="cost_centers"))
    if not out:
        out.append(_finding(OK, None, f"{label}: ready to send ({len(voucher.rows)} rows, balanced, "
                            f"{voucher.total_debit} debit = credit).", check="voucher"))
    return out


def _dedupe(findings: list[dict]) -> list[dict]:
    seen, out = set(), []
    for f in findings:
        key = (f["severity"], f["entry_id"], f["message"])
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def preflight_run(rt, run_id: int) -> list[dict]:
    """Findings for one run (severity error|warning|ok, entry_id, message, detail, check); nothing is written."""
    with session_scope(rt.engine) as session:
        run, _company, ctx, data = load_run_context(session, run_id)
        session.expunge_all()
    live = _Live(rt, ctx)
    findings = list(live.findings)
    if not live.load():
        return live.findings
    findings = live.findings
    if run.status == SENT:
        findings.append(_finding(WARNING, "voucher-already-sent", f"{run_label(run.year, run.period, run.run_number)}"
                                 f" was sent already (voucher {run.voucher_number}).", check="status"))
    return _dedupe(findings + _check_run(live, run, data))


def preflight_company(rt, company_code: str, *, limit: int = 12) -> list[dict]:
    """Findings for a company's runs waiting to be sent (the oldest ``limit``), or its mapping alone if none wait."""
    with session_scope(rt.engine) as session:
        company = get_company(session, company_code)
        ctx = load_context(session, company)
        runs = session.execute(
            sa.select(PayrollRun).where(PayrollRun.company_id == company.id, PayrollRun.status != SENT)
            .order_by(PayrollRun.year, PayrollRun.period, PayrollRun.run_number).limit(limit)
        ).scalars().all()
        pairs = [(r, load_run_data(session, r, company.code)) for r in runs]
        session.expunge_all()
    live = _Live(rt, ctx)
    if not live.load():
        return live.findings
    findings = list(live.findings)
    for run, data in pairs:
        findings += _check_run(live, run, data)
    if not pairs:
        findings.append(_finding(OK, None, "No runs waiting to be sent.", check="runs"))
    return _dedupe(findings)


def preflight_runs(rt, run_ids: list[int]) -> dict[int, list[dict]]:
    """Fresh findings for each of ``run_ids`` (runs of one company), reading Visma once for all of them: what a bulk
    retry checks before it sends again. A company-wide problem (mapping, account, token) is every run's finding."""
    if not run_ids:
        return {}
    with session_scope(rt.engine) as session:
        runs = session.execute(
            sa.select(PayrollRun).where(PayrollRun.id.in_(run_ids))
            .order_by(PayrollRun.year, PayrollRun.period, PayrollRun.run_number)).scalars().all()
        if len({r.company_id for r in runs}) > 1:
            raise ValueError("preflight_runs takes the runs of one company")
        company = session.get(PayrollCompany, runs[0].company_id)
        ctx = load_context(session, company)
        pairs = [(r, load_run_data(session, r, company.code)) for r in runs]
        session.expunge_all()
    live = _Live(rt, ctx)
    if not live.load():
        return {r.id: list(live.findings) for r, _ in pairs}
    return {run.id: _dedupe(_check_run(live, run, data)) for run, data in pairs}
