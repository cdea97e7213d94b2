"""A payroll journal report file read as numbered rows, and its header found.

CSV: delimiter `;`, `,` or tab (sniffed from the header line); UTF-8 with or without BOM, UTF-16 with BOM, else
Windows-1252. XLSX: first sheet, cached values of formulas (a formula without one is reported, never read as
empty). The header may sit below a few title rows; names are matched case-insensitively and extra columns are
ignored. A file is bounded by what it holds, not its size on disk: rows, cells per row, and unpacked bytes. What
cannot be read raises `Unreadable` with a message for the user.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

from core.payroll.cells import cell_text
from core.words import plural

__all__ = ["COLUMNS", "REQUIRED_COLUMNS", "UncalculatedFormula", "Unreadable", "csv_rows", "find_header", "xlsx_rows"]

COLUMNS = ("EmployeeName", "Period", "Year", "Run", "Department", "CostCenter", "CostUnit", "Percentage",
           "GeneralLedgerAccount", "ComponentName", "Debit", "Credit")
REQUIRED_COLUMNS = ("Period", "Year", "Run", "GeneralLedgerAccount", "ComponentName", "Debit", "Credit")
_HEADER_SEARCH_ROWS = 10
# What a journal file may hold, whatever its size on disk: rows (CSV and XLSX alike), cells read per row, and the
# bytes an XLSX unpacks to. A year of a large company's payroll is well inside; a zip or dimension bomb is not.
MAX_ROWS = 250_000
MAX_COLUMNS = 64
MAX_UNPACKED_BYTES = 200 * 1_048_576


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
    if text.count("\n") > MAX_ROWS:  # cheap, before any row is parsed
        raise Unreadable(f"the file has more than {MAX_ROWS:,} rows; export fewer periods per file")
    first_line = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    delimiter = max(counts, key=lambda d: (counts[d], d == ";"))
    if counts[delimiter] == 0:
        raise Unreadable("no column separator (; , or tab) found in the first line; is this a CSV file?")
    hint = {";": True, ",": False, "\t": None}[delimiter]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, record in enumerate(reader, start=1):
                if number > MAX_ROWS:
                    raise Unreadable(f"the file has more than {MAX_ROWS:,} rows; export fewer periods per file")
                yield number, record
        except csv.Error as exc:
            raise Unreadable(f"the CSV structure is broken near line {reader.line_num}: {exc}") from None

    return rows(), hint


class UncalculatedFormula:
    """A cell that holds a formula but no calculated value (files written by programs that do not calculate, such as
    openpyxl or some exporters). Its value is unknown, so the row cannot be imported as it is."""

    __slots__ = ("formula",)

    def __init__(self, formula: str) -> None:
        self.formula = formula

    def __str__(self) -> str:
        return self.formula

    @property
    def message(self) -> str:
        shown = self.formula if len(self.formula) <= 40 else self.formula[:37] + "..."
        return (f"holds the formula {shown} without a calculated value; open the file in Excel or LibreOffice and "
                "save it again (or export values instead of formulas), then import it again")


def _inspect(data: bytes) -> tuple[int, int]:
    """(bytes the workbook's parts take once unpacked, ``<row>`` elements in its first sheet), counted while
    unpacking (a zip can lie about its sizes, a sheet about its dimension) and only up to just past the limits."""
    total = rows = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                first_sheet = info.filename == "xl/worksheets/sheet1.xml"
                with archive.open(info) as part:
                    tail = b""
                    while chunk := part.read(1 << 20):
                        total += len(chunk)
                        if first_sheet:
                            rows += (tail + chunk).count(b"<row") - tail.count(b"<row")
                            tail = chunk[-3:]
                        if total > MAX_UNPACKED_BYTES or rows > MAX_ROWS:
                            return total, rows
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, zlib.error):
        raise Unreadable("the Excel workbook could not be read (damaged, or protected with a password)") from None
    return total, rows


def _open_workbook(data: bytes, *, values: bool):
    import openpyxl  # imported here: its start-up cost (~0.2 s) is paid by XLSX imports only

    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=values)
    except Exception:  # zip, XML and openpyxl errors alike: the user needs one message, not a traceback
        raise Unreadable("the Excel workbook could not be read (damaged, or protected with a password)") from None


def _first_sheet(workbook):
    if not workbook.worksheets:
        raise Unreadable("the workbook has no sheets")
    sheet = workbook.worksheets[0]
    declared = sheet.max_row  # from the sheet's <dimension>, when the writer gave one: refuse before reading
    if declared is not None and declared > MAX_ROWS:
        raise Unreadable(f"the sheet has more than {MAX_ROWS:,} rows; export fewer periods per file")
    # Read the rows that are there, not the size the file declares (a declared A1:XFD1048576 would otherwise be
    # walked cell by cell).
    sheet.reset_dimensions()
    return sheet


def xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """The first sheet's rows, at most ``MAX_ROWS`` of at most ``MAX_COLUMNS`` cells: calculated values, and an
    ``UncalculatedFormula`` where a formula has none."""
    if not data.startswith(b"PK\x03\x04"):
        raise Unreadable("the file is not an Excel workbook (.xlsx); export the journal report as XLSX or CSV")
    unpacked, rows = _inspect(data)
    if unpacked > MAX_UNPACKED_BYTES:
        raise Unreadable(f"the workbook unpacks to more than {MAX_UNPACKED_BYTES // 1_048_576} MB; export fewer "
                         "periods per file")
    if rows > MAX_ROWS:
        raise Unreadable(f"the sheet has more than {MAX_ROWS:,} rows; export fewer periods per file")
    values_book, formulas_book = _open_workbook(data, values=True), _open_workbook(data, values=False)
    try:
        values_rows = _first_sheet(values_book).iter_rows(max_col=MAX_COLUMNS, values_only=True)
        formula_rows = _first_sheet(formulas_book).iter_rows(max_col=MAX_COLUMNS, values_only=True)
        try:
            for number, (row, written) in enumerate(zip(values_rows, formula_rows, strict=False), start=1):
                if number > MAX_ROWS:
                    raise Unreadable(f"the sheet has more than {MAX_ROWS:,} rows; export fewer periods per file")
                yield number, [_cell(value, formula) for value, formula in zip(row, written, strict=False)]
        except Unreadable:
            raise
        except Exception:
            raise Unreadable("the first sheet of the workbook could not be read (damaged file)") from None
    finally:
        values_book.close()
        formulas_book.close()


def _cell(value: Any, written: Any) -> Any:
    if value is None and isinstance(written, str) and written.startswith("="):
        return UncalculatedFormula(written)
    return value


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
        f"required {plural(len(missing), 'column')} missing: {', '.join(missing)}. The header must name the columns "
        f"{', '.join(COLUMNS)} (found: {', '.join(first_seen[:15])})"
    )
