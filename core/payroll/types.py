"""Plain data shared by every payroll source (demo seed, file import, payroll API connector).

Every source hands the rest of the product the same three frozen shapes, so the journal builder and the
database layer never need to know where a run came from. Money is `Decimal` and is never rounded here:
a line may carry more than two decimals (a percentage split of a payslip over cost centres); rounding to
cents happens once, when the voucher is built (`core.export.voucher`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext

__all__ = ["JournalLine", "PayrollCompanyData", "PayrollRunData", "run_label"]


def run_label(year: int, period: int, run_number: int) -> str:
    """How users name a run, e.g. "2026-03 run 1"."""
    return f"{year}-{period:02d} run {run_number}"


@dataclass(frozen=True, slots=True)
class JournalLine:
    """One line of a payroll journal report: a component booked on a ledger account.

    `ledger_account` is the payroll system's general-ledger account (usually a number such as "4000",
    but kept as text because payroll systems allow codes). `debit` and `credit` are non-negative;
    a correction is a line on the other side, never a negative amount. `percentage` is the share of the
    payslip amount this line carries when the payroll system splits a payslip over cost centres.
    """

    ledger_account: str
    component: str
    description: str
    debit: Decimal
    credit: Decimal
    department: str | None = None
    cost_center: str | None = None
    cost_unit: str | None = None
    employee: str | None = None
    percentage: Decimal | None = None

    def __post_init__(self) -> None:
        # Checked once at construction so the journal builder can add amounts without re-checking
        # (written out rather than looped: bulk imports build hundreds of thousands of lines).
        debit, credit = self.debit, self.credit
        if type(debit) is not Decimal or type(credit) is not Decimal:
            raise TypeError("JournalLine.debit and .credit must be Decimal")
        if not (debit.is_finite() and credit.is_finite() and debit >= 0 and credit >= 0):
            raise ValueError(f"JournalLine amounts must be finite and zero or more, got {debit} / {credit}")
        if not self.ledger_account:
            raise ValueError("JournalLine.ledger_account must not be empty")


@dataclass(frozen=True, slots=True)
class PayrollCompanyData:
    """A company as the payroll system knows it; `code` is its stable key (mapped to a Visma company)."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class PayrollRunData:
    """A processed payroll run of one company: monthly period 1..12 of a year, and its journal lines."""

    company_code: str
    year: int
    period: int
    run_number: int
    processed_at: datetime
    lines: tuple[JournalLine, ...]

    def __post_init__(self) -> None:
        if not 1 <= self.period <= 12:
            raise ValueError(f"period must be 1..12 (monthly runs), got {self.period}")
        if not 1900 <= self.year <= 9999:
            raise ValueError(f"year out of range: {self.year}")
        if self.run_number < 1:
            raise ValueError(f"run_number must be 1 or more, got {self.run_number}")
        if not isinstance(self.lines, tuple):
            # A list would make the dataclass unhashable and mutable behind its frozen front.
            object.__setattr__(self, "lines", tuple(self.lines))

    @property
    def key(self) -> tuple[str, int, int, int]:
        """The identity of a run across imports and sources: (company_code, year, period, run_number)."""
        return (self.company_code, self.year, self.period, self.run_number)

    @property
    def label(self) -> str:
        """How users name a run, e.g. "2026-03 run 1"."""
        return run_label(self.year, self.period, self.run_number)


def journal_difference(lines: Iterable[JournalLine]) -> tuple[Decimal, Decimal]:
    """Exact (total debit, total credit) of journal lines, no rounding."""
    debit = credit = Decimal(0)
    with localcontext(prec=100):
        for line in lines:
            debit += line.debit
            credit += line.credit
    return debit, credit
