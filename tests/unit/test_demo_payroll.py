"""The demo payroll: deterministic, enough companies and runs, balanced, only the sandbox's accounts."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

from core.demo.payroll import (
    DEMO_ACCOUNTS,
    DEMO_COMPANIES,
    DEMO_COST_CENTERS,
    demo_runs,
    demo_source,
    generate_bulk,
    large_run,
)
from core.payroll.sources import DemoPayrollSource, PayrollSource

CENT = Decimal("0.01")
# The bundled sandbox's chart of accounts (docs/architecture.md): active accounts and where cost centres go.
SANDBOX_ACTIVE_ACCOUNTS = {"1100", "1300", "1500", "1510", "1520", "1530", "1600", "4000", "4010", "4020", "4100",
                           "4150", "4200", "8000"}
COST_CENTRE_ACCOUNTS = {"4000", "4010", "4020", "4100", "4150", "4200"}
SANDBOX_COMPANY_NAMES = {"Bakkerij De Gouden Korst B.V.", "Van der Berg Installatietechniek B.V.",
                         "Hoveniersbedrijf Groen & Zonen", "Transportbedrijf Visser B.V.", "Kapsalon Het Knipperlicht",
                         "Drukkerij Smit & Co B.V.", "Administratiekantoor Mulder V.O.F."}


def test_companies():
    assert len(DEMO_COMPANIES) >= 6
    assert len({c.code for c in DEMO_COMPANIES}) == len(DEMO_COMPANIES)
    assert {c.name for c in DEMO_COMPANIES} >= SANDBOX_COMPANY_NAMES  # every sandbox company has its payroll twin


def test_deterministic():
    assert demo_runs("BAKKERIJ-DGK") == demo_runs("BAKKERIJ-DGK")
    assert demo_runs("BAKKERIJ-DGK", 2025) != demo_runs("BAKKERIJ-DGK")
    first = [(c, [r.lines for r in runs]) for c, runs in generate_bulk(5, 3, seed=9)]
    assert first == [(c, [r.lines for r in runs]) for c, runs in generate_bulk(5, 3, seed=9)]
    assert first != [(c, [r.lines for r in runs]) for c, runs in generate_bulk(5, 3, seed=10)]


def test_twelve_balanced_monthly_runs_per_company_with_sandbox_accounts_only():
    for company in DEMO_COMPANIES:
        runs = demo_runs(company.code)
        assert [(r.year, r.period, r.run_number) for r in runs] == [(2026, p, 1) for p in range(1, 13)]
        employees = {ln.employee for r in runs for ln in r.lines}
        assert 5 <= len(employees) <= 45
        for run in runs:
            assert run.company_code == company.code
            assert run.processed_at == datetime(2026, run.period, 25, 16, tzinfo=UTC)
            debit = sum((ln.debit for ln in run.lines), Decimal(0))
            credit = sum((ln.credit for ln in run.lines), Decimal(0))
            assert debit == credit > 0, f"{company.code} {run.label} does not balance"
            for ln in run.lines:
                assert ln.ledger_account in DEMO_ACCOUNTS and ln.ledger_account in SANDBOX_ACTIVE_ACCOUNTS
                assert ln.debit == ln.debit.quantize(CENT) and ln.credit == ln.credit.quantize(CENT)
                assert (ln.debit > 0) != (ln.credit > 0)
                if ln.cost_center is not None:
                    assert ln.ledger_account in COST_CENTRE_ACCOUNTS and ln.cost_center in DEMO_COST_CENTERS
                    assert ln.department == DEMO_COST_CENTERS[ln.cost_center]
                elif ln.ledger_account in COST_CENTRE_ACCOUNTS:
                    raise AssertionError("cost lines carry their cost centre")


def test_realistic_payroll_shape():
    runs = demo_runs("INSTALLATIE-VDB")
    march = runs[2]
    gross = sum(ln.debit for ln in march.lines if ln.ledger_account == "4000")
    holiday = sum(ln.debit for ln in march.lines if ln.ledger_account == "4010")
    net = sum(ln.credit for ln in march.lines if ln.ledger_account == "1520")
    tax = sum(ln.credit for ln in march.lines if ln.ledger_account == "1500" and ln.component == "Loonheffing")
    assert abs(holiday / gross - Decimal("0.08")) < Decimal("0.001")  # 8% reserved monthly
    assert Decimal("0.55") < net / gross < Decimal("0.95")
    assert Decimal("0.05") < tax / gross < Decimal("0.35")
    assert any(ln.ledger_account == "4020" for ln in runs[11].lines)  # year-end bonus in December
    assert not any(ln.ledger_account == "4020" for r in runs[:11] for ln in r.lines)
    assert any(ln.percentage is not None for r in runs for ln in r.lines)  # some employees split over cost centres


def test_demo_source_is_a_payroll_source():
    source = demo_source()
    assert isinstance(source, DemoPayrollSource) and isinstance(source, PayrollSource)
    assert source.list_companies() == DEMO_COMPANIES
    runs = source.list_processed_runs("HOVENIER-GROEN")
    assert runs == demo_runs("HOVENIER-GROEN")
    since = source.list_processed_runs("HOVENIER-GROEN", since=datetime(2026, 10, 1).date())
    assert [r.period for r in since] == [10, 11, 12]
    assert source.list_processed_runs("ONBEKEND") == []


def test_bulk_generation_is_balanced_and_fast_enough():
    started = time.perf_counter()
    companies = list(generate_bulk(200, 12))
    elapsed = time.perf_counter() - started
    assert len(companies) == 200 and len({c.code for c, _ in companies}) == 200
    for _, runs in companies:
        assert len(runs) == 12
        for run in runs:
            assert sum(ln.debit for ln in run.lines) == sum(ln.credit for ln in run.lines)
    assert elapsed < 5  # 2,000 x 12 takes about ten times this; generous for slow CI machines


def test_large_run_balances_exactly_with_many_decimals():
    run = large_run(3_000, seed=3)
    assert len(run.lines) >= 3_000
    assert sum(ln.debit for ln in run.lines) == sum(ln.credit for ln in run.lines)
    assert any(ln.debit.as_tuple().exponent < -2 for ln in run.lines)


def test_live_demo_window_holds_only_runs_processed_by_now():
    from datetime import UTC, datetime

    from core.demo.payroll import demo_window_runs, last_processed_period

    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # before November's pay date
    assert last_processed_period(now) == (2026, 10)
    runs = demo_window_runs("BAKKERIJ-DGK", now)
    assert [(r.year, r.period) for r in runs] == [(2025, 11), (2025, 12)] + [(2026, p) for p in range(1, 11)]
    assert all(r.processed_at <= now for r in runs)
    assert last_processed_period(datetime(2026, 12, 25, 16, 0, tzinfo=UTC)) == (2026, 12)
    assert last_processed_period(datetime(2027, 1, 3, tzinfo=UTC)) == (2026, 12)
    assert [r.period for r in demo_window_runs("BAKKERIJ-DGK", datetime(2027, 1, 3, tzinfo=UTC))] == list(range(1, 13))
