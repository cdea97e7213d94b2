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
* Amounts are read by `core.payroll.cells` (Dutch and English notation, no negatives, ambiguous "1,234" refused
  unless the file settles it: in a semicolon-separated CSV the comma is the decimal separator, in a
  comma-separated CSV the point is). Amounts may have more than two decimals (percentage splits); they are stored
  exactly as read and the voucher rounds once. An amount or percentage the journal-line columns cannot hold exactly
  (more decimals than their scale, 10) is refused with its row and value, never rounded on the way in: what balanced
  here is what is sent.
* Periods are months 1..12; a run (Year, Period, Run) must balance to the cent (`core.export.voucher`'s rule).
* The file is read by `core.payroll.tables` (CSV or the first sheet of an XLSX). At most 20 MB.
* A run that is already stored refuses the whole file; the store decides that (`core.payroll.store`).
"""

from __future__ import annotations

import calendar
import codecs
import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.db.models import JournalLineRow
from core.errors import ServiceError
from core.money import format_amount, is_balanced_to_the_cent
from core.payroll.cells import cell_amount, cell_int, cell_percentage, cell_text
from core.payroll.tables import COLUMNS, UncalculatedFormula, Unreadable, csv_rows, find_header, xlsx_rows
from core.payroll.types import JournalLine, PayrollRunData, journal_difference, run_label
from core.words import count

__all__ = [
    "MAX_FILE_BYTES",
    "ImportResult",
    "JournalFileRejected",
    "RowError",
    "parse_journal_file",
    "to_csv_bytes",
]

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_TEXT = JournalLineRow.__table__.c.description.type.length  # a line's description: component and employee
_TEXT_COLUMNS = ("EmployeeName", "Department", "CostCenter", "CostUnit", "GeneralLedgerAccount", "ComponentName")
# One set of limits: the sizes of the columns the lines are stored in (PostgreSQL refuses longer, SQLite would not).
TEXT_LIMITS = {
    "EmployeeName": JournalLineRow.__table__.c.employee.type.length,
    "Department": JournalLineRow.__table__.c.department.type.length,
    "CostCenter": JournalLineRow.__table__.c.cost_center.type.length,
    "CostUnit": JournalLineRow.__table__.c.cost_unit.type.length,
    "GeneralLedgerAccount": JournalLineRow.__table__.c.ledger_account.type.length,
    "ComponentName": JournalLineRow.__table__.c.component.type.length,
}

# The columns amounts and percentages are stored in: what they cannot hold exactly is refused here, by row.
AMOUNT_TYPE = JournalLineRow.__table__.c.debit.type
PERCENTAGE_TYPE = JournalLineRow.__table__.c.percentage.type

RunKey = tuple[int, int, int]  # (year, period, run number)


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
            rows, hint = xlsx_rows(data), None
        else:
            rows, hint = csv_rows(data)
        index = find_header(rows)
        return _parse_rows(rows, index, hint, company_code, processed_at)
    except Unreadable as exc:
        return _refuse(str(exc))


def _checked(errors: list[RowError], row: int, column: str, parse: Any, *args: Any) -> Any:
    """Run one cell parser; a ValueError becomes a RowError for that cell (and None)."""
    try:
        return parse(*args)
    except ValueError as exc:
        errors.append(RowError(row, column, str(exc)))
        return None


def _storable(value: Decimal, column_type: Any, what: str) -> Decimal:
    """``value`` when its column stores it exactly; else a ValueError naming the value (the row is added by the
    caller), so nothing is rounded between the balance check here and the voucher."""
    problem = column_type.refusal(value)
    if problem:
        raise ValueError(f"the {what} {problem}, so it cannot be sent as imported. Round it to at most "
                         f"{column_type.scale} decimals in the payroll report and import the file again")
    return value


def _amount(value: Any, hint: bool | None) -> Decimal:
    return _storable(cell_amount(value, hint), AMOUNT_TYPE, "amount")


def _percentage(value: Any, hint: bool | None) -> Decimal:
    return _storable(cell_percentage(value, hint), PERCENTAGE_TYPE, "percentage")


def _read_row(
    number: int, record: list[Any], index: dict[str, int], hint: bool | None
) -> tuple[RunKey | None, JournalLine | None, list[RowError]]:
    """One row: its run key (None when it cannot be told), its journal line (None for a zero row), its errors."""

    def cell(column: str) -> Any:
        i = index.get(column)
        return record[i] if i is not None and i < len(record) else None

    errors: list[RowError] = []
    for column, i in index.items():
        if i < len(record) and isinstance(record[i], UncalculatedFormula):
            errors.append(RowError(number, column, record[i].message))
            record[i] = None  # reported once, here; the cell parsers below see an empty cell
    texts = {}
    for column in _TEXT_COLUMNS:
        value = " ".join(cell_text(cell(column)).split())
        if len(value) > TEXT_LIMITS[column]:
            errors.append(RowError(number, column, f"longer than {TEXT_LIMITS[column]} characters"))
        texts[column] = value
    if not texts["GeneralLedgerAccount"]:
        errors.append(RowError(number, "GeneralLedgerAccount", "the ledger account is empty"))
    period = _checked(errors, number, "Period", cell_int, cell("Period"), "Period", 1, 12,
                      " (only monthly payroll periods 1-12 can be imported)")
    year = _checked(errors, number, "Year", cell_int, cell("Year"), "Year", 2000, 2099)
    run = _checked(errors, number, "Run", cell_int, cell("Run"), "Run", 1, 999)
    debit = _checked(errors, number, "Debit", _amount, cell("Debit"), hint)
    credit = _checked(errors, number, "Credit", _amount, cell("Credit"), hint)
    percentage = None
    if cell_text(cell("Percentage")):
        percentage = _checked(errors, number, "Percentage", _percentage, cell("Percentage"), hint)
    if debit and credit:
        errors.append(RowError(number, "Credit", f"the line has both a debit ({format_amount(debit)}) and a credit "
                                                 f"({format_amount(credit)}); book each amount on its own line"))
    key = None if None in (year, period, run) else (year, period, run)
    if errors or (not debit and not credit):
        return key, None, errors
    component, employee = texts["ComponentName"], texts["EmployeeName"] or None
    return key, JournalLine(
        ledger_account=texts["GeneralLedgerAccount"],
        component=component,
        description=" ".join(p for p in (component or texts["GeneralLedgerAccount"], employee) if p)[:MAX_TEXT],
        debit=debit,
        credit=credit,
        department=texts["Department"] or None,
        cost_center=texts["CostCenter"] or None,
        cost_unit=texts["CostUnit"] or None,
        employee=employee,
        percentage=percentage,
    ), []


def _parse_rows(
    rows: Iterator[tuple[int, list[Any]]],
    index: dict[str, int],
    hint: bool | None,
    company_code: str,
    processed_at: datetime | None,
) -> ImportResult:
    errors: list[RowError] = []
    ignored = 0
    grouped: dict[RunKey, list[JournalLine]] = {}
    run_rows: dict[RunKey, list[int]] = {}
    # A run with a bad row cannot be judged for balance: reporting it would only echo the row errors.
    tainted: set[RunKey] = set()
    unattributed = False
    for number, record in rows:
        if not any(cell_text(v) for v in record):
            continue
        key, line, row_errors = _read_row(number, record, index, hint)
        if row_errors:
            errors.extend(row_errors)
            if key is None:
                unattributed = True
            else:
                tainted.add(key)
        elif line is None:
            ignored += 1
        else:
            grouped.setdefault(key, []).append(line)
            run_rows.setdefault(key, []).append(number)
    judged = {} if unattributed else {k: v for k, v in grouped.items() if k not in tainted}
    runs = _balanced_runs(judged, run_rows, errors, company_code, processed_at)
    if not grouped and not errors:
        errors.append(RowError(0, None, "the file has a header but no rows with amounts"))
    if errors:
        return ImportResult(runs=[], errors=errors, ignored_rows=ignored)
    notes = ([f"{count(ignored, 'row')} with zero debit and credit {'was' if ignored == 1 else 'were'} ignored"]
             if ignored else [])
    return ImportResult(runs=runs, errors=[], ignored_rows=ignored, notes=notes)


def _balanced_runs(
    grouped: dict[RunKey, list[JournalLine]],
    run_rows: dict[RunKey, list[int]],
    errors: list[RowError],
    company_code: str,
    processed_at: datetime | None,
) -> list[PayrollRunData]:
    """The runs that balance to the cent, oldest first; each one that does not adds an error."""
    runs: list[PayrollRunData] = []
    for key in sorted(grouped):
        year, period, run_number = key
        lines = grouped[key]
        total_debit, total_credit = journal_difference(lines)
        label = run_label(year, period, run_number)
        if not is_balanced_to_the_cent(total_debit, total_credit):
            first, last = run_rows[key][0], run_rows[key][-1]
            errors.append(RowError(0, None, (
                f"run {label} (rows {first}-{last}) does not balance: debit {format_amount(total_debit)}, "
                f"credit {format_amount(total_credit)}, difference {format_amount(total_debit - total_credit)}"
            )))
            continue
        when = processed_at or datetime(year, period, calendar.monthrange(year, period)[1], tzinfo=UTC)
        runs.append(PayrollRunData(company_code, year, period, run_number, when, tuple(lines)))
    return runs


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
