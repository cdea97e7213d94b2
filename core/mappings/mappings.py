"""Administration mappings: payroll company ↔ Visma company (through one authorized account), ledger accounts and
cost centres, and the cached Visma chart they are checked against.

Decisions, and why:

* **One mapping per payroll company**, to one account (the account is bound to one Visma company). Mapping a second
  payroll company onto a Visma company that is already a target is allowed but answered with a warning: two payroll
  companies posting into one administration is usually a mistake, sometimes a merger.
* **Identity by default.** A payroll ledger account that is a number maps to the same Visma account number unless a
  row says otherwise; a payroll cost-centre code maps to the Visma cost-centre item whose ShortName equals it unless a
  row says otherwise. So the common case needs no configuration at all.
* **The Visma chart is cached in the database** (`visma_chart_cache`, one row per Visma company: fiscal years,
  accounts per fiscal year, cost-centre items). Mapping a company, opening its ledger mapping and preflight refresh
  it from live Visma; the send path only reads it. That keeps a month-end bulk export at one Visma call per run
  (the POST itself is Visma's final check), shared by every process over the same database. A stale cache can only
  make a POST fail with a clear Visma error (e.g. cost centre not allowed), never post something wrong: Visma
  validates every voucher.

The cache table is defined here (with migration ``0003_chart_cache``) because it belongs to the export side only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from core.db import audit
from core.db.engine import session_scope
from core.db.models import (
    AUTHORIZED,
    Account,
    CompanyMapping,
    CostCenterMapping,
    JournalLineRow,
    LedgerMapping,
    PayrollCompany,
    PayrollRun,
    VismaChartCache,
    utcnow,
)
from core.errors import ServiceError
from core.payroll.store import get_company, load_run_data

__all__ = [
    "Chart",
    "MappingContext",
    "VismaChartCache",
    "cost_center_mapping",
    "get_chart",
    "load_context",
    "ledger_mapping",
    "map_company",
    "refresh_chart",
    "save_cost_center_mapping",
    "save_ledger_mapping",
    "set_auto_send",
    "unmap_company",
]


@dataclass
class Chart:
    """What the export side needs to know of one Visma company's chart, JSON-serialisable."""

    visma_company_id: str
    fiscal_years: list[dict]  # {"id", "start", "end", "locked"} sorted by start
    accounts: dict[str, dict[int, dict]]  # fiscal year id -> number -> {"name", "active", "cc"}
    cost_center_items: dict[str, dict]  # ShortName -> {"id", "name", "active", "dimension"}
    fetched_at: datetime = field(default_factory=utcnow)

    def fiscal_year_for(self, day: date) -> dict | None:
        iso = day.isoformat()
        return next((fy for fy in self.fiscal_years if fy["start"] <= iso <= fy["end"]), None)

    def accounts_for(self, day: date) -> dict[int, dict]:
        """The accounts of the fiscal year of ``day`` (else of the newest fiscal year known, else none)."""
        fy = self.fiscal_year_for(day)
        if fy and fy["id"] in self.accounts:
            return self.accounts[fy["id"]]
        for fy in reversed(self.fiscal_years):
            if fy["id"] in self.accounts:
                return self.accounts[fy["id"]]
        return {}

    def cost_center_accounts(self, day: date) -> set[int]:
        return {n for n, a in self.accounts_for(day).items() if a["cc"]}

    def item_by_id(self, item_id: str) -> dict | None:
        return next((dict(i, short=s) for s, i in self.cost_center_items.items() if i["id"] == item_id), None)

    def to_json(self) -> str:
        return json.dumps(
            {
                "fiscal_years": self.fiscal_years,
                "accounts": {fy: {str(n): a for n, a in accts.items()} for fy, accts in self.accounts.items()},
                "cost_center_items": self.cost_center_items,
            },
            sort_keys=True,
        )

    @classmethod
    def from_row(cls, row: VismaChartCache) -> Chart:
        data = json.loads(row.data)
        return cls(
            visma_company_id=row.visma_company_id,
            fiscal_years=data["fiscal_years"],
            accounts={fy: {int(n): a for n, a in accts.items()} for fy, accts in data["accounts"].items()},
            cost_center_items=data["cost_center_items"],
            fetched_at=row.fetched_at,
        )


