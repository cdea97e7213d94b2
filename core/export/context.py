"""The export's run loader: a run with its company, its mapping (account, Visma company, ledger and cost-centre rows)
and its journal lines, read in one session for the voucher builder, preflight and the send path."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from core.db.models import Account, CompanyMapping, CostCenterMapping, LedgerMapping, PayrollCompany, PayrollRun
from core.errors import ServiceError
from core.mappings.chart import Chart
from core.payroll.store import load_run_data

__all__ = ["MappingContext", "load_context", "load_run_context"]


@dataclass(frozen=True)
class MappingContext:
    """Everything the send path needs of one payroll company's mapping, read in one go."""

    company_id: int
    company_code: str
    company_name: str
    mapping_id: int | None
    account_id: int | None
    account_name: str | None
    account_status: str | None
    visma_company_id: str | None
    visma_company_name: str | None
    auto_send: bool
    ledger_map: dict[str, int]
    cost_center_rows: dict[str, str]

    def cost_center_map(self, chart: Chart | None) -> dict[str, str]:
        """Payroll code -> item id: ShortName matches by default, explicit rows win."""
        out = {short: item["id"] for short, item in (chart.cost_center_items.items() if chart else ())}
        out.update(self.cost_center_rows)
        return out


def load_run_context(session: Session, run_id: int):
    """A run with everything needed to turn it into a voucher: ``(run, company, mapping context, run data)``."""
    run = session.get(PayrollRun, run_id)
    if run is None:
        raise ServiceError(f"There is no run with id {run_id}. See `runs list`.", code="run-unknown")
    company = session.get(PayrollCompany, run.company_id)
    return run, company, load_context(session, company), load_run_data(session, run, company.code)


def load_context(session: Session, company: PayrollCompany) -> MappingContext:
    mapping = session.exec(select(CompanyMapping).where(CompanyMapping.payroll_company_id == company.id)).first()
    account = session.get(Account, mapping.account_id) if mapping else None
    ledger: dict[str, int] = {}
    cc_rows: dict[str, str] = {}
    if mapping:
        ledger = {r.payroll_account: r.visma_account_number
                  for r in session.exec(select(LedgerMapping).where(LedgerMapping.mapping_id == mapping.id))}
        cc_rows = {r.payroll_cost_center: r.visma_cost_center_item_id
                   for r in session.exec(select(CostCenterMapping).where(CostCenterMapping.mapping_id == mapping.id))}
    return MappingContext(
        company_id=company.id,
        company_code=company.code,
        company_name=company.name,
        mapping_id=mapping.id if mapping else None,
        account_id=account.id if account else None,
        account_name=account.name if account else None,
        account_status=account.status if account else None,
        visma_company_id=(mapping.visma_company_id or (account.visma_company_id if account else None))
        if mapping else None,
        visma_company_name=account.visma_company_name if account else None,
        auto_send=bool(mapping.auto_send) if mapping else False,
        ledger_map=ledger,
        cost_center_rows=cc_rows,
    )
