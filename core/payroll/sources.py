"""Where processed payroll runs come from: the `PayrollSource` interface and its two built-in implementations.

The rest of the product (the database layer that stores runs, the journal builder, the export) only sees
`PayrollCompanyData` and `PayrollRunData` (`core.payroll.types`), whatever the source. Built in:

* `DemoPayrollSource` - the deterministic demo payroll of `core.demo.payroll` (demo mode, tests);
* `FilePayrollSource` - the runs of one imported payroll journal report (CSV/XLSX, `core.payroll.file_import`).

How a payroll API connector implements it
-----------------------------------------
A connector for a payroll system's API is a class with a `name` and the two methods below; it does not
inherit from anything (`PayrollSource` is a `typing.Protocol`, checked structurally):

1. `list_companies()` calls the payroll API's company list and returns `PayrollCompanyData(code, name)`;
   `code` must be the payroll system's stable company id (it is what a mapping to a Visma company keys on),
   never a name that users can edit.
2. `list_processed_runs(company_code, since=...)` lists the company's runs that are *processed* (final;
   never a draft or a run being calculated), with `processed_at` >= `since` when given, oldest first, and
   fetches each run's journal report: one `JournalLine` per report line, amounts as `Decimal` parsed from
   the API's text or from `repr(float)`, never via float arithmetic; `processed_at` timezone-aware (UTC; a naive
   time is refused by the service layer); debit and credit non-negative (a
   negative amount becomes the other side); cost centre / department codes as the payroll system shows them
   (the administration mapping translates them to Visma cost-centre items). Periods are months 1..12.
3. Errors: a failure the user can act on (bad credentials, API down, company unknown to the API) raises
   `PayrollSourceError` with a message saying what happened and what to do; an unknown company code with a
   reachable API returns an empty list. Never log or put credentials in a message.
4. It is called from the service layer (a worker or a "fetch runs" button), which stores new runs by
   `PayrollRunData.key` and ignores runs it already has, so returning the same run twice is harmless;
   a run whose lines changed after processing must come back with a new `processed_at` (reprocessed).

Keep connectors free of Streamlit and of the database: they fetch and translate, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Protocol, runtime_checkable

from core.errors import ServiceError
from core.payroll.file_import import JournalFileRejected, parse_journal_file
from core.payroll.types import PayrollCompanyData, PayrollRunData

__all__ = ["PayrollSource", "PayrollSourceError", "DemoPayrollSource", "FilePayrollSource"]


class PayrollSourceError(ServiceError):
    """A payroll source could not deliver (unreachable, refused, malformed); `message` says what to do."""

    def __init__(self, message: str, *, code: str = "payroll-source-failed") -> None:
        super().__init__(message, entry_id=code, code=code)


@runtime_checkable
class PayrollSource(Protocol):
    """Anything that can list payroll companies and their processed runs."""

    name: str

    def list_companies(self) -> list[PayrollCompanyData]: ...

    def list_processed_runs(self, company_code: str, *, since: date | None = None) -> list[PayrollRunData]: ...


def _filter_sorted(runs: Iterable[PayrollRunData], since: date | None) -> list[PayrollRunData]:
    selected = [r for r in runs if since is None or r.processed_at.date() >= since]
    return sorted(selected, key=lambda r: (r.processed_at, r.year, r.period, r.run_number))


class DemoPayrollSource:
    """The demo payroll (or any fixed set of runs held in memory), e.g. `core.demo.payroll.demo_source()`."""

    name = "demo"

    def __init__(self, companies: Sequence[PayrollCompanyData], runs: Mapping[str, Sequence[PayrollRunData]]):
        self._companies = list(companies)
        self._runs = {code: tuple(r) for code, r in runs.items()}

    def list_companies(self) -> list[PayrollCompanyData]:
        return list(self._companies)

    def list_processed_runs(self, company_code: str, *, since: date | None = None) -> list[PayrollRunData]:
        return _filter_sorted(self._runs.get(company_code, ()), since)


class FilePayrollSource:
    """The runs of one imported payroll journal report, for one payroll company.

    Build it with `FilePayrollSource.from_file(...)`, which refuses the whole file (raising
    `core.payroll.file_import.JournalFileRejected` with every bad row) when any row is bad.
    """

    def __init__(self, company: PayrollCompanyData, runs: Sequence[PayrollRunData], *, filename: str = "") -> None:
        wrong = sorted({r.company_code for r in runs} - {company.code})
        if wrong:
            raise ValueError(f"runs of other companies ({', '.join(wrong)}) in a file source of {company.code}")
        self.company = company
        self.filename = filename
        self.name = f"file:{filename}" if filename else "file"
        self._runs = tuple(runs)

    @classmethod
    def from_file(
        cls, filename: str, data: bytes, *, company_code: str, company_name: str | None = None
    ) -> FilePayrollSource:
        result = parse_journal_file(filename, data, company_code=company_code)
        if result.errors:
            raise JournalFileRejected(filename, result.errors)
        return cls(PayrollCompanyData(company_code, company_name or company_code), result.runs, filename=filename)

    def list_companies(self) -> list[PayrollCompanyData]:
        return [self.company]

    def list_processed_runs(self, company_code: str, *, since: date | None = None) -> list[PayrollRunData]:
        if company_code != self.company.code:
            return []
        return _filter_sorted(self._runs, since)
