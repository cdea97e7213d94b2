"""One set of limits for imported text, equal to the columns' sizes, checked before anything is stored: on
PostgreSQL an over-long ledger account or company code used to end in "An unexpected DataError" with no row report.
Runs on SQLite and PostgreSQL (the ``rt`` fixture's database)."""

from __future__ import annotations

import pytest

from core import services
from core.services import ServiceError

ACTOR = "test@limits"
HEADER = "EmployeeName;Period;Year;Run;Department;CostCenter;CostUnit;Percentage;GeneralLedgerAccount;ComponentName;" \
         "Debit;Credit"


def journal(*, account: str = "4000", department: str = "", employee: str = "Jan") -> bytes:
    rows = [HEADER, f"{employee};1;2026;1;{department};;;;{account};Salaris;100,00;",
            "Jan;1;2026;1;;;;;1520;Netto;;100,00"]
    return ("\r\n".join(rows) + "\r\n").encode()


@pytest.mark.parametrize(("data", "column", "limit"), [
    (journal(account="4" * 33), "GeneralLedgerAccount", 32),
    (journal(department="D" * 65), "Department", 64),
    (journal(employee="E" * 201), "EmployeeName", 200),
], ids=["ledger-account", "department", "employee"])
def test_over_long_texts_are_row_errors_on_every_database(rt, data, column, limit):
    report = services.import_journal_file(rt, "BAKKERIJ", "journaal.csv", data, actor=ACTOR, company_name="Bakkerij")
    assert report.imported == ()
    assert [(e.row, e.column) for e in report.errors] == [(2, column)]
    assert f"longer than {limit} characters" in report.errors[0].message
    assert services.list_runs(rt) == []


def test_texts_at_the_limit_are_stored(rt):
    data = journal(account="4" * 32, department="D" * 64).replace(b"1520;", b"4" * 32 + b";")
    report = services.import_journal_file(rt, "B" * 64, "journaal.csv", data, actor=ACTOR, company_name="N" * 200)
    assert report.errors == () and report.imported == ("2026-01 run 1",)


@pytest.mark.parametrize(("code", "name", "what"), [("C" * 65, "Bakkerij", "code"), ("BAKKERIJ", "N" * 201, "name")])
def test_an_over_long_company_code_or_name_is_refused_with_what_to_do(rt, code, name, what):
    with pytest.raises(ServiceError) as refused:
        services.import_journal_file(rt, code, "journaal.csv", journal(), actor=ACTOR, company_name=name)
    assert f"company's {what}" in refused.value.message and "at most" in refused.value.message
    assert services.list_payroll_companies(rt) == []


def test_a_payroll_source_line_too_long_for_its_column_is_refused_and_nothing_stored(rt):
    from datetime import UTC, datetime
    from decimal import Decimal

    from core.payroll.sources import DemoPayrollSource
    from core.payroll.store import sync_source
    from core.payroll.types import JournalLine, PayrollCompanyData, PayrollRunData

    lines = (JournalLine("4000", "Salaris", "Salaris", Decimal(100), Decimal(0), cost_center="C" * 65),
             JournalLine("1520", "Netto", "Netto", Decimal(0), Decimal(100)))
    run = PayrollRunData("BAKKERIJ", 2026, 1, 1, datetime(2026, 1, 31, tzinfo=UTC), lines)
    source = DemoPayrollSource([PayrollCompanyData("BAKKERIJ", "Bakkerij")], {"BAKKERIJ": [run]})
    with pytest.raises(ServiceError) as refused:
        sync_source(rt, source, actor=ACTOR)
    assert "line 1: the cost center is 65 characters; at most 64 fit" in refused.value.message
    assert services.list_runs(rt) == []
