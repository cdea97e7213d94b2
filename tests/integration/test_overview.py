"""The dashboard's aggregates: right numbers, and fast with 2,000 companies × 12 runs (GROUP BY in SQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import sqlalchemy as sa

from core.db.models import Account, PayrollCompany, PayrollRun
from core.export.views import list_runs, recent_failures
from core.overview import overview
from core.payroll.store import list_payroll_companies


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


def test_overview_and_lists_add_up_with_2000_companies(engine):
    """What the aggregates say at a bureau's size (their speed is measured in benchmarks/, not asserted here: a
    timed assertion fails on a busy machine, not on slow code)."""
    _bulk(engine)
    rt = SimpleNamespace(engine=engine)
    data = overview(rt)
    assert data["companies"]["total"] == 2000
    assert sum(data["runs_by_status"].values()) == 24000
    grid = {(c["year"], c["period"]): c for c in data["status_grid"]}
    assert grid[(2026, 1)]["sent"] == 2000 and grid[(2026, 12)]["sent"] == 0
    failures = data["failures_by_entry"]
    assert failures[0]["entry_id"] == "period-locked" and failures[0]["companies_affected"] > 100
    runs = data["runs"]
    assert runs["sent"] + runs["waiting"] + runs["attention"] == runs["total"] == 24000
    companies = list_payroll_companies(rt)
    assert len(companies) == 2000 and companies[0].runs_total == 12
    assert sum(c.runs_sent for c in companies) == 18000
    assert len(list_runs(rt, company_code="C00001")) == 12
    assert recent_failures(rt)[0]["count"] == data["runs_by_status"]["failed"]


def _runs(engine, rows: list[tuple[str, int, int, int, str]]) -> dict[tuple, int]:
    """Runs (company code, year, period, run number, status); companies created as needed. Returns their ids."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    ids = {}
    with engine.begin() as conn:
        companies = {}
        for code, year, period, number, status in rows:
            if code not in companies:
                companies[code] = conn.execute(sa.insert(PayrollCompany).values(
                    code=code, name=f"Bedrijf {code}", source="test", created_at=now)).inserted_primary_key[0]
            ids[(code, year, period, number)] = conn.execute(sa.insert(PayrollRun).values(
                company_id=companies[code], year=year, period=period, run_number=number, processed_at=now,
                source="test", total_debit=Decimal("12.50"), total_credit=Decimal("12.50"), line_count=3,
                status=status, generation=1, attempt_count=0, updated_at=now)).inserted_primary_key[0]
    return ids


def test_company_status_grid_counts_runs_per_company_period_and_status(engine):
    from core import services

    _runs(engine, [
        ("B", 2026, 1, 1, "sent"), ("B", 2026, 1, 2, "failed"), ("B", 2026, 1, 3, "failed"),
        ("B", 2025, 12, 1, "not_sent"), ("A", 2026, 2, 1, "sent"),
    ])
    grid = services.company_status_grid(SimpleNamespace(engine=engine))
    assert grid == [
        {"company_code": "A", "company": "Bedrijf A", "year": 2026, "period": 2, "status": "sent", "count": 1},
        {"company_code": "B", "company": "Bedrijf B", "year": 2025, "period": 12, "status": "not_sent", "count": 1},
        {"company_code": "B", "company": "Bedrijf B", "year": 2026, "period": 1, "status": "failed", "count": 2},
        {"company_code": "B", "company": "Bedrijf B", "year": 2026, "period": 1, "status": "sent", "count": 1},
    ]
    assert services.company_status_grid(SimpleNamespace(engine=engine)) == grid


def test_company_status_grid_at_a_bureaus_size_is_one_row_per_company_period_and_status(engine):
    from core.export.views import company_status_grid

    _bulk(engine)
    grid = company_status_grid(SimpleNamespace(engine=engine))
    assert len(grid) == 24000 and sum(r["count"] for r in grid) == 24000
    assert {r["status"] for r in grid if r["period"] < 10} == {"sent"}


def test_get_run_is_one_row_of_list_runs_and_explains_a_missing_run(engine):
    import pytest

    from core import services
    from core.errors import ServiceError

    ids = _runs(engine, [("B", 2026, 1, 1, "sent"), ("B", 2026, 2, 1, "failed"), ("A", 2026, 2, 1, "not_sent")])
    rt = SimpleNamespace(engine=engine)
    by_id = {r.id: r for r in services.list_runs(rt)}
    for run_id in ids.values():
        assert services.get_run(rt, run_id) == by_id[run_id]
    run = services.get_run(rt, ids[("B", 2026, 2, 1)])
    assert (run.company_code, run.label, run.status, run.total_debit) == (
        "B", by_id[run.id].label, "failed", Decimal("12.50"))
    with pytest.raises(ServiceError) as err:
        services.get_run(rt, max(ids.values()) + 1000)
    assert err.value.code == "run-unknown"
    assert f"no run with id {max(ids.values()) + 1000}" in err.value.message


def test_reauthorization_due_lists_authorized_accounts_within_a_week_with_their_companies(engine):
    from datetime import timedelta

    from core.db.models import CompanyMapping, utcnow

    now = utcnow()
    accounts = {  # name: (status, reauthorize_by)
        "overdue": ("authorized", now - timedelta(hours=1)),
        "in-three-days": ("authorized", now + timedelta(days=3)),
        "in-six-days": ("authorized", now + timedelta(days=6, hours=23)),
        "in-eight-days": ("authorized", now + timedelta(days=8)),
        "lifetime-unknown": ("authorized", None),
        "already-refused": ("needs_reauthorization", now - timedelta(days=2)),
        "never-authorized": ("not_authorized", None),
        "module-off": ("authorized", None),  # token fine, Visma refuses the company's data (403 4002)
    }
    with engine.begin() as conn:
        ids = {name: conn.execute(sa.insert(Account).values(
            name=name, status=status, reauthorize_by=by, created_at=now, updated_at=now,
            status_entry_id="api-module-inactive" if name == "module-off" else None,
            token_expires_at=now + timedelta(minutes=10) if status == "authorized" else None,  # all "expire" today
        )).inserted_primary_key[0] for name, (status, by) in accounts.items()}
        for code, account in (("P2", "in-three-days"), ("P1", "in-three-days"), ("P3", "overdue"),
                              ("P4", "in-eight-days"), ("P5", "already-refused")):
            company = conn.execute(sa.insert(PayrollCompany).values(
                code=code, name=f"Payroll {code}", source="test", created_at=now)).inserted_primary_key[0]
            conn.execute(sa.insert(CompanyMapping).values(payroll_company_id=company, account_id=ids[account],
                                                          auto_send=False, created_at=now, updated_at=now))
    rt = SimpleNamespace(engine=engine)
    data = overview(rt)
    assert "expiring_tokens" not in data
    assert [(d["name"], d["overdue"], d["companies"]) for d in data["reauthorization_due"]] == [
        ("overdue", True, ["Payroll P3"]),
        ("in-three-days", False, ["Payroll P1", "Payroll P2"]),
        ("in-six-days", False, []),
    ]
    assert data["reauthorization_due"][1]["reauthorize_by"] == accounts["in-three-days"][1]
    assert [(a["name"], a["companies"]) for a in data["accounts_needing_action"]] == [
        ("already-refused", ["Payroll P5"]), ("module-off", []), ("never-authorized", [])]
    wider = overview(rt, reauthorization_within=timedelta(days=10))["reauthorization_due"]
    assert [d["name"] for d in wider] == ["overdue", "in-three-days", "in-six-days", "in-eight-days"]
