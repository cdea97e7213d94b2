"""Payroll persistence: all-or-nothing imports, duplicate runs refused by name, idempotent demo seed, sources."""

from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa

from core.demo_payroll import DEMO_COMPANIES, demo_runs
from core.models import JournalLineRow, PayrollCompany, PayrollRun
from core.payroll import DEMO_MAPPING, import_journal_file, list_payroll_companies, seed_demo_payroll, sync_source
from core.payroll_import import to_csv_bytes
from core.payroll_source import DemoPayrollSource
from sandbox import seed

CODE = "HOVENIER-GROEN"


def _counts(engine):
    with engine.connect() as conn:
        return (conn.scalar(sa.select(sa.func.count()).select_from(PayrollRun)),
                conn.scalar(sa.select(sa.func.count()).select_from(JournalLineRow)))


def test_import_a_good_file_then_refuse_the_same_runs_again(engine):
    rt = SimpleNamespace(engine=engine)
    data = to_csv_bytes(demo_runs(CODE)[:2])
    result = import_journal_file(rt, CODE, "jan-feb.csv", data, actor="t", company_name="Hoveniersbedrijf")
    assert result["errors"] == [] and result["imported"] == ["2026-01 run 1", "2026-02 run 1"]
    before = _counts(engine)
    again = import_journal_file(rt, CODE, "jan-feb.csv", data, actor="t")
    assert again["imported"] == []
    assert "2026-01 run 1" in again["errors"][0]["message"] and "already" in again["errors"][0]["message"]
    assert _counts(engine) == before
    companies = list_payroll_companies(rt)
    assert companies[0]["runs_total"] == 2 and companies[0]["runs_not_sent"] == 2 and not companies[0]["mapped"]


def test_a_malformed_file_imports_nothing_and_lists_every_bad_row(engine):
    rt = SimpleNamespace(engine=engine)
    text = to_csv_bytes(demo_runs(CODE)[:1]).decode("utf-8-sig").splitlines()
    head, rows = text[0], text[1:]
    bad = rows[:]
    period = bad[2].split(";")
    period[1] = "13"  # no such month
    bad[2] = ";".join(period)
    cells = bad[5].split(";")
    cells[-2] = "twaalf"  # a debit that is not an amount
    bad[5] = ";".join(cells)
    data = ("\r\n".join([head, *bad]) + "\r\n").encode("utf-8")
    result = import_journal_file(rt, CODE, "broken.csv", data, actor="t")
    assert result["imported"] == [] and len(result["errors"]) >= 2
    assert all(e["row"] for e in result["errors"]) and {e["row"] for e in result["errors"]} >= {4, 7}
    assert _counts(engine) == (0, 0)


def test_demo_seed_is_idempotent_and_mapping_names_exist_in_the_sandbox(engine):
    rt = SimpleNamespace(engine=engine)
    first = seed_demo_payroll(rt)
    assert first["companies"] == len(DEMO_COMPANIES) >= 6 and first["runs_added"] == 12 * len(DEMO_COMPANIES)
    assert seed_demo_payroll(rt)["runs_added"] == 0
    names = {c["name"] for c in seed.COMPANIES}
    assert set(DEMO_MAPPING.values()) <= names
    assert set(DEMO_MAPPING) <= {c.code for c in DEMO_COMPANIES}


def test_a_payroll_source_adds_new_runs_only(engine):
    rt = SimpleNamespace(engine=engine)
    company = next(c for c in DEMO_COMPANIES if c.code == CODE)
    runs = demo_runs(CODE)
    assert sync_source(rt, DemoPayrollSource([company], {CODE: runs[:3]}), actor="t")["runs"] == 3
    assert sync_source(rt, DemoPayrollSource([company], {CODE: runs[:5]}), actor="t")["runs"] == 2
    with engine.connect() as conn:
        assert conn.scalar(sa.select(PayrollCompany.source)) == "demo"
        debit, credit, lines = conn.execute(
            sa.select(PayrollRun.total_debit, PayrollRun.total_credit, PayrollRun.line_count)
            .where(PayrollRun.period == 1)).one()
    assert debit == credit and lines == len(runs[0].lines)
