"""Ledger-account and cost-centre mappings of a mapped payroll company, checked against the cached Visma chart.

**Identity by default.** A payroll ledger account that is a number maps to the same Visma account number unless a
row says otherwise; a payroll cost-centre code maps to the Visma cost-centre item whose ShortName equals it unless a
row says otherwise. So the common case needs no configuration at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, select

from core.db import audit
from core.db.engine import session_scope
from core.db.models import CompanyMapping, CostCenterMapping, JournalLineRow, LedgerMapping, PayrollRun
from core.errors import ServiceError
from core.mappings.chart import Chart, cached_chart, get_chart
from core.mappings.companies import require_mapping
from core.mappings.views import CostCenterMappingRow, LedgerMappingRow
from core.visma.client import VismaError

__all__ = ["cost_center_mapping", "ledger_mapping", "save_cost_center_mapping", "save_ledger_mapping"]


def _chart_for(rt, mapping: CompanyMapping, live: bool) -> Chart | None:
    """The chart (live when asked); the cached one when Visma cannot be read now (the rows say "unchecked" when
    there is none)."""
    try:
        return get_chart(rt, mapping.account_id, mapping.visma_company_id, live=live)
    except (VismaError, ServiceError):
        return cached_chart(rt.engine, mapping.visma_company_id)


def _check_account(chart: Chart | None, number: int | None, day: date) -> tuple[str, str | None]:
    if number is None:
        return "unmapped", None
    if chart is None:
        return "unchecked", None
    account = chart.accounts_for(day).get(number)
    if account is None:
        return "unknown", None
    return ("ok" if account["active"] else "inactive"), account["name"]


def _used_accounts(session: Session, company_id: int) -> list[tuple[str, str]]:
    """(payroll account, components) used in the company's runs, aggregated in SQL."""
    rows = session.execute(
        sa.select(JournalLineRow.ledger_account, JournalLineRow.component)
        .join(PayrollRun, PayrollRun.id == JournalLineRow.run_id)
        .where(PayrollRun.company_id == company_id)
        .group_by(JournalLineRow.ledger_account, JournalLineRow.component)
    ).all()
    by_account: dict[str, list[str]] = {}
    for account, component in rows:
        by_account.setdefault(account, [])
        if component and component not in by_account[account]:
            by_account[account].append(component)
    return sorted(((a, ", ".join(sorted(c))) for a, c in by_account.items()), key=lambda x: x[0])


def _identity(payroll_account: str) -> int | None:
    key = payroll_account.strip()
    return int(key) if key.isascii() and key.isdigit() and 0 < int(key) <= 9_999_999_999 else None


def _latest_run_day(session: Session, company_id: int) -> date:
    row = session.execute(
        sa.select(PayrollRun.year, PayrollRun.period).where(PayrollRun.company_id == company_id)
        .order_by(PayrollRun.year.desc(), PayrollRun.period.desc()).limit(1)
    ).first()
    return date(row.year, row.period, 1) if row else date.today()


def ledger_mapping(rt, company_code: str, *, live: bool = True) -> list[LedgerMappingRow]:
    """Each payroll ledger account used by the company's runs, its Visma account and the check against the chart.

    ``check`` is ``ok``, ``unknown`` (no such account in Visma), ``inactive``, ``unmapped`` (a non-numeric payroll
    account without a row) or ``unchecked`` (Visma could not be read).
    """
    with session_scope(rt.engine) as session:
        company, mapping = require_mapping(session, company_code)
        explicit = {r.payroll_account: r.visma_account_number
                    for r in session.exec(select(LedgerMapping).where(LedgerMapping.mapping_id == mapping.id))}
        used = _used_accounts(session, company.id)
        day = _latest_run_day(session, company.id)
    chart = _chart_for(rt, mapping, live)
    rows = []
    seen = set()
    for payroll_account, components in used + [(a, "") for a in sorted(explicit) if a not in {u[0] for u in used}]:
        if payroll_account in seen:
            continue
        seen.add(payroll_account)
        number = explicit.get(payroll_account, _identity(payroll_account))
        check, name = _check_account(chart, number, day)
        rows.append(LedgerMappingRow(
            payroll_account=payroll_account,
            components=components,
            visma_account_number=number,
            visma_account_name=name,
            explicit=payroll_account in explicit,
            check=check,
        ))
    return rows


