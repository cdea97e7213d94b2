"""Typed results of the eAccounting API: frozen dataclasses built from Visma's PascalCase JSON.

Why typed: Visma's JSON has traps — ``AccountApi.Number`` is a *string*, dates arrive as ``2026-01-01``,
``2026-01-01T00:00:00`` or ``2026-01-01T00:00:00Z`` (the .NET back end sends all three), amounts are JSON doubles.
Converting once here (numbers to int, dates to ``date``, amounts to ``Decimal`` via ``str``) keeps the rest of the
code free of those details. Every model keeps the ``raw`` dict for support bundles and fields not modelled yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

# A date, or a .NET date-time: time to the second with up to 7 fraction digits (DateTime ticks), then nothing, ``Z``
# or an offset. Nothing else is accepted: a value of another shape is a change on Visma's side to notice, not to guess.
_DATE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,7})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?)?"
)


def parse_date(value: Any) -> date | None:
    """A calendar date from Visma: the date part as written.

    Visma sends date fields as ``2026-03-31``, ``2026-03-31T00:00:00`` or ``2026-03-31T00:00:00Z`` (sandbox/README.md
    "Behaviour and its sources", point 5). The time and offset are midnight noise on a date field, so the date is the
    one written, never shifted to another zone (``2026-03-31T00:00:00+02:00`` is the 31st, not the 30th in UTC).
    """
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    match = _DATE.fullmatch(str(value))
    if not match:
        raise ValueError(f"not a date: {value!r}")
    return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))


def parse_amount(value: Any) -> Decimal:
    """A JSON number as Decimal (``str`` first so 0.1 stays 0.1); None counts as zero."""
    if value is None or value == "":
        return Decimal("0")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def _int_or_none(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _raw() -> Any:
    return field(default_factory=dict, compare=False, hash=False, repr=False)


@dataclass(frozen=True)
class CompanySettings:
    name: str
    corporate_identity_number: str | None
    country_code: str | None
    currency_code: str | None
    company_status: int | None  # 0 Inactive, 1 Active, 2 ReadOnly
    uses_cost_center: bool
    activated_modules: tuple[str, ...]
    accounting_locked_to: date | None
    raw: dict = _raw()

    @classmethod
    def from_api(cls, d: dict) -> CompanySettings:
        modules = d.get("ActivatedModules") or []
        return cls(
            name=d.get("Name") or "",
            corporate_identity_number=d.get("CorporateIdentityNumber"),
            country_code=d.get("CountryCode"),
            currency_code=d.get("CurrencyCode"),
            company_status=_int_or_none(d.get("CompanyStatus")),
            uses_cost_center=bool(d.get("UsesCostCenter")),
            activated_modules=tuple(str(m) for m in modules) if isinstance(modules, list) else (),
            accounting_locked_to=parse_date(d.get("AccountingLockedTo")),
            raw=d,
        )


@dataclass(frozen=True)
class FiscalYear:
    id: str
    start_date: date
    end_date: date
    is_locked_for_accounting: bool
    bookkeeping_method: int | None  # 0 Invoicing, 1 Cash, 2 NoBookkeeping

    def contains(self, d: date) -> bool:
        return self.start_date <= d <= self.end_date

    @classmethod
    def from_api(cls, d: dict) -> FiscalYear:
        return cls(
            id=str(d["Id"]),
            start_date=parse_date(d["StartDate"]),  # type: ignore[arg-type]
            end_date=parse_date(d["EndDate"]),  # type: ignore[arg-type]
            is_locked_for_accounting=bool(d.get("IsLockedForAccounting")),
            bookkeeping_method=_int_or_none(d.get("BookkeepingMethod")),
        )


def fiscal_year_for(years: list[FiscalYear] | tuple[FiscalYear, ...], d: date) -> FiscalYear | None:
    """The fiscal year that contains ``d``, or None (posting then fails with 3001 FiscalYearDoesNotExist)."""
    return next((fy for fy in years if fy.contains(d)), None)


@dataclass(frozen=True)
class LedgerAccount:
    number: int
    name: str
    fiscal_year_id: str | None
    is_active: bool
    is_cost_center_allowed: bool
    is_blocked_for_manual_booking: bool

    @classmethod
    def from_api(cls, d: dict) -> LedgerAccount:
        number = _int_or_none(d.get("Number"))
        if number is None:
            raise ValueError(f"account without a numeric Number: {d.get('Number')!r}")
        return cls(
            number=number,
            name=d.get("Name") or "",
            fiscal_year_id=str(d["FiscalYearId"]) if d.get("FiscalYearId") else None,
            is_active=bool(d.get("IsActive")),
            is_cost_center_allowed=bool(d.get("IsCostCenterAllowed")),
            is_blocked_for_manual_booking=bool(d.get("IsBlockedForManualBooking")),
        )


@dataclass(frozen=True)
class CostCenterItem:
    id: str
    cost_center_id: str
    name: str
    short_name: str
    is_active: bool

    @classmethod
    def from_api(cls, d: dict, cost_center_id: str = "") -> CostCenterItem:
        return cls(
            id=str(d["Id"]),
            cost_center_id=str(d.get("CostCenterId") or cost_center_id),
            name=d.get("Name") or "",
            short_name=d.get("ShortName") or "",
            is_active=bool(d.get("IsActive")),
        )


@dataclass(frozen=True)
class CostCenter:
    id: str
    number: int | None  # the dimension, 1..3
    name: str
    is_active: bool
    items: tuple[CostCenterItem, ...] = ()

    @classmethod
    def from_api(cls, d: dict) -> CostCenter:
        cc_id = str(d["Id"])
        return cls(
            id=cc_id,
            number=_int_or_none(d.get("Number")),
            name=d.get("Name") or "",
            is_active=bool(d.get("IsActive")),
            items=tuple(CostCenterItem.from_api(i, cc_id) for i in (d.get("Items") or [])),
        )


@dataclass(frozen=True)
class VoucherRow:
    account_number: int | None
    account_description: str | None
    debit_amount: Decimal
    credit_amount: Decimal
    transaction_text: str | None
    cost_center_item_id1: str | None = None
    cost_center_item_id2: str | None = None
    cost_center_item_id3: str | None = None
    project_id: str | None = None

    @classmethod
    def from_api(cls, d: dict) -> VoucherRow:
        return cls(
            account_number=_int_or_none(d.get("AccountNumber")),
            account_description=d.get("AccountDescription"),
            debit_amount=parse_amount(d.get("DebitAmount")),
            credit_amount=parse_amount(d.get("CreditAmount")),
            transaction_text=d.get("TransactionText"),
            cost_center_item_id1=d.get("CostCenterItemId1"),
            cost_center_item_id2=d.get("CostCenterItemId2"),
            cost_center_item_id3=d.get("CostCenterItemId3"),
            project_id=d.get("ProjectId"),
        )


@dataclass(frozen=True)
class VoucherInfo:
    id: str
    number: str | None  # NumberAndNumberSeries, e.g. "A12"
    voucher_date: date | None
    voucher_text: str
    fiscal_year_id: str | None
    total_debit: Decimal
    total_credit: Decimal
    rows: tuple[VoucherRow, ...] = ()
    raw: dict = _raw()

    @classmethod
    def from_api(cls, d: dict, fiscal_year_id: str | None = None) -> VoucherInfo:
        """``fiscal_year_id``: the year the voucher was read from (VoucherApi itself does not carry it)."""
        rows = tuple(VoucherRow.from_api(r) for r in (d.get("Rows") or []))
        return cls(
            id=str(d.get("Id") or ""),
            number=d.get("NumberAndNumberSeries"),
            voucher_date=parse_date(d.get("VoucherDate")),
            voucher_text=d.get("VoucherText") or "",
            fiscal_year_id=str(d["FiscalYearId"]) if d.get("FiscalYearId") else fiscal_year_id,
            total_debit=sum((r.debit_amount for r in rows), Decimal("0")),
            total_credit=sum((r.credit_amount for r in rows), Decimal("0")),
            rows=rows,
            raw=d,
        )
