"""The export log as files for spreadsheets: CSV (UTF-8 with a BOM, so Excel reads accents) and XLSX.

Company names, voucher numbers and actors come from outside (payroll files, Visma, users). A spreadsheet runs a cell
that begins with ``=``, ``+``, ``-`` or ``@`` (and, after a tab or a carriage return, may still read one) as a
formula — ``=HYPERLINK(…)`` as a company name would become a working link in the bookkeeper's workbook. Every text
cell therefore goes through :func:`inert`, in both files; numbers, dates and times stay what they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from core.export.log import ExportLogRow

__all__ = ["LOG_COLUMNS", "export_log_csv", "export_log_xlsx", "inert"]

# The files' columns, in this order (the CLI's ``history --csv`` contract names the first eleven).
LOG_COLUMNS = (
    "company", "company_name", "period", "run", "status", "voucher_number", "voucher_date", "total_debit", "sent_at",
    "sent_by", "attempts", "error_entry_id", "run_id",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_WIDTHS = {"company": 18, "company_name": 36, "period": 9, "run": 6, "status": 12, "voucher_number": 14,
           "voucher_date": 12, "total_debit": 14, "sent_at": 20, "sent_by": 28, "attempts": 9,
           "error_entry_id": 22, "run_id": 8}
# amounts as the screen shows them (€1,234.56), kept numbers so that a spreadsheet adds them up
_FORMATS = {"voucher_date": "yyyy-mm-dd", "sent_at": "yyyy-mm-dd hh:mm:ss", "total_debit": '"€"#,##0.00'}


def inert(value: Any) -> Any:
    """A value a spreadsheet cannot execute: text beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return gets a leading ``'``; anything that is not text (numbers, negative ones too, dates, None) is returned as
    it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _utc(moment: datetime) -> datetime:
    """A time in UTC without its zone (spreadsheets have none; the column is documented as UTC)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _utc(value).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | int | float):
        return str(value)
    return inert(str(value))


def export_log_csv(rows: Iterable[ExportLogRow]) -> bytes:
    """The export log as CSV: a header of :data:`LOG_COLUMNS`, one line per run, UTF-8 with a BOM; times in UTC."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LOG_COLUMNS)
    for row in rows:
        writer.writerow([_csv_text(getattr(row, c)) for c in LOG_COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, str):
        return inert(ILLEGAL_CHARACTERS_RE.sub("", value))  # control characters a workbook cannot hold
    return value


def export_log_xlsx(rows: Iterable[ExportLogRow]) -> bytes:
    """The export log as an Excel workbook: one sheet, a bold frozen header with filters, amounts as numbers with two
    decimals, dates and times (UTC) as dates."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Export log")
    for i, column in enumerate(LOG_COLUMNS):
        sheet.column_dimensions[chr(ord("A") + i)].width = _WIDTHS[column]
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in LOG_COLUMNS:
        cell = WriteOnlyCell(sheet, value=column)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        cells = []
        for column in LOG_COLUMNS:
            cell = WriteOnlyCell(sheet, value=_xlsx_value(getattr(row, column)))
            if column in _FORMATS:
                cell.number_format = _FORMATS[column]
            cells.append(cell)
        sheet.append(cells)
        count += 1
    sheet.auto_filter.ref = f"A1:{chr(ord('A') + len(LOG_COLUMNS) - 1)}{count + 1}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