def save_ledger_mapping(rt, company_code: str, rows: Iterable[dict], *, actor: str) -> list[LedgerMappingRow]:
    """Replace the explicit ledger rows; a row equal to the identity default is not stored (it is the default)."""
    clean: dict[str, int] = {}
    for row in rows:
        payroll_account = str(row.get("payroll_account") or "").strip()
        target = row.get("visma_account_number")
        if not payroll_account:
            raise ServiceError("A ledger mapping row has no payroll account.", code="mapping-invalid")
        try:
            number = int(str(target).strip())
        except (TypeError, ValueError):
            raise ServiceError(
                f"Payroll account {payroll_account}: {target!r} is not a Visma account number.", code="mapping-invalid"
            ) from None
        if number <= 0:
            raise ServiceError(f"Payroll account {payroll_account}: account numbers are positive.",
                               code="mapping-invalid")
        if _identity(payroll_account) != number:
            clean[payroll_account] = number
    with session_scope(rt.engine) as session:
        company, mapping = require_mapping(session, company_code)
        session.execute(sa.delete(LedgerMapping).where(LedgerMapping.mapping_id == mapping.id))
        for payroll_account, number in sorted(clean.items()):
            session.add(LedgerMapping(mapping_id=mapping.id, payroll_account=payroll_account,
                                      visma_account_number=number))
        audit.record(session, actor=actor, action="mapping.ledger_saved", mapping_id=mapping.id,
                     detail={"company": company.code, "rows": clean})
    return ledger_mapping(rt, company_code, live=False)


def cost_center_mapping(rt, company_code: str, *, live: bool = True) -> list[CostCenterMappingRow]:
    """Each payroll cost centre used by the company's runs and the Visma cost-centre item it goes to.

    ``check``: ``ok``, ``inactive`` (Visma refuses it: 5006), ``unknown`` (no such item) or ``unchecked``.
    """
    with session_scope(rt.engine) as session:
        company, mapping = require_mapping(session, company_code)
        explicit = {r.payroll_cost_center: r.visma_cost_center_item_id
                    for r in session.exec(select(CostCenterMapping).where(CostCenterMapping.mapping_id == mapping.id))}
        used = [code for code in session.scalars(
            sa.select(JournalLineRow.cost_center).join(PayrollRun, PayrollRun.id == JournalLineRow.run_id)
            .where(PayrollRun.company_id == company.id, JournalLineRow.cost_center.is_not(None))
            .group_by(JournalLineRow.cost_center)
        ) if code]
    chart = _chart_for(rt, mapping, live)
    return [_cost_center_row(chart, code, explicit) for code in sorted(set(used) | set(explicit))]


def _cost_center_row(chart: Chart | None, code: str, explicit: dict[str, str]) -> CostCenterMappingRow:
    """A payroll cost centre's target: its explicit row, else the Visma item whose ShortName equals the code."""
    item_id = explicit.get(code)
    item = None
    if chart is not None:
        item = chart.item_by_id(item_id) if item_id else (
            dict(chart.cost_center_items[code], short=code) if code in chart.cost_center_items else None)
    if chart is None:
        check = "unchecked"
    elif item is None:
        check = "unknown"
    else:
        check = "ok" if item["active"] else "inactive"
    return CostCenterMappingRow(
        payroll_cost_center=code,
        visma_cost_center_item_id=item["id"] if item else item_id,
        visma_cost_center_short_name=item["short"] if item else None,
        visma_cost_center_name=item["name"] if item else None,
        explicit=code in explicit,
        check=check,
    )


def save_cost_center_mapping(rt, company_code: str, rows: Iterable[dict], *, actor: str) -> list[CostCenterMappingRow]:
    """Replace the explicit cost-centre rows; the target may be an item id or a Visma ShortName."""
    with session_scope(rt.engine) as session:
        _company, mapping = require_mapping(session, company_code)
    chart = cached_chart(rt.engine, mapping.visma_company_id)
    clean: dict[str, str] = {}
    for row in rows:
        code = str(row.get("payroll_cost_center") or "").strip()
        target = str(row.get("visma_cost_center_item_id") or row.get("visma_cost_center") or "").strip()
        if not code or not target:
            raise ServiceError("A cost-centre mapping row needs a payroll cost centre and a Visma cost centre.",
                               code="mapping-invalid")
        if chart is not None and target in chart.cost_center_items:
            target = chart.cost_center_items[target]["id"]
        default = chart.cost_center_items.get(code, {}).get("id") if chart else None
        if target != default:
            clean[code] = target[:64]
    with session_scope(rt.engine) as session:
        company, mapping = require_mapping(session, company_code)
        session.execute(sa.delete(CostCenterMapping).where(CostCenterMapping.mapping_id == mapping.id))
        for code, target in sorted(clean.items()):
            session.add(CostCenterMapping(mapping_id=mapping.id, payroll_cost_center=code,
                                          visma_cost_center_item_id=target))
        audit.record(session, actor=actor, action="mapping.cost_centers_saved", mapping_id=mapping.id,
                     detail={"company": company.code, "rows": clean})
    return cost_center_mapping(rt, company_code, live=False)
