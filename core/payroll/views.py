"""What the payroll services return: typed read models whose field names are the CLI's ``--json`` field names."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CompanyView:
    """A payroll company, the Visma company it is mapped to (through an account), and its runs counted by status."""

    id: int
    code: str
    name: str
    source: str
    account_name: str | None
    account_status: str | None
    visma_company_name: str | None
    visma_company_id: str | None
    mapped: bool
    auto_send: bool
    runs_total: int
    runs_not_sent: int
    runs_sending: int
    runs_unconfirmed: int
    runs_sent: int
    runs_failed: int


@dataclass(frozen=True, slots=True)
class ImportErrorView:
    """Why a journal file imported nothing: a bad cell (``row`` as a spreadsheet shows it), or the whole file."""

    row: int | None
    column: str | None
    message: str


@dataclass(frozen=True, slots=True)
class ImportView:
    """The outcome of importing one journal file, all or nothing: the run labels imported, or every error."""

    company: str
    imported: tuple[str, ...]
    errors: tuple[ImportErrorView, ...]
    # What the import left out on purpose and the user should know (rows with zero debit and credit).
    notes: tuple[str, ...] = ()