def fetch_chart(vs, visma_company_id: str) -> Chart:
    """Read the chart live through a `VismaSession` (fiscal years, accounts of each open-able year, cost centres)."""
    years = vs.fiscal_years()
    fiscal_years = [
        {"id": fy.id, "start": fy.start_date.isoformat(), "end": fy.end_date.isoformat(),
         "locked": fy.is_locked_for_accounting}
        for fy in sorted(years, key=lambda f: f.start_date)
    ]
    accounts: dict[str, dict[int, dict]] = {}
    # The two newest years are the ones payroll posts into; older years are closed history.
    for fy in fiscal_years[-2:]:
        accounts[fy["id"]] = {
            a.number: {"name": a.name, "active": a.is_active, "cc": a.is_cost_center_allowed}
            for a in vs.accounts(fy["id"])
        }
    items: dict[str, dict] = {}
    for cc in vs.cost_centers():
        for item in cc.items:
            items.setdefault(item.short_name, {"id": item.id, "name": item.name,
                                               "active": bool(item.is_active and cc.is_active),
                                               "dimension": cc.number})
    return Chart(visma_company_id, fiscal_years, accounts, items)


def store_chart(engine, chart: Chart) -> None:
    with session_scope(engine) as session:
        row = session.get(VismaChartCache, chart.visma_company_id)
        if row is None:
            session.add(VismaChartCache(visma_company_id=chart.visma_company_id, data=chart.to_json(),
                                        fetched_at=chart.fetched_at))
        else:
            row.data = chart.to_json()
            row.fetched_at = chart.fetched_at
            session.add(row)


def cached_chart(engine, visma_company_id: str | None) -> Chart | None:
    if not visma_company_id:
        return None
    with session_scope(engine) as session:
        row = session.get(VismaChartCache, visma_company_id)
        return Chart.from_row(row) if row else None


def refresh_chart(rt, account_id: int, visma_company_id: str, *, vs=None) -> Chart:
    """Read the chart live and store it (raises `VismaError` when Visma refuses)."""
    if vs is None:
        from core.accounts.sessions import visma_session

        vs = visma_session(rt, account_id)
    chart = fetch_chart(vs, visma_company_id)
    store_chart(rt.engine, chart)
    return chart


def get_chart(rt, account_id: int, visma_company_id: str, *, live: bool = False, vs=None) -> Chart:
    """The cached chart, read live when there is none yet or ``live`` is asked."""
    if not live:
        chart = cached_chart(rt.engine, visma_company_id)
        if chart is not None:
            return chart
    return refresh_chart(rt, account_id, visma_company_id, vs=vs)


# ---------------------------------------------------------------------------------------------- mapping context


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


def _require_mapping(session: Session, company_code: str) -> tuple[PayrollCompany, CompanyMapping]:
    company = get_company(session, company_code)
    mapping = session.exec(select(CompanyMapping).where(CompanyMapping.payroll_company_id == company.id)).first()
    if mapping is None:
        raise ServiceError(
            f"{company.name} ({company.code}) is not mapped to a Visma company yet. Map it first "
            f"(`map {company.code} ACCOUNT`, or Administrations in the dashboard).",
            entry_id="company-not-mapped",
        )
    return company, mapping


# ---------------------------------------------------------------------------------------------- company mapping


def _mapping_dict(session: Session, company: PayrollCompany, mapping: CompanyMapping, account: Account) -> dict:
    return {
        "id": mapping.id,
        "company": company.code,
        "company_name": company.name,
        "account": account.name,
        "account_id": account.id,
        "account_status": account.status,
        "visma_company_id": mapping.visma_company_id,
        "visma_company_name": account.visma_company_name,
        "auto_send": mapping.auto_send,
    }


