"""The export log's files: text a spreadsheet could run is made inert, numbers and dates stay what they are."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest

from core.export.log import ExportLogRow
from core.export.log_files import LOG_COLUMNS, export_log_csv, export_log_xlsx, inert

FORMULA = '=HYPERLINK("http://x","y")'


def row(**changes) -> ExportLogRow:
    values = dict(company="ACME", company_name="Acme B.V.", period="2026-03", run=1, status="sent",
                  voucher_number="2026-0042", voucher_date=date(2026, 3, 31), total_debit=Decimal("1234.50"),
                  sent_at=datetime(2026, 4, 1, 10, 0, tzinfo=UTC), sent_by="anna", attempts=2, run_id=7, year=2026,
                  error_entry_id=None)
    values.update(changes)
    return ExportLogRow(**values)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_dangerous_first_character_is_neutralised(start):
    assert inert(f"{start}1+1") == f"'{start}1+1"


@pytest.mark.parametrize("value", [-12.5, 0, 3, Decimal("-1.00"), None, date(2026, 1, 31), "Acme", "a=b", ""])
def test_numbers_dates_and_harmless_text_are_untouched(value):
    assert inert(value) == value


def test_csv_has_the_contract_columns_and_inert_text():
    raw = export_log_csv([row(company_name=FORMULA, voucher_number="-5", total_debit=Decimal("-12.50"))])
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(lines[0]) == LOG_COLUMNS
    assert lines[0]["company_name"] == "'" + FORMULA and lines[0]["voucher_number"] == "'-5"
    assert lines[0]["total_debit"] == "-12.50"  # a negative number stays a number
    assert (lines[0]["voucher_date"], lines[0]["sent_at"], lines[0]["attempts"]) == (
        "2026-03-31", "2026-04-01 10:00:00", "2")


def test_xlsx_is_readable_with_inert_text_and_real_numbers():
    book = openpyxl.load_workbook(io.BytesIO(export_log_xlsx([row(company_name=FORMULA, sent_by="\tx",
                                                                   total_debit=Decimal("-12.50"))])))
    sheet = book.active
    header, values = (list(r) for r in sheet.iter_rows(values_only=True))
    got = dict(zip(header, values, strict=True))
    assert tuple(header) == LOG_COLUMNS
    assert got["company_name"] == "'" + FORMULA and got["sent_by"] == "'\tx"
    assert got["total_debit"] == -12.5 and got["attempts"] == 2 and got["run"] == 1
    assert got["voucher_date"] == datetime(2026, 3, 31) and got["sent_at"] == datetime(2026, 4, 1, 10, 0)
    assert all(c.data_type != "f" for c in sheet[2])  # no formula cell
