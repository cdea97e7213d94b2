"""Payroll persistence: all-or-nothing imports, duplicate runs refused by name, idempotent demo seed, sources."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from core.db.models import JournalLineRow, PayrollCompany, PayrollRun
from core.demo.payroll import DEMO_COMPANIES, DEMO_MAPPING, demo_runs
from core.demo.service import seed_demo_payroll
from core.payroll.file_import import to_csv_bytes
from core.payroll.sources import DemoPayrollSource
from core.payroll.store import import_journal_file, list_payroll_companies, sync_source
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
    assert result.errors == () and result.imported == ("2026-01 run 1", "2026-02 run 1")
    before = _counts(engine)
    again = import_journal_file(rt, CODE, "jan-feb.csv", data, actor="t")
    assert again.imported == ()
    assert "2026-01 run 1" in again.errors[0].message and "already" in again.errors[0].message
    assert _counts(engine) == before
    companies = list_payroll_companies(rt)
    assert companies[0].runs_total == 2 and companies[0].runs_not_sent == 2 and not companies[0].mapped


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
    assert result.imported == () and len(result.errors) >= 2
    assert all(e.row for e in result.errors) and {e.row for e in result.errors} >= {4, 7}
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


def test_a_malformed_xlsx_imports_nothing(engine):
    import io

    import openpyxl

    from core.payroll.tables import COLUMNS

    rt = SimpleNamespace(engine=engine)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    sheet.append(["A", 1, 2026, 1, None, None, None, None, 4000, "Salaris", 100, None])   # good run 2026-01
    sheet.append(["A", 1, 2026, 1, None, None, None, None, 1520, "Netto", None, 100])    # balances it
    sheet.append(["A", 2, 2026, 1, None, None, None, None, 4000, "Salaris", "veel", None])  # row 4: bad debit
    sheet.append(["A", 2, 2026, 1, None, None, None, None, 1520, "Netto", None, 5])
    buffer = io.BytesIO()
    book.save(buffer)
    result = import_journal_file(rt, CODE, "journaal.xlsx", buffer.getvalue(), actor="t", company_name="Hovenier")
    assert result.imported == () and [e.row for e in result.errors] == [4]
    assert _counts(engine) == (0, 0)  # the good run of the same file is not stored either
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(PayrollCompany)) == 0


class FakePayrollApi:
    """A payroll API connector as a third party would write one: no base class, just the `PayrollSource` shape,
    translating the API's JSON (amounts as text, negative amounts for the other side) into journal lines."""

    name = "fake-payroll-api"

    def __init__(self, payload: dict) -> None:
        self.payload = payload
        self.calls: list[tuple[str, object]] = []

    def list_companies(self):
        from core.payroll.types import PayrollCompanyData

        self.calls.append(("companies", None))
        return [PayrollCompanyData(c["id"], c["name"]) for c in self.payload["companies"]]

    def list_processed_runs(self, company_code, *, since=None):
        from datetime import datetime
        from decimal import Decimal

        from core.payroll.types import JournalLine, PayrollRunData

        self.calls.append(("runs", company_code))
        runs = []
        for r in self.payload["runs"].get(company_code, []):
            if r["state"] != "processed":
                continue  # drafts never reach the product
            processed = datetime.fromisoformat(r["processed"])  # the API gives UTC times with their offset
            if since is not None and processed.date() < since:
                continue
            lines = []
            for ln in r["journal"]:
                amount = Decimal(ln["amount"])
                lines.append(JournalLine(ln["gl"], ln["component"], ln["component"],
                                         amount if amount > 0 else Decimal(0), -amount if amount < 0 else Decimal(0),
                                         cost_center=ln.get("cc")))
            runs.append(PayrollRunData(company_code, r["year"], r["period"], 1, processed, tuple(lines)))
        return runs


def test_a_payroll_api_connector_implements_payroll_source(engine):
    from core.payroll.sources import PayrollSource, PayrollSourceError

    journal = [{"gl": "4000", "component": "Salaris", "amount": "3210.55", "cc": "PROD"},
               {"gl": "1500", "component": "Loonheffing", "amount": "-812.40"},
               {"gl": "1520", "component": "Nettoloon", "amount": "-2398.15"}]
    def run(period, state, day):
        return {"year": 2026, "period": period, "state": state, "processed": f"2026-{period:02d}-{day}T10:00:00+00:00",
                "journal": journal}

    payload = {
        "companies": [{"id": "API-1001", "name": "Schildersbedrijf Verf & Co"}],
        "runs": {"API-1001": [
            run(1, "processed", 27), run(2, "processed", 25), run(3, "draft", 20),
        ]},
    }
    connector = FakePayrollApi(payload)
    assert isinstance(connector, PayrollSource)
    rt = SimpleNamespace(engine=engine)
    assert sync_source(rt, connector, actor="t") == {"companies": 1, "runs": 2}
    assert ("runs", "API-1001") in connector.calls
    assert sync_source(rt, connector, actor="t")["runs"] == 0  # the same runs again: nothing new
    companies = list_payroll_companies(rt)
    assert [(c.code, c.name, c.runs_total) for c in companies] == [
        ("API-1001", "Schildersbedrijf Verf & Co", 2)]
    with engine.connect() as conn:
        assert conn.scalar(sa.select(PayrollCompany.source)) == "fake-payroll-api"
        debit, credit = conn.execute(sa.select(PayrollRun.total_debit, PayrollRun.total_credit)
                                     .where(PayrollRun.period == 2)).one()
    assert str(debit) in ("3210.55", "3210.5500") and debit == credit
    # A connector that returns times without a zone is refused with a message, and stores nothing of that company.
    payload["companies"].append({"id": "API-2002", "name": "Naief B.V."})
    payload["runs"]["API-2002"] = [dict(payload["runs"]["API-1001"][0], processed="2026-01-27T10:00:00")]
    with pytest.raises(PayrollSourceError, match="time zone"):
        sync_source(rt, FakePayrollApi(payload), actor="t")
    assert [c.code for c in list_payroll_companies(rt)] == ["API-1001"]
