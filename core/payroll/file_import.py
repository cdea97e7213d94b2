"""Import a payroll journal report (CSV or XLSX) as processed runs, all or nothing.

The file has the columns of a payroll journal report: EmployeeName, Period, Year, Run, Department,
CostCenter, CostUnit, Percentage, GeneralLedgerAccount, ComponentName, Debit, Credit (header names matched
case-insensitively; Period, Year, Run, GeneralLedgerAccount, ComponentName, Debit and Credit are required,
the others optional; extra columns are ignored; the header may sit below a few title rows).

Decisions, so users get one complete report and no surprises:

* Every row is checked and every bad cell reported (`RowError.row` is the row number as a spreadsheet shows
  it, header included; 0 means the file or a whole run). When there is any error, `runs` is empty:
  nothing is half-imported. The balance of a run is judged only when all its rows are good (else the
  balance error would just echo the row errors).
* A row whose Debit and Credit are both zero is ignored (payroll reports list components without amount);
  `ImportResult.ignored_rows` counts them. Fully empty rows are skipped silently.
* Amounts: Dutch ("1.234,56", "1234,56") and English ("1,234.56", "1234.56") notation; an empty cell or
  "-" is zero; negative amounts are refused (book them on the other side). A lone separator followed by
  exactly three digits ("1,234" / "1.234") is ambiguous and refused - unless the file settles it: in a
  semicolon-separated CSV the comma is the decimal separator, in a comma-separated CSV the point is.
  Amounts may have more than two decimals (percentage splits); the voucher rounds once.
* Periods are months 1..12; a run (Year, Period, Run) must balance to the cent (`core.export.voucher`'s rule).
* CSV: delimiter `;`, `,` or tab (sniffed from the header line); UTF-8 with or without BOM, UTF-16 with BOM,
  else Windows-1252. XLSX: first sheet, cached values of formulas. At most 20 MB.
* Importing a run that is already stored is refused by the caller with `refuse_known_runs`.
"""

from __future__ import annotations

import calendar
import codecs
import csv
import io
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.errors import ServiceError
from core.export.voucher import format_amount, is_balanced_to_the_cent, journal_difference
from core.payroll.types import JournalLine, PayrollRunData

__all__ = [
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "MAX_FILE_BYTES",
    "RowError",
    "ImportResult",
    "JournalFileRejected",
    "parse_journal_file",
    "parse_amount",
    "refuse_known_runs",
    "to_csv_bytes",
]

COLUMNS = ("EmployeeName", "Period", "Year", "Run", "Department", "CostCenter", "CostUnit", "Percentage",
           "GeneralLedgerAccount", "ComponentName", "Debit", "Credit")
