"""The Visma chart a mapping is checked against, cached in the database.

The chart (fiscal years, accounts per fiscal year, cost-centre items) is cached in table `visma_chart_cache`
(`core.db.models.VismaChartCache`), one row per Visma company. Mapping a company, opening its ledger mapping and
preflight refresh it from live Visma; the send path only reads it. That keeps a month-end bulk export at one Visma
call per run (the POST itself is Visma's final check), shared by every process over the same database. A stale cache
can only make a POST fail with a clear Visma error (e.g. cost centre not allowed), never post something wrong: Visma
validates every voucher.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from core.accounts.sessions import visma_session
from core.db.engine import session_scope
from core.db.models import VismaChartCache, utcnow

__all__ = ["Chart", "cached_chart", "fetch_chart", "get_chart", "refresh_chart", "store_chart"]


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
