"""Nothing a file holds may vanish, and no file may cost far more than its size (issue: bad input and bad days).

Formulas without a calculated value are errors with their row and column, not empty cells; a workbook is bounded by
what it unpacks to, by the rows it holds and by the cells read per row, whatever it declares.
"""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest

from core.payroll import tables
from core.payroll.file_import import parse_journal_file
from core.payroll.tables import COLUMNS

CODE = "BAKKERIJ-DGK"


def workbook_bytes(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewrite_sheet(data: bytes, change) -> bytes:
    """The same workbook with its first sheet's XML changed by ``change``."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = change(body.decode()).encode()
            target.writestr(info.filename, body)
    return out.getvalue()


def parse(data: bytes, name: str = "journaal.xlsx"):
    return parse_journal_file(name, data, company_code=CODE)


def test_formulas_without_a_calculated_value_are_errors_not_empty_cells():
    # openpyxl writes formulas without the values Excel would cache: €200 of wages read as nothing before
    data = workbook_bytes([
        ["Jan", 1, 2026, 1, None, None, None, None, "4000", "Salaris", 1000, None],
        ["Jan", 1, 2026, 1, None, None, None, None, "4010", "Vakantiegeld", "=100+100", None],
        ["Jan", 1, 2026, 1, None, None, None, None, "1520", "Netto", None, "=SUM(K2:K3)"],
    ])
    result = parse(data)
    assert result.runs == []
    assert [(e.row, e.column) for e in result.errors] == [(3, "Debit"), (4, "Credit")]
    assert "=100+100" in result.errors[0].message and "save it again" in result.errors[0].message


def test_a_declared_size_of_a_whole_sheet_is_not_walked():
    # 4.8 KB declaring A1:XFD1048576 with one row at 1,048,576: refused by its rows, not read cell by cell
    data = workbook_bytes([["Jan", 1, 2026, 1, None, None, None, None, "4000", "Salaris", 100, None]])

    def declare_whole_sheet(xml: str) -> str:
        declared, found = re.subn(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:XFD1048576"/>', xml)
        assert found == 1
        return declared.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is>'
                                                "</c></row></sheetData>")

    bomb = rewrite_sheet(data, declare_whole_sheet)
    assert len(bomb) < 10_000
    result = parse(bomb)
    assert result.runs == [] and "more than 250,000 rows" in result.errors[0].message


def test_a_workbook_that_unpacks_to_far_more_than_its_size_is_refused(monkeypatch):
    monkeypatch.setattr(tables, "MAX_UNPACKED_BYTES", 2 * 1_048_576)
    data = workbook_bytes([["Jan", 1, 2026, 1, None, None, None, None, "4000", "Salaris", 100, None]])
    padding = " " * (3 * 1_048_576)  # 3 MB of XML that compresses to a few KB
    bomb = rewrite_sheet(data, lambda xml: xml.replace("</sheetData>", f"</sheetData>{padding}", 1))
    assert len(bomb) < 100_000
    result = parse(bomb)
    assert result.runs == [] and "unpacks to more than 2 MB" in result.errors[0].message


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_more_rows_than_a_file_may_hold_are_refused_before_they_are_kept(monkeypatch, kind):
    monkeypatch.setattr(tables, "MAX_ROWS", 100)
    rows = [["Jan", 1, 2026, 1, None, None, None, None, "4000", "Salaris", 1, None]] * 150
    if kind == "xlsx":
        data = workbook_bytes(rows)
    else:
        lines = [";".join(COLUMNS)] + [";".join("" if v is None else str(v) for v in row) for row in rows]
        data = "\r\n".join(lines).encode()
    result = parse(data, f"journaal.{kind}")
    assert result.runs == [] and "more than 100 rows" in result.errors[0].message


def test_cells_far_to_the_right_are_not_read():
    wide = ["Jan", 1, 2026, 1, None, None, None, None, "4000", "Salaris", 100, None] + [None] * 200 + ["x"]
    data = workbook_bytes([wide, ["Jan", 1, 2026, 1, None, None, None, None, "1520", "Netto", None, 100]])
    result = parse(data)
    assert result.ok, result.errors
    rows = list(tables.xlsx_rows(data))
    assert max(len(values) for _, values in rows) <= tables.MAX_COLUMNS


def test_the_dashboard_takes_no_larger_upload_than_the_importer_reads():
    import tomllib
    from pathlib import Path

    from core.payroll.file_import import MAX_FILE_BYTES

    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1_048_576 == MAX_FILE_BYTES


def test_a_line_with_both_a_debit_and_a_credit_is_refused_at_import_not_at_export():
    data = ("\r\n".join([";".join(COLUMNS), "Jan;1;2026;1;;;;;4000;Salaris;100,00;40,00",
                         "Jan;1;2026;1;;;;;1520;Netto;;60,00"]) + "\r\n").encode()
    result = parse(data, "journaal.csv")
    assert result.runs == []
    assert [(e.row, e.column) for e in result.errors] == [(2, "Credit")]
    assert "both a debit (€100.00) and a credit (€40.00)" in result.errors[0].message


def test_a_sheet_that_hides_its_size_is_still_counted_row_by_row(monkeypatch):
    monkeypatch.setattr(tables, "MAX_ROWS", 100)
    data = workbook_bytes([["Jan", 1, 2026, 1, None, None, None, None, "4000", "Salaris", 1, None]] * 150)

    def without_dimension(xml: str) -> str:
        stripped, found = re.subn(r'<dimension ref="[^"]*"\s*/>', "", xml)
        assert found == 1
        return stripped

    result = parse(rewrite_sheet(data, without_dimension))
    assert result.runs == [] and "more than 100 rows" in result.errors[0].message