REQUIRED_COLUMNS = ("Period", "Year", "Run", "GeneralLedgerAccount", "ComponentName", "Debit", "Credit")
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_TEXT = 200
MAX_AMOUNT = Decimal("9999999999.99")
_HEADER_SEARCH_ROWS = 10
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in the file: `row` as a spreadsheet numbers it (header included), 0 = the file or a run."""

    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = "File" if self.row == 0 else f"Row {self.row}"
        return f"{where}{f', {self.column}' if self.column else ''}: {self.message}"


@dataclass(frozen=True)
class ImportResult:
    """The runs of a good file, or every error of a bad one (then `runs` is empty)."""

    runs: list[PayrollRunData]
    errors: list[RowError]
    ignored_rows: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class JournalFileRejected(ServiceError):
    """A journal file that was refused as a whole; `errors` lists every problem."""

    def __init__(self, filename: str, errors: Sequence[RowError]) -> None:
        first = "; ".join(str(e) for e in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        super().__init__(
            f"{filename} was not imported: {first}{more}. Correct the file and import it again.",
            entry_id="import-file-invalid",
            code="import-file-invalid",
        )
        self.filename = filename
        self.errors = list(errors)


def _refuse(message: str) -> ImportResult:
    return ImportResult(runs=[], errors=[RowError(0, None, message)])


# --------------------------------------------------------------------------------------------------- numbers

_NUMBER_CHARS = re.compile(r"[0-9.,]+")


def _grouped(int_part: str, sep: str) -> str | None:
    """'1.234.567' with sep '.' -> '1234567', or None when the groups are not thousands groups."""
    groups = int_part.split(sep)
    if not (1 <= len(groups[0]) <= 3) or any(len(g) != 3 for g in groups[1:]):
        return None
    return "".join(groups)


def parse_amount(text: str, *, decimal_comma: bool | None = None) -> Decimal:
    """Parse a non-negative amount in Dutch or English notation; raises ValueError with a user message.

    `decimal_comma` is what the file says about a lone separator followed by three digits: True (the comma is
    decimal, e.g. a semicolon CSV), False (the point is decimal), None (neither: such a number is ambiguous).
    """
    s = text.strip().replace("\u00a0", "").replace(" ", "").replace("€", "")
    if s.upper().startswith("EUR"):
        s = s[3:]
    if s in ("", "-"):
        return _ZERO
    if s.startswith(("-", "(")) or s.endswith(("-", ")")):
        raise ValueError(f"negative amount '{text.strip()}'; book it as a positive amount on the other side")
    if s.startswith("+"):
        s = s[1:]
    if not _NUMBER_CHARS.fullmatch(s) or not any(ch.isdigit() for ch in s):
        raise ValueError(f"'{text.strip()}' is not an amount")
    bad = ValueError(f"'{text.strip()}' is not a valid amount (use e.g. 1234,56 or 1234.56)")
    ambiguous = ValueError(
        f"'{text.strip()}' is ambiguous (a thousands separator or decimals?); write it without a thousands "
        "separator, e.g. 1234 or 1234,56"
    )
    if "," in s and "." in s:
        dec = "," if s.rfind(",") > s.rfind(".") else "."
        thousands = "." if dec == "," else ","
        int_part, frac = s.rsplit(dec, 1)
        if dec in int_part or thousands in frac:
            raise bad
        digits = _grouped(int_part, thousands)
        if digits is None:
            raise bad
    elif "," in s or "." in s:
        sep = "," if "," in s else "."
        if s.count(sep) > 1:
            digits = _grouped(s, sep)
            if digits is None:
                raise bad
            frac = ""
        else:
            int_part, frac = s.split(sep)
            digits = int_part
            if len(frac) == 3 and int_part not in ("", "0"):
                sep_is_decimal = decimal_comma if sep == "," else (None if decimal_comma is None else not decimal_comma)
                if sep_is_decimal is None:
                    raise ambiguous
                if not sep_is_decimal:
                    if not 1 <= len(int_part) <= 3:
                        raise bad
                    digits, frac = int_part + frac, ""
            if not frac and not digits:
                raise bad
    else:
        digits, frac = s, ""
    try:
        value = Decimal(f"{digits or '0'}.{frac}" if frac else (digits or "0"))
    except InvalidOperation:
        raise bad from None
    if value > MAX_AMOUNT:
        raise ValueError(f"amount {text.strip()} is too large")
    return value


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _cell_amount(value: Any, decimal_comma: bool | None) -> Decimal:
    if value is None:
        return _ZERO
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is not an amount")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))  # the number Excel shows, not the binary float's expansion
        if not amount.is_finite():
            raise ValueError(f"'{value}' is not an amount")
    elif isinstance(value, Decimal):
        amount = value
    else:
        return parse_amount(str(value), decimal_comma=decimal_comma)
    if amount < 0:
        raise ValueError(f"negative amount {value}; book it as a positive amount on the other side")
    if amount > MAX_AMOUNT:
        raise ValueError(f"amount {value} is too large")
    return amount


def _checked(errors: list[RowError], row: int, column: str, parse: Any, *args: Any) -> Any:
    """Run one cell parser; a ValueError becomes a RowError for that cell (and None)."""
    try:
        return parse(*args)
    except ValueError as exc:
        errors.append(RowError(row, column, str(exc)))
        return None


def _cell_int(value: Any, what: str, low: int, high: int, range_note: str = "") -> int:
    text = _cell_text(value)
    if isinstance(value, float) and not value.is_integer():
        text = repr(value)
    if not re.fullmatch(r"\d{1,6}", text):
        raise ValueError(f"{what} must be a whole number {low}..{high}, found '{text}'" if text else
                         f"{what} is empty; it must be a whole number {low}..{high}")
    number = int(text)
    if not low <= number <= high:
        raise ValueError(f"{what} {number} is out of range {low}..{high}{range_note}")
    return number


# --------------------------------------------------------------------------------------------------- reading


class _Unreadable(Exception):
    """The file cannot be read as a table at all; the message is for the user."""


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _Unreadable("the file is not readable text (broken UTF-16)") from None
    if b"\x00" in data[:65536]:
        raise _Unreadable("the file holds binary data, not CSV text; export the journal report as CSV or XLSX")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise _Unreadable("the file is not readable text (unknown encoding); save it as CSV UTF-8") from None


def _csv_rows(data: bytes) -> tuple[Iterator[tuple[int, list[Any]]], bool | None]:
    text = _decode(data)
    first_line = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    delimiter = max(counts, key=lambda d: (counts[d], d == ";"))
    if counts[delimiter] == 0:
        raise _Unreadable("no column separator (; , or tab) found in the first line; is this a CSV file?")
    hint = {";": True, ",": False, "\t": None}[delimiter]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            yield from enumerate(reader, start=1)
        except csv.Error as exc:
            raise _Unreadable(f"the CSV structure is broken near line {reader.line_num}: {exc}") from None

    return rows(), hint


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl  # imported here: only XLSX imports pay for it

    if not data.startswith(b"PK\x03\x04"):
        raise _Unreadable("the file is not an Excel workbook (.xlsx); export the journal report as XLSX or CSV")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # zip, XML and openpyxl errors alike: the user needs one message, not a traceback
        raise _Unreadable("the Excel workbook could not be read (damaged, or protected with a password)") from None
    try:
        if not workbook.worksheets:
            raise _Unreadable("the workbook has no sheets")
        sheet = workbook.worksheets[0]
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(values)
        except _Unreadable:
            raise
        except Exception:
            raise _Unreadable("the first sheet of the workbook could not be read (damaged file)") from None
    finally:
        workbook.close()


def _normal(name: Any) -> str:
    return re.sub(r"\s+", "", _cell_text(name).lstrip("\ufeff")).lower()


_WANTED = {c.lower(): c for c in COLUMNS}


def _find_header(rows: Iterator[tuple[int, list[Any]]]) -> tuple[dict[str, int], list[tuple[int, list[Any]]]]:
    """Find the header within the first rows; returns column -> index and any rows read past it (none)."""
    first_seen: list[str] | None = None
    for number, record in rows:
        names = [_normal(v) for v in record]
        if not any(names):
            continue
        if first_seen is None:
            first_seen = [_cell_text(v) for v in record if _cell_text(v)]
        found = {n for n in names if n in _WANTED}
        if {c.lower() for c in REQUIRED_COLUMNS} <= found:
            index: dict[str, int] = {}
            for i, n in enumerate(names):
                if n in _WANTED:
                    if _WANTED[n] in index:
                        raise _Unreadable(f"the column {_WANTED[n]} appears twice in the header (row {number})")
                    index[_WANTED[n]] = i
            return index, []
        if number >= _HEADER_SEARCH_ROWS:
            break
    if first_seen is None:
        raise _Unreadable("the file is empty: no header and no rows")
    present = {_normal(v) for v in first_seen}
    missing = [c for c in REQUIRED_COLUMNS if c.lower() not in present]
    raise _Unreadable(
        f"required column(s) missing: {', '.join(missing)}. The header must name the columns "
        f"{', '.join(COLUMNS)} (found: {', '.join(first_seen[:15])})"
    )


# --------------------------------------------------------------------------------------------------- parse


def parse_journal_file(
    filename: str, data: bytes, *, company_code: str, processed_at: datetime | None = None
) -> ImportResult:
    """Read a payroll journal report of one company into runs, or report every problem (and no runs).

    `processed_at` is when the runs count as processed (the report does not say); None gives the last day of
    each run's month at 00:00 UTC, which keeps an import deterministic.
    """
    if not company_code:
        raise ValueError("company_code is required")
    name = (filename or "").strip()
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if len(data) > MAX_FILE_BYTES:
        return _refuse(f"the file is {len(data) / 1_048_576:.1f} MB; the limit is 20 MB. Export fewer periods "
                       "per file.")
    if suffix in ("xls", "xlsb", "ods", "numbers"):
        return _refuse(f"'{name}' is in a format that cannot be read; save it as .xlsx or .csv and import again")
    if suffix not in ("csv", "txt", "xlsx", "xlsm"):
        return _refuse(f"'{name}' is not a CSV or XLSX file; import the payroll journal report as .csv or .xlsx")
    if not data.strip():
        return _refuse("the file is empty: no header and no rows")
    try:
        if suffix in ("xlsx", "xlsm"):
            rows, hint = _xlsx_rows(data), None
        else:
            rows, hint = _csv_rows(data)
        index, _ = _find_header(rows)
        return _parse_rows(rows, index, hint, company_code, processed_at)
    except _Unreadable as exc:
        return _refuse(str(exc))


def _parse_rows(
    rows: Iterator[tuple[int, list[Any]]],
    index: dict[str, int],
    hint: bool | None,
    company_code: str,
    processed_at: datetime | None,
) -> ImportResult:
    errors: list[RowError] = []
    ignored = 0
    grouped: dict[tuple[int, int, int], list[JournalLine]] = {}
    run_rows: dict[tuple[int, int, int], list[int]] = {}
    # A run with a bad row cannot be judged for balance: reporting it would only echo the row errors.
    tainted: set[tuple[int, int, int]] = set()
    unattributed = False

    def cell(record: list[Any], column: str) -> Any:
        i = index.get(column)
        return record[i] if i is not None and i < len(record) else None

    for number, record in rows:
        if not any(_cell_text(v) for v in record):
            continue
        row_errors: list[RowError] = []
        texts = {}
        for column in ("EmployeeName", "Department", "CostCenter", "CostUnit", "GeneralLedgerAccount", "ComponentName"):
            value = " ".join(_cell_text(cell(record, column)).split())
            if len(value) > MAX_TEXT:
                row_errors.append(RowError(number, column, f"longer than {MAX_TEXT} characters"))
            texts[column] = value
        if not texts["GeneralLedgerAccount"]:
            row_errors.append(RowError(number, "GeneralLedgerAccount", "the ledger account is empty"))
        period = _checked(row_errors, number, "Period", _cell_int, cell(record, "Period"), "Period", 1, 12,
                          " (only monthly payroll periods 1-12 can be imported)")
        year = _checked(row_errors, number, "Year", _cell_int, cell(record, "Year"), "Year", 2000, 2099)
        run = _checked(row_errors, number, "Run", _cell_int, cell(record, "Run"), "Run", 1, 999)
        debit = _checked(row_errors, number, "Debit", _cell_amount, cell(record, "Debit"), hint)
        credit = _checked(row_errors, number, "Credit", _cell_amount, cell(record, "Credit"), hint)
        percentage = None
        if _cell_text(cell(record, "Percentage")):
            percentage = _checked(row_errors, number, "Percentage", _percentage, cell(record, "Percentage"), hint)
        if row_errors:
            errors.extend(row_errors)
            if None in (year, period, run):
                unattributed = True
            else:
                tainted.add((year, period, run))
            continue
        if not debit and not credit:
            ignored += 1
            continue
        component = texts["ComponentName"]
        employee = texts["EmployeeName"] or None
        key = (year, period, run)
        grouped.setdefault(key, []).append(JournalLine(
            ledger_account=texts["GeneralLedgerAccount"],
            component=component,
            description=" ".join(p for p in (component or texts["GeneralLedgerAccount"], employee) if p),
            debit=debit,
            credit=credit,
            department=texts["Department"] or None,
            cost_center=texts["CostCenter"] or None,
            cost_unit=texts["CostUnit"] or None,
            employee=employee,
            percentage=percentage,
        ))
        run_rows.setdefault(key, []).append(number)

    runs: list[PayrollRunData] = []
    for key in sorted(grouped):
        if unattributed or key in tainted:
            continue
        year, period, run_number = key
        lines = grouped[key]
        total_debit, total_credit = journal_difference(lines)
        label = f"{year}-{period:02d} run {run_number}"
        if not is_balanced_to_the_cent(total_debit, total_credit):
            first, last = run_rows[key][0], run_rows[key][-1]
            errors.append(RowError(0, None, (
                f"run {label} (rows {first}-{last}) does not balance: debit {format_amount(total_debit)}, "
                f"credit {format_amount(total_credit)}, difference {format_amount(total_debit - total_credit)}"
            )))
            continue
        when = processed_at or datetime(year, period, calendar.monthrange(year, period)[1], tzinfo=UTC)
        runs.append(PayrollRunData(company_code, year, period, run_number, when, tuple(lines)))
    if not grouped and not errors:
        errors.append(RowError(0, None, "the file has a header but no rows with amounts"))
    if errors:
        return ImportResult(runs=[], errors=errors, ignored_rows=ignored)
    notes = [f"{ignored} row(s) with zero debit and credit were ignored"] if ignored else []
    return ImportResult(runs=runs, errors=[], ignored_rows=ignored, notes=notes)


def _percentage(value: Any, hint: bool | None) -> Decimal:
    text = _cell_text(value).rstrip("%").strip() if isinstance(value, str) else value
    pct = _cell_amount(text, hint)
    if not _ZERO < pct <= 100:
        raise ValueError(f"percentage {_cell_text(value)} must be more than 0 and at most 100")
    return pct


def refuse_known_runs(result: ImportResult, known_keys: Collection[tuple[str, int, int, int]]) -> ImportResult:
    """Refuse the whole import when any of its runs is already stored (`PayrollRunData.key`s in `known_keys`)."""
    if result.errors:
        return result
    known = set(known_keys)
    errors = [
        RowError(0, None, (
            f"run {r.label} of {r.company_code} was already imported; a run can be imported only once, so nothing "
            "from this file was imported. Remove that run from the file and import it again"
        ))
        for r in result.runs if r.key in known
    ]
    if errors:
        return ImportResult(runs=[], errors=errors, ignored_rows=result.ignored_rows)
    return result


# --------------------------------------------------------------------------------------------------- writing


def _format(value: Decimal | None, decimal_comma: bool) -> str:
    if value is None:
        return ""
    text = format(value, "f")
    return text.replace(".", ",") if decimal_comma else text


def to_csv_bytes(runs: Iterable[PayrollRunData], *, delimiter: str = ";", decimal_comma: bool | None = None) -> bytes:
    """Write runs as a payroll journal report CSV that `parse_journal_file` reads back unchanged.

    Default: semicolon-separated with decimal commas and a UTF-8 BOM, which is what Dutch Excel opens
    correctly (also the dashboard's "download a template"). With delimiter "," amounts use a decimal point.
    """
    if decimal_comma is None:
        decimal_comma = delimiter == ";"
    if decimal_comma and delimiter == ",":
        raise ValueError("a comma-separated file cannot use decimal commas")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for run in runs:
        for line in run.lines:
            writer.writerow([
                line.employee or "", run.period, run.year, run.run_number, line.department or "",
                line.cost_center or "", line.cost_unit or "", _format(line.percentage, decimal_comma),
                line.ledger_account, line.component, _format(line.debit, decimal_comma),
                _format(line.credit, decimal_comma),
            ])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