def map_company(rt, company_code: str, account_name: str, *, actor: str, check_chart: bool = True) -> dict:
    """Map a payroll company to the Visma company of an authorized account (replacing an earlier mapping).

    Returns the mapping with ``warnings`` (another payroll company already targets that Visma company; the chart
    could not be read). Ledger and cost-centre rows of an earlier mapping are kept when the Visma company stays the
    same and dropped when it changes (they named another chart).
    """
    warnings: list[str] = []
    with session_scope(rt.engine) as session:
        company = get_company(session, company_code)
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
        others = session.exec(
            select(PayrollCompany.code)
            .join(CompanyMapping, CompanyMapping.payroll_company_id == PayrollCompany.id)
            .where(CompanyMapping.visma_company_id == account.visma_company_id, PayrollCompany.id != company.id)
        ).all()
        if others:
            warnings.append(
                f"Visma company {account.visma_company_name or account.visma_company_id} is already the target of "
                f"{', '.join(sorted(others))}. Two payroll companies will post into the same administration; "
                "check that this is intended."
            )
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
        audit.record(session, actor=actor, action="mapping.saved", mapping_id=mapping.id, account_id=account.id,
                     detail={"company": company.code, "account": account.name,
                             "visma_company": account.visma_company_name, "warnings": warnings})
        result = _mapping_dict(session, company, mapping, account)
    if check_chart:
        from core.visma.client import VismaError

        try:
            refresh_chart(rt, result["account_id"], result["visma_company_id"])
        except VismaError as err:
            warnings.append(f"The Visma chart could not be read ({err}); run preflight once Visma answers.")
        except ServiceError as err:
            warnings.append(f"The Visma chart could not be read: {err.message}")
    result["warnings"] = warnings
    return result


def unmap_company(rt, company_code: str, *, actor: str) -> None:
    with session_scope(rt.engine) as session:
        company, mapping = _require_mapping(session, company_code)
        audit.record(session, actor=actor, action="mapping.removed", mapping_id=mapping.id,
                     account_id=mapping.account_id, detail={"company": company.code})
        session.delete(mapping)


def set_auto_send(rt, company_code: str, enabled: bool, *, actor: str) -> dict:
    with session_scope(rt.engine) as session:
        company, mapping = _require_mapping(session, company_code)
        mapping.auto_send = bool(enabled)
        mapping.updated_at = utcnow()
        session.add(mapping)
        audit.record(session, actor=actor, action="mapping.auto_send", mapping_id=mapping.id,
                     detail={"company": company.code, "enabled": bool(enabled)})
        return {"company": company.code, "auto_send": mapping.auto_send}


# ---------------------------------------------------------------------------------------------- ledger mapping


def _chart_for(rt, mapping: CompanyMapping, live: bool) -> tuple[Chart | None, str | None]:
    """The chart (live when asked) and, when it could not be read, why."""
    from core.visma.client import VismaError

    try:
        return get_chart(rt, mapping.account_id, mapping.visma_company_id, live=live), None
    except VismaError as err:
        cached = cached_chart(rt.engine, mapping.visma_company_id)
        return cached, str(err)
    except ServiceError as err:
        return cached_chart(rt.engine, mapping.visma_company_id), err.message


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
    return date(row[0], row[1], 1) if row else date.today()


