"""The dashboard's aggregates: right numbers, and fast with 2,000 companies × 12 runs (GROUP BY in SQL)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import sqlalchemy as sa

from core.export import list_runs, recent_failures
from core.models import PayrollCompany, PayrollRun
from core.overview import overview
from core.payroll import list_payroll_companies


def _bulk(engine, companies: int = 2000, runs: int = 12) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(sa.insert(PayrollCompany), [
            {"code": f"C{i:05d}", "name": f"Bedrijf {i}", "source": "bench", "created_at": now}
            for i in range(companies)])
        ids = [r[0] for r in conn.execute(sa.select(PayrollCompany.id).order_by(PayrollCompany.id))]
        rows = []
        for n, cid in enumerate(ids):
            for p in range(1, runs + 1):
                status = "sent" if p < 10 else ("failed" if (n + p) % 7 == 0 else "not_sent")
                rows.append({"company_id": cid, "year": 2026, "period": p, "run_number": 1, "processed_at": now,
                             "source": "bench", "total_debit": Decimal("100.00"), "total_credit": Decimal("100.00"),
                             "line_count": 0, "status": status, "generation": 1, "attempt_count": 0,
                             "error_entry_id": "period-locked" if status == "failed" else None,
                             "marker": None, "updated_at": now})
        conn.execute(sa.insert(PayrollRun), rows)


def test_overview_and_lists_are_fast_with_2000_companies(engine):
    _bulk(engine)
    rt = SimpleNamespace(engine=engine)
    overview(rt)  # warm up connections
    t0 = time.perf_counter()
    data = overview(rt)
    elapsed = time.perf_counter() - t0
    assert elapsed < 0.3, elapsed
    assert data["companies"]["total"] == 2000
    assert sum(data["runs_by_status"].values()) == 24000
    grid = {(c["year"], c["period"]): c for c in data["status_grid"]}
    assert grid[(2026, 1)]["sent"] == 2000 and grid[(2026, 12)]["sent"] == 0
    failures = data["failures_by_entry"]
    assert failures[0]["entry_id"] == "period-locked" and failures[0]["companies_affected"] > 100
    t0 = time.perf_counter()
    companies = list_payroll_companies(rt)
    assert time.perf_counter() - t0 < 0.5
    assert len(companies) == 2000 and companies[0]["runs_total"] == 12
    assert sum(c["runs_sent"] for c in companies) == 18000
    assert len(list_runs(rt, company_code="C00001")) == 12
    assert recent_failures(rt)[0]["count"] == data["runs_by_status"]["failed"]
