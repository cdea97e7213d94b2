"""What the import accepts is what is stored and sent: journal amounts keep every decimal they were imported with, on
SQLite and PostgreSQL, or the import refuses them by row and value (issue 12, point 8)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from core.db.engine import session_scope
from core.db.models import JOURNAL_AMOUNT, JOURNAL_PERCENTAGE, JournalLineRow, PayrollCompany
from core.errors import ServiceError
from core.export.voucher import build_voucher
from core.money import round_cents
from core.payroll.cells import MAX_AMOUNT, cell_amount
from core.payroll.file_import import AMOUNT_TYPE, PERCENTAGE_TYPE, parse_journal_file
from core.payroll.store import check_lines, load_run_data, store_runs
from core.payroll.types import JournalLine, PayrollRunData, journal_difference

D = Decimal
HEADER = "EmployeeName;Period;Year;Run;CostCenter;Percentage;GeneralLedgerAccount;ComponentName;Debit;Credit"


def _csv(*rows: str) -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode("utf-8")


def _parse(*rows: str):
    return parse_journal_file("journaal.csv", _csv(*rows), company_code="SPLIT")


# --------------------------------------------------------------------------------------------- one home


def test_the_import_checks_against_the_columns_the_lines_are_stored_in():
    assert AMOUNT_TYPE is JOURNAL_AMOUNT is JournalLineRow.__table__.c.debit.type
    assert JournalLineRow.__table__.c.credit.type is JOURNAL_AMOUNT
    assert PERCENTAGE_TYPE is JOURNAL_PERCENTAGE is JournalLineRow.__table__.c.percentage.type
    assert JOURNAL_AMOUNT.scale == 10 and JOURNAL_AMOUNT.refusal(MAX_AMOUNT) is None  # the largest amount fits
    assert JOURNAL_PERCENTAGE.refusal(D("100")) is None


# --------------------------------------------------------------------------------------------- the import refuses


def test_an_amount_with_more_decimals_than_stored_is_refused_naming_row_and_value():
    result = _parse("An;1;2026;1;PROD;;4000;Loon;100,12345678901;",
                    "An;1;2026;1;;;1520;Netto;;100,12345678901")
    assert result.runs == []
    first = result.errors[0]
    assert (first.row, first.column) == (2, "Debit")
    assert "100.12345678901 has 11 decimals; at most 10 can be stored" in first.message
    assert str(first).startswith("Row 2, Debit: the amount 100.12345678901")
    assert (result.errors[1].row, result.errors[1].column) == (3, "Credit")


def test_a_percentage_with_more_decimals_than_stored_is_refused():
    result = _parse("An;1;2026;1;PROD;33,33333333333;4000;Loon;100;", "An;1;2026;1;;;1520;Netto;;100")
    assert result.runs == [] and [(e.row, e.column) for e in result.errors] == [(2, "Percentage")]
    assert "33.33333333333 has 11 decimals" in result.errors[0].message


def test_ten_decimals_and_trailing_zeros_are_accepted_exactly():
    result = _parse("An;1;2026;1;PROD;33,3333333333;4000;Loon;0,1234567891;",
                    "An;1;2026;1;PROD;;4000;Loon;1,50000000000000000;",
                    "An;1;2026;1;;;1520;Netto;;1,6234567891")
    assert result.errors == []
    lines = result.runs[0].lines
    assert lines[0].debit == D("0.1234567891") and lines[0].percentage == D("33.3333333333")
    assert lines[1].debit == D("1.5")


def test_xlsx_floats_are_read_as_the_15_digits_excel_keeps():
    assert cell_amount(0.1 + 0.2, None) == D("0.3")  # 0.30000000000000004: binary noise, not a 17th decimal
    assert cell_amount(2001 * 0.333333, None) == D("666.999333")
    assert cell_amount(1234.56, None) == D("1234.56")


def test_a_source_line_that_cannot_be_stored_exactly_is_refused_by_name():
    run = PayrollRunData("SRC", 2026, 1, 1, datetime(2026, 1, 31, tzinfo=UTC), (
        JournalLine("4000", "Loon", "Loon", D("0.12345678901"), D(0)),
        JournalLine("1520", "Netto", "Netto", D(0), D("0.12345678901"))))
    with pytest.raises(ServiceError) as caught:
        check_lines([run])
    assert caught.value.code == "line-amount-inexact"
    assert "Run 2026-01 run 1 of SRC, line 1: the debit 0.12345678901 has 11 decimals" in caught.value.message
    too_big = PayrollRunData("SRC", 2026, 1, 1, datetime(2026, 1, 31, tzinfo=UTC), (
        JournalLine("4000", "Loon", "Loon", D("1234567890123"), D(0)),
        JournalLine("1520", "Netto", "Netto", D(0), D("1234567890123"))))
    with pytest.raises(ServiceError, match="13 digits before the decimal point; at most 12"):
        check_lines([too_big])


# --------------------------------------------------------------------------------------------- the column type


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "postgresql"])
def test_the_column_never_rounds_on_the_way_in(dialect):
    with pytest.raises(ValueError, match="cannot be stored exactly: 0.12345678901 has 11 decimals"):
        JOURNAL_AMOUNT.process_bind_param(D("0.12345678901"), dialect)
    with pytest.raises(TypeError):
        JOURNAL_AMOUNT.process_bind_param(0.1, dialect)
    big = D("999999999999.9999999999")  # 22 significant digits: more than a float holds
    stored = JOURNAL_AMOUNT.process_bind_param(big, dialect)
    assert JOURNAL_AMOUNT.process_result_value(stored, dialect) == big


def test_sqlite_stores_the_decimal_text():
    dialect = sqlite.dialect()
    assert JOURNAL_AMOUNT.process_bind_param(D("1234.5600"), dialect) == "1234.56"
    assert JOURNAL_AMOUNT.process_bind_param(D("0.0000"), dialect) == "0"
    assert JOURNAL_AMOUNT.process_bind_param(D("1E+3"), dialect) == "1000"
    assert str(JOURNAL_AMOUNT.compile(dialect=dialect)) == "VARCHAR(24)"
    assert str(JOURNAL_AMOUNT.compile(dialect=postgresql.dialect())) == "NUMERIC(22, 10)"


# --------------------------------------------------------------------------------------------- round trip


def _split_run() -> PayrollRunData:
    """A six-decimal percentage split: 1000 employees x 0,123457 on three cost centres, balanced exactly; each line
    rounded to four decimals (0,1235) would put the run 0,129 out of balance."""
    lines = []
    for n in range(1000):
        for cc, pct in (("PROD", D("33.3333")), ("VERK", D("33.3333")), ("ADM", D("33.3334"))):
            lines.append(JournalLine("4000", "Loon", f"Loon {n}", D("0.123457"), D(0), cost_center=cc,
                                     employee=f"E{n}", percentage=pct))
    lines.append(JournalLine("1520", "Netto", "Netto", D(0), D("370.371")))
    return PayrollRunData("SPLIT", 2026, 3, 1, datetime(2026, 3, 31, tzinfo=UTC), tuple(lines))


def test_a_six_decimal_split_round_trips_exactly_and_balances(engine):
    run = _split_run()
    debit, credit = journal_difference(run.lines)
    assert debit == credit == D("370.371")
    with session_scope(engine) as session:
        company = PayrollCompany(code="SPLIT", name="Split B.V.")
        session.add(company)
        session.flush()
        (row,) = store_runs(session, company, [run], source="test")
        run_id = row.id
    with session_scope(engine) as session:
        stored = session.get(row.__class__, run_id)
        assert (stored.total_debit, stored.total_credit) == (round_cents(debit), round_cents(credit))
        loaded = load_run_data(session, stored, "SPLIT")
        raw = session.execute(sa.select(JournalLineRow.debit).where(JournalLineRow.run_id == run_id)
                              .order_by(JournalLineRow.id).limit(1)).scalar_one()
    assert raw == D("0.123457")
    assert [(ln.debit, ln.credit, ln.percentage) for ln in loaded.lines] == [
        (ln.debit, ln.credit, ln.percentage) for ln in run.lines]
    assert journal_difference(loaded.lines) == (debit, credit)
    voucher = build_voucher(loaded, accounts_with_cost_centers={4000})
    assert voucher.is_balanced and voucher.total_debit == round_cents(debit) == D("370.37")
