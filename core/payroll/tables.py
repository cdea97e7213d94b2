"""A payroll journal report file read as numbered rows, and its header found.

CSV: delimiter `;`, `,` or tab (sniffed from the header line); UTF-8 with or without BOM, UTF-16 with BOM, else
Windows-1252. XLSX: first sheet, cached values of formulas. The header may sit below a few title rows; names are
matched case-insensitively and extra columns are ignored. What cannot be read raises `Unreadable` with a message for
the user.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from typing import Any

from core.payroll.cells import cell_text

__all__ = ["COLUMNS", "REQUIRED_COLUMNS", "Unreadable", "csv_rows", "find_header", "xlsx_rows"]

COLUMNS = ("EmployeeName", "Period", "Year", "Run", "Department", "CostCenter", "CostUnit", "Percentage",
           "GeneralLedgerAccount", "ComponentName", "Debit", "Credit")
REQUIRED_COLUMNS = ("Period", "Year", "Run", "GeneralLedgerAccount", "ComponentName", "Debit", "Credit")
_HEADER_SEARCH_ROWS = 10


class Unreadable(Exception):
    """The file cannot be read as a table at all; the message is for the user."""


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise Unreadable("the file is not readable text (broken UTF-16)") from None
    if b"\x00" in data[:65536]:
        raise Unreadable("the file holds binary data, not CSV text; export the journal report as CSV or XLSX")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise Unreadable("the file is not readable text (unknown encoding); save it as CSV UTF-8") from None


def csv_rows(data: bytes) -> tuple[Iterator[tuple[int, list[Any]]], bool | None]:
    text = _decode(data)
    first_line = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    delimiter = max(counts, key=lambda d: (counts[d], d == ";"))
    if counts[delimiter] == 0:
        raise Unreadable("no column separator (; , or tab) found in the first line; is this a CSV file?")
    hint = {";": True, ",": False, "\t": None}[delimiter]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            yield from enumerate(reader, start=1)
        except csv.Error as exc:
            raise Unreadable(f"the CSV structure is broken near line {reader.line_num}: {exc}") from None

    return rows(), hint


def xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl  # imported here: its start-up cost (~0.2 s) is paid by XLSX imports only

    if not data.startswith(b"PK\x03\x04"):
        raise Unreadable("the file is not an Excel workbook (.xlsx); export the journal report as XLSX or CSV")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # zip, XML and openpyxl errors alike: the user needs one message, not a traceback
        raise Unreadable("the Excel workbook could not be read (damaged, or protected with a password)") from None
    try:
        if not workbook.worksheets:
            raise Unreadable("the workbook has no sheets")
        sheet = workbook.worksheets[0]
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(values)
        except Unreadable:
            raise
        except Exception:
            raise Unreadable("the first sheet of the workbook could not be read (damaged file)") from None
    finally:
        workbook.close()


def _normal(name: Any) -> str:
    return re.sub(r"\s+", "", cell_text(name).lstrip("\ufeff")).lower()


_WANTED = {c.lower(): c for c in COLUMNS}


def find_header(rows: Iterator[tuple[int, list[Any]]]) -> dict[str, int]:
    """Find the header within the first rows (consuming them); returns column -> index."""
    first_seen: list[str] | None = None
    for number, record in rows:
        names = [_normal(v) for v in record]
        if not any(names):
            continue
        if first_seen is None:
            first_seen = [cell_text(v) for v in record if cell_text(v)]
        found = {n for n in names if n in _WANTED}
        if {c.lower() for c in REQUIRED_COLUMNS} <= found:
            index: dict[str, int] = {}
            for i, n in enumerate(names):
                if n in _WANTED:
                    if _WANTED[n] in index:
                        raise Unreadable(f"the column {_WANTED[n]} appears twice in the header (row {number})")
                    index[_WANTED[n]] = i
            return index
        if number >= _HEADER_SEARCH_ROWS:
            break
    if first_seen is None:
        raise Unreadable("the file is empty: no header and no rows")
    present = {_normal(v) for v in first_seen}
    missing = [c for c in REQUIRED_COLUMNS if c.lower() not in present]
    raise Unreadable(
        f"required column(s) missing: {', '.join(missing)}. The header must name the columns "
        f"{', '.join(COLUMNS)} (found: {', '.join(first_seen[:15])})"
    )
