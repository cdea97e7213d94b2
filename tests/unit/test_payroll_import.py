"""Payroll journal file import: good CSV/XLSX files, and malformed files that import nothing."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pytest

from core.demo.payroll import demo_runs
from core.export.voucher import build_voucher
from core.payroll.cells import parse_amount
from core.payroll.file_import import MAX_FILE_BYTES, JournalFileRejected, RowError, parse_journal_file, to_csv_bytes
from core.payroll.sources import FilePayrollSource, PayrollSource
from core.payroll.tables import COLUMNS

D = Decimal
CODE = "KAPSALON-KNIPPERLICHT"
HEADER = ";".join(COLUMNS)


def csv_file(*rows: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)


def parse(data: bytes, filename: str = "journaal.csv", **kw):
    return parse_journal_file(filename, data, company_code=CODE, **kw)


def assert_refused(result, *expected: tuple[int, str | None, str]) -> None:
    """Nothing imported, and each expected (row, column, text in message) reported."""
    assert result.runs == []
    assert result.errors
    for row, column, text in expected:
        assert any(e.row == row and e.column == column and text in e.message for e in result.errors), (
            f"no error ({row}, {column}, {text!r}) in {result.errors}")


# --------------------------------------------------------------------------------------------------- good files


def test_semicolon_csv_with_dutch_decimals_round_trips_the_demo_runs():
    runs = demo_runs(CODE)[:3]
    data = to_csv_bytes(runs)
    assert data.startswith(b"\xef\xbb\xbf") and b";" in data.splitlines()[0]
    result = parse(data, processed_at=runs[0].processed_at)
    assert result.ok and result.errors == []
    assert [r.key for r in result.runs] == [r.key for r in runs]
    assert [r.lines for r in result.runs] == [r.lines for r in runs]


def test_comma_csv_with_english_decimals():
    runs = demo_runs(CODE)[5:6]
    data = to_csv_bytes(runs, delimiter=",")
    first_row = data.splitlines()[1].decode()
    assert ";" not in first_row and first_row.endswith(".00") and "," in first_row
    result = parse(data)
    assert result.ok
    assert result.runs[0].lines == runs[0].lines
    assert result.runs[0].processed_at == datetime(2026, 6, 30, tzinfo=UTC)  # default: last day of the period


def test_handwritten_dutch_csv_lenient_header_and_zero_rows():
    header = "Rapport loonjournaal;;;\r\n;;\r\n employeename ;PERIOD;Year;run;Department;CostCenter;CostUnit;" \
             "percentage;GeneralLedgerAccount;ComponentName;Debit;Credit;Extra"
    data = csv_file(
        "Eva Jansen;3;2026;1;Productie;PROD;KD1;60,00;4000;Salaris;1.234,56;;x",
        "Eva Jansen;3;2026;1;Verkoop;VERK;KD1;40,00;4000;Salaris;823,04;0;x",
        "Eva Jansen;3;2026;1;Productie;;;;4200;Reiskosten;0,00;0,00;x",
        ";;;;;;;;;;;;",
        "Eva Jansen;3;2026;1;;;;;1520;Nettoloon;-;2.057,60;x",
        header=header,
    )
    result = parse(data)
    assert result.ok, result.errors
    assert result.ignored_rows == 1 and result.notes
    (run,) = result.runs
    assert run.key == (CODE, 2026, 3, 1) and run.label == "2026-03 run 1"
    first = run.lines[0]
    assert (first.ledger_account, first.debit, first.credit, first.cost_center, first.cost_unit, first.percentage,
            first.employee, first.department) == ("4000", D("1234.56"), D(0), "PROD", "KD1", D("60.00"),
                                                  "Eva Jansen", "Productie")
    assert run.lines[-1].credit == D("2057.60")
    voucher = build_voucher(run, accounts_with_cost_centers={4000})
    assert voucher.total_debit == D("2057.60")


def test_windows_1252_csv():
    data = csv_file("Zoë Müller;1;2026;1;;;;;4000;Salaris;100,00;", "Zoë Müller;1;2026;1;;;;;1520;Netto;;100,00",
                    encoding="cp1252")
    result = parse(data)
    assert result.ok and result.runs[0].lines[0].employee == "Zoë Müller"


def test_utf16_tab_separated_csv():
    text = "\t".join(COLUMNS) + "\r\n" + "\t".join(["A", "1", "2026", "1", "", "", "", "", "4000", "S", "5.5", ""]) \
        + "\r\n" + "\t".join(["A", "1", "2026", "1", "", "", "", "", "1520", "N", "", "5.5"]) + "\r\n"
    result = parse(text.encode("utf-16"), "export.txt")
    assert result.ok and result.runs[0].lines[0].debit == D("5.5")


def test_several_runs_are_grouped_and_sorted():
    rows = []
    for period, run in ((2, 2), (1, 1), (2, 1)):
        rows += [f"A;{period};2026;{run};;;;;4000;Salaris;10,00;", f"A;{period};2026;{run};;;;;1520;Netto;;10,00"]
    result = parse(csv_file(*rows))
    assert [r.label for r in result.runs] == ["2026-01 run 1", "2026-02 run 1", "2026-02 run 2"]


def xlsx(rows: list[list], title_rows: int = 0) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for _ in range(title_rows):
        sheet.append(["Loonjournaal maart 2026"])
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_with_numeric_and_text_cells():
    data = xlsx([
        ["Bram Bakker", 3, 2026, 1, "Productie", "PROD", None, 33.3333, 4000, "Salaris", 1234.56, None],
        ["Bram Bakker", 3.0, "2026", "1", "Productie", "VERK", None, "66,6667", "4000", "Salaris", "617,28", 0],
        ["Bram Bakker", 3, 2026, 1, None, None, None, None, 1520, "Nettoloon", 0, 1851.84],
    ], title_rows=2)
    result = parse(data, "journaal.xlsx")
    assert result.ok, result.errors
    lines = result.runs[0].lines
    assert [ln.ledger_account for ln in lines] == ["4000", "4000", "1520"]
    assert lines[0].debit == D("1234.56") and lines[0].percentage == D("33.3333")
    assert lines[1].debit == D("617.28") and lines[1].percentage == D("66.6667")
    assert lines[2].credit == D("1851.84")


def test_file_source_wraps_an_import():
    source = FilePayrollSource.from_file("maart.csv", to_csv_bytes(demo_runs(CODE)[2:4]), company_code=CODE,
                                         company_name="Kapsalon Het Knipperlicht")
    assert isinstance(source, PayrollSource)
    assert source.name == "file:maart.csv"
    assert [c.code for c in source.list_companies()] == [CODE]
    assert [r.label for r in source.list_processed_runs(CODE)] == ["2026-03 run 1", "2026-04 run 1"]
    assert source.list_processed_runs("OTHER") == []
    assert [r.period for r in source.list_processed_runs(CODE, since=datetime(2026, 4, 1).date())] == [4]


def test_file_source_refuses_a_bad_file_whole():
    with pytest.raises(JournalFileRejected) as err:
        FilePayrollSource.from_file("bad.csv", csv_file("A;1;2026;1;;;;;4000;S;abc;"), company_code=CODE)
    assert err.value.errors and "bad.csv was not imported" in err.value.message
    assert "Row 2, Debit" in err.value.message


# --------------------------------------------------------------------------------------------------- bad files


def test_missing_required_column_is_one_clear_error():
    header = HEADER.replace(";GeneralLedgerAccount", "").replace(";Credit", "")
    result = parse(csv_file("A;1;2026;1;;;;;S;10", header=header))
    assert_refused(result, (0, None, "GeneralLedgerAccount, Credit"))
    assert len(result.errors) == 1


def test_every_bad_row_is_reported_and_nothing_imported():
    data = csv_file(
        "A;1;2026;1;;;;;4000;Salaris;100,00;",       # row 2 good
        "A;1;2026;1;;;;;4000;Salaris;12x;",          # row 3 bad number
        "A;13;2026;1;;;;;4000;Salaris;1,00;",        # row 4 period 13
        "A;1;2026;1;;;;;4000;Salaris;-5,00;",        # row 5 negative
        "A;1;2026;1;;;;;;Salaris;5,00;",             # row 6 no account
        "A;1;1850;0;;;;;1520;Netto;;100,00",         # row 7 bad year and run
        "A;2;2026;1;;;;150;4000;Salaris;1.2.34;",    # row 8 bad amount, bad percentage
        "A;1;2026;1;;;;;1520;Netto;;100,00",         # row 9 good
    )
    result = parse(data)
    assert_refused(
        result,
        (3, "Debit", "'12x' is not an amount"),
        (4, "Period", "monthly"),
        (5, "Debit", "negative"),
        (6, "GeneralLedgerAccount", "empty"),
        (7, "Year", "1850"),
        (7, "Run", "0"),
        (8, "Debit", "not a valid amount"),
        (8, "Percentage", "at most 100"),
    )
    assert {e.row for e in result.errors} == {3, 4, 5, 6, 7, 8}


def test_unbalanced_run_is_named():
    data = csv_file("A;3;2026;1;;;;;4000;Salaris;100,00;", "A;3;2026;1;;;;;1520;Netto;;99,99",
                    "A;4;2026;1;;;;;4000;Salaris;5,00;", "A;4;2026;1;;;;;1520;Netto;;5,00")
    result = parse(data)
    assert_refused(result, (0, None, "run 2026-03 run 1 (rows 2-3) does not balance"))
    assert "difference €0.01" in result.errors[0].message and len(result.errors) == 1


@pytest.mark.parametrize(("filename", "data", "text"), [
    ("leeg.csv", b"", "empty"),
    ("leeg.csv", b"\r\n  \r\n", "empty"),
    ("alleen-kop.csv", (HEADER + "\r\n").encode(), "no rows"),
    ("rommel.csv", bytes(random.Random(5).randrange(256) for _ in range(4000)) + b"\x00", "binary"),
    ("rommel.xlsx", bytes(random.Random(6).randrange(256) for _ in range(4000)), "not an Excel workbook"),
    ("kapot.xlsx", b"PK\x03\x04" + b"\x00" * 200, "could not be read"),
    ("journaal.pdf", b"%PDF-1.7 ...", "not a CSV or XLSX"),
    ("journaal", b"a;b", "not a CSV or XLSX"),
    ("journaal.xls", b"\xd0\xcf\x11\xe0", "save it as .xlsx or .csv"),
    ("tekst.csv", b"Dit is geen journaal\nmaar een brief", "no column separator"),
])
def test_unreadable_files_are_refused_with_a_message(filename, data, text):
    result = parse(data, filename)
    assert_refused(result, (0, None, text))
    assert all(isinstance(e, RowError) for e in result.errors)


def test_file_over_20_mb_is_refused():
    result = parse(b"x" * (MAX_FILE_BYTES + 1))
    assert_refused(result, (0, None, "limit is 20 MB"))


def test_xlsx_bad_rows_reported_with_spreadsheet_row_numbers():
    data = xlsx([
        ["A", 1, 2026, 1, None, None, None, None, 4000, "S", 10, None],
        ["A", 1, 2026, 1, None, None, None, None, 4000, "S", -3, None],
        ["A", 1.5, 2026, 1, None, None, None, None, 1520, "N", None, 10],
        ["A", 1, 2026, 1, None, None, None, None, 1520, "N", None, "1.234"],
    ])
    result = parse(data, "j.xlsx")
    assert_refused(result, (3, "Debit", "negative"), (4, "Period", "1.5"), (5, "Credit", "ambiguous"))


# --------------------------------------------------------------------------------------------------- amounts


@pytest.mark.parametrize(("text", "hint", "expected"), [
    ("1.234,56", None, "1234.56"), ("1234,56", None, "1234.56"), ("1,234.56", None, "1234.56"),
    ("1234.56", None, "1234.56"), ("1.234.567", None, "1234567"), ("0,125", None, "0.125"),
    ("1,234", True, "1.234"), ("1,234", False, "1234"), ("1.234", False, "1.234"), ("1.234", True, "1234"),
    ("€ 12,50", None, "12.50"), ("", None, "0"), ("-", None, "0"), ("33,3333", None, "33.3333"),
])
def test_amount_notations(text, hint, expected):
    assert parse_amount(text, decimal_comma=hint) == D(expected)


@pytest.mark.parametrize(("text", "hint"), [
    ("1,234", None), ("1.234", None), ("-1", None), ("(1,00)", None), ("1,2,3", None), ("1.23.4", None),
    ("abc", None), ("1,234.5,6", None), ("12.345,678.9", None), ("1e5", None), ("99999999999", None),
])
def test_bad_amounts(text, hint):
    with pytest.raises(ValueError):
        parse_amount(text, decimal_comma=hint)