def ledger_mapping(rt, company_code: str, *, live: bool = True) -> list[dict]:
    """Each payroll ledger account used by the company's runs, its Visma account and the check against the chart.

    ``check`` is ``ok``, ``unknown`` (no such account in Visma), ``inactive``, ``unmapped`` (a non-numeric payroll
    account without a row) or ``unchecked`` (Visma could not be read).
    """
    with session_scope(rt.engine) as session:
        company, mapping = _require_mapping(session, company_code)
        explicit = {r.payroll_account: r.visma_account_number
                    for r in session.exec(select(LedgerMapping).where(LedgerMapping.mapping_id == mapping.id))}
        used = _used_accounts(session, company.id)
        day = _latest_run_day(session, company.id)
    chart, _problem = _chart_for(rt, mapping, live)
    rows = []
    seen = set()
    for payroll_account, components in used + [(a, "") for a in sorted(explicit) if a not in {u[0] for u in used}]:
        if payroll_account in seen:
            continue
        seen.add(payroll_account)
        number = explicit.get(payroll_account, _identity(payroll_account))
        check, name = _check_account(chart, number, day)
        rows.append({
            "payroll_account": payroll_account,
            "components": components,
            "visma_account_number": number,
            "visma_account_name": name,
            "explicit": payroll_account in explicit,
            "check": check,
        })
    return rows


def save_ledger_mapping(rt, company_code: str, rows: Iterable[dict], *, actor: str) -> list[dict]:
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
        company, mapping = _require_mapping(session, company_code)
        session.execute(sa.delete(LedgerMapping).where(LedgerMapping.mapping_id == mapping.id))
        for payroll_account, number in sorted(clean.items()):
            session.add(LedgerMapping(mapping_id=mapping.id, payroll_account=payroll_account,
                                      visma_account_number=number))
        audit.record(session, actor=actor, action="mapping.ledger_saved", mapping_id=mapping.id,
                     detail={"company": company.code, "rows": clean})
    return ledger_mapping(rt, company_code, live=False)


# ---------------------------------------------------------------------------------------------- cost centres


def cost_center_mapping(rt, company_code: str, *, live: bool = True) -> list[dict]:
    """Each payroll cost centre used by the company's runs and the Visma cost-centre item it goes to.

    ``check``: ``ok``, ``inactive`` (Visma refuses it: 5006), ``unknown`` (no such item) or ``unchecked``.
    """
    with session_scope(rt.engine) as session:
        company, mapping = _require_mapping(session, company_code)
        explicit = {r.payroll_cost_center: r.visma_cost_center_item_id
                    for r in session.exec(select(CostCenterMapping).where(CostCenterMapping.mapping_id == mapping.id))}
        used = [r[0] for r in session.execute(
            sa.select(JournalLineRow.cost_center).join(PayrollRun, PayrollRun.id == JournalLineRow.run_id)
            .where(PayrollRun.company_id == company.id, JournalLineRow.cost_center.is_not(None))
            .group_by(JournalLineRow.cost_center)
        ).all() if r[0]]
    chart, _problem = _chart_for(rt, mapping, live)
    rows = []
    for code in sorted(set(used) | set(explicit)):
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
        rows.append({
            "payroll_cost_center": code,
            "visma_cost_center_item_id": item["id"] if item else item_id,
            "visma_cost_center_short_name": item["short"] if item else None,
            "visma_cost_center_name": item["name"] if item else None,
            "explicit": code in explicit,
            "check": check,
        })
    return rows


def save_cost_center_mapping(rt, company_code: str, rows: Iterable[dict], *, actor: str) -> list[dict]:
    """Replace the explicit cost-centre rows; the target may be an item id or a Visma ShortName."""
    with session_scope(rt.engine) as session:
        _company, mapping = _require_mapping(session, company_code)
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
        company, mapping = _require_mapping(session, company_code)
        session.execute(sa.delete(CostCenterMapping).where(CostCenterMapping.mapping_id == mapping.id))
        for code, target in sorted(clean.items()):
            session.add(CostCenterMapping(mapping_id=mapping.id, payroll_cost_center=code,
                                          visma_cost_center_item_id=target))
        audit.record(session, actor=actor, action="mapping.cost_centers_saved", mapping_id=mapping.id,
                     detail={"company": company.code, "rows": clean})
    return cost_center_mapping(rt, company_code, live=False)
