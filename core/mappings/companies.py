"""Company mappings: which payroll company posts into the Visma company of which authorized account.

Decisions, and why:

* **One mapping per payroll company**, to one account (the account is bound to one Visma company). Mapping a second
  payroll company onto a Visma company that is already a target is allowed but answered with a warning: two payroll
  companies posting into one administration is usually a mistake, sometimes a merger.
* Mapping a company reads the Visma chart live (`core.mappings.chart`), so a company whose chart Visma refuses is
  mapped with a warning rather than not at all.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlmodel import Session, select

from core.db import audit
from core.db.engine import session_scope
from core.db.models import AUTHORIZED, Account, CompanyMapping, CostCenterMapping, LedgerMapping, PayrollCompany, utcnow
from core.errors import ServiceError
from core.mappings.chart import refresh_chart
from core.mappings.views import AutoSendView, MappingView
from core.payroll.store import get_company
from core.visma.client import VismaError

__all__ = ["map_company", "require_mapping", "set_auto_send", "unmap_company"]


def require_mapping(session: Session, company_code: str) -> tuple[PayrollCompany, CompanyMapping]:
    """The payroll company and its mapping; a `ServiceError` saying how to map it when there is none."""
    company = get_company(session, company_code)
    mapping = session.exec(select(CompanyMapping).where(CompanyMapping.payroll_company_id == company.id)).first()
    if mapping is None:
        raise ServiceError(
            f"{company.name} ({company.code}) is not mapped to a Visma company yet. Map it first "
            f"(`map {company.code} ACCOUNT`, or Administrations in the dashboard).",
            entry_id="company-not-mapped",
        )
    return company, mapping


def _authorized_account(session: Session, account_name: str) -> Account:
    account = session.exec(select(Account).where(Account.name == account_name)).first()
    if account is None:
        raise ServiceError(
            f"There is no Visma account named {account_name!r}. Create and authorize it first (`accounts add`).",
            code="account-unknown",
        )
    if account.status != AUTHORIZED or not account.visma_company_id:
        raise ServiceError(
            f"Account {account.name!r} is not authorized (status: {account.status}). Authorize it first, then "
            "map the company.",
            entry_id="account-not-authorized",
        )
    return account


def _shared_target_warning(session: Session, company: PayrollCompany, account: Account) -> list[str]:
    """A warning when other payroll companies already post into the account's Visma company."""
    others = session.exec(
        select(PayrollCompany.code)
        .join(CompanyMapping, CompanyMapping.payroll_company_id == PayrollCompany.id)
        .where(CompanyMapping.visma_company_id == account.visma_company_id, PayrollCompany.id != company.id)
    ).all()
    if not others:
        return []
    return [
        f"Visma company {account.visma_company_name or account.visma_company_id} is already the target of "
        f"{', '.join(sorted(others))}. Two payroll companies will post into the same administration; "
        "check that this is intended."
    ]


def _save_mapping(session: Session, company: PayrollCompany, account: Account) -> CompanyMapping:
    """Create the mapping, or point the existing one at the account (dropping rows that named another chart)."""
    mapping = session.exec(select(CompanyMapping).where(CompanyMapping.payroll_company_id == company.id)).first()
    now = utcnow()
    if mapping is None:
        mapping = CompanyMapping(payroll_company_id=company.id, account_id=account.id,
                                 visma_company_id=account.visma_company_id, created_at=now, updated_at=now)
    else:
        if mapping.visma_company_id != account.visma_company_id:
            session.execute(sa.delete(LedgerMapping).where(LedgerMapping.mapping_id == mapping.id))
            session.execute(sa.delete(CostCenterMapping).where(CostCenterMapping.mapping_id == mapping.id))
        mapping.account_id = account.id
        mapping.visma_company_id = account.visma_company_id
        mapping.updated_at = now
    session.add(mapping)
    session.flush()
    return mapping


def _chart_warnings(rt, account_id: int, visma_company_id: str) -> list[str]:
    try:
        refresh_chart(rt, account_id, visma_company_id)
    except VismaError as err:
        return [f"The Visma chart could not be read ({err}); run preflight once Visma answers."]
    except ServiceError as err:
        return [f"The Visma chart could not be read: {err.message}"]
    return []


def map_company(rt, company_code: str, account_name: str, *, actor: str, check_chart: bool = True,
                auto_send: bool | None = None) -> MappingView:
    """Map a payroll company to the Visma company of an authorized account (replacing an earlier mapping).

    Returns the mapping with ``warnings`` (another payroll company already targets that Visma company; the chart
    could not be read). Ledger and cost-centre rows of an earlier mapping are kept when the Visma company stays the
    same and dropped when it changes (they named another chart). ``auto_send`` given: automatic sending is switched
    too, as `set_auto_send` does (and audits).
    """
    with session_scope(rt.engine) as session:
        company = get_company(session, company_code)
        account = _authorized_account(session, account_name)
        warnings = _shared_target_warning(session, company, account)
        mapping = _save_mapping(session, company, account)
        audit.record(session, actor=actor, action="mapping.saved", mapping_id=mapping.id, account_id=account.id,
                     detail={"company": company.code, "account": account.name,
                             "visma_company": account.visma_company_name, "warnings": warnings})
        view = MappingView(
            id=mapping.id,
            company=company.code,
            company_name=company.name,
            account=account.name,
            account_id=account.id,
            account_status=account.status,
            visma_company_id=mapping.visma_company_id,
            visma_company_name=account.visma_company_name,
            auto_send=mapping.auto_send,
        )
    if check_chart:
        warnings += _chart_warnings(rt, view.account_id, view.visma_company_id)
    if auto_send is not None:
        view = dataclasses.replace(view, auto_send=set_auto_send(rt, company_code, auto_send, actor=actor).auto_send)
    return dataclasses.replace(view, warnings=tuple(warnings))


def unmap_company(rt, company_code: str, *, actor: str) -> None:
    with session_scope(rt.engine) as session:
        company, mapping = require_mapping(session, company_code)
        audit.record(session, actor=actor, action="mapping.removed", mapping_id=mapping.id,
                     account_id=mapping.account_id, detail={"company": company.code})
        session.delete(mapping)


def set_auto_send(rt, company_code: str, enabled: bool, *, actor: str) -> AutoSendView:
    with session_scope(rt.engine) as session:
        company, mapping = require_mapping(session, company_code)
        mapping.auto_send = bool(enabled)
        mapping.updated_at = utcnow()
        session.add(mapping)
        audit.record(session, actor=actor, action="mapping.auto_send", mapping_id=mapping.id,
                     detail={"company": company.code, "enabled": bool(enabled)})
        return AutoSendView(company=company.code, auto_send=mapping.auto_send)
