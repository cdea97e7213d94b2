"""Turn a processed payroll run into one balanced Visma eAccounting voucher.

A payroll journal has a line per employee per component (hundreds of thousands for a payroll bureau);
Visma wants one voucher with a row per account. The rules, chosen so an accountant can reconcile the
voucher with the payroll journal report:

* **Aggregation.** Lines are summed per (Visma account, cost-centre item). Payroll accounts are mapped to
  Visma account numbers with `ledger_map` (a numeric payroll account maps to itself when absent from the
  map). A cost centre is attached only on accounts listed in `accounts_with_cost_centers` (Visma refuses a
  cost centre on an account that does not allow one); elsewhere lines of all cost centres merge.
* **Netting.** Debit and credit on the same (account, cost centre) are netted into one row on the side of
  the balance, as in a journal summary; a row that nets to 0.00 is left out.
* **Exact sums, rounding once.** Amounts are summed as exact `Decimal`s (lines may carry more than two
  decimals after percentage splits; they are stored exactly as imported, up to 10 decimals, see
  `core.db.models.ExactDecimal`) and each row is rounded to cents once, ROUND_HALF_UP. Nothing rounds a line
  before this, so the run that balanced on import is the run judged here.
* **Balance.** The source journal balances when its exact total debit minus total credit is less than half
  a cent (it rounds to 0.00); otherwise the run is refused with `voucher-unbalanced`, nothing is guessed.
  The voucher total is the netted debit side rounded once. If rounding each row makes a side differ from
  that total (only possible when lines carry more than two decimals), the difference - a few cents at most -
  is put on the largest row of that side, whose `TransactionText` then says "(afronding +0,01)". Every other
  row equals its exact sum rounded half-up, so it matches the account total of the payroll report. (If the
  largest row could not absorb the difference - never with real payroll amounts - the side is rounded with
  the largest-remainder method instead, which keeps every row within a cent of its exact sum.)
* **Texts.** `TransactionText` names the row's components, largest first, cut cleanly at Visma's 60
  characters; `VoucherText` is "Loonjournaal <company> <run label> <marker>" within 1000 characters.
* **Marker.** `export_marker(run)` is unique per run (and per explicit re-send generation) and ends with "#",
  so searching Visma's VoucherText with `contains` never matches another run's marker.
* **VoucherType 2 (ManualVoucher).** Visma's 22 (Payslip) belongs to Visma's own payroll module; a journal
  posted by an integration is a manual voucher, the type every public eAccounting client sends.

Errors the user can meet are `JournalError` with `.code` (the troubleshooting entry id) and `.message`.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal, localcontext

from core.errors import ServiceError
from core.export.texts import MAX_MARKER, export_marker, transaction_text, voucher_text
from core.money import CENT, dutch_amount, format_amount, is_balanced_to_the_cent, round_cents
from core.payroll.types import JournalLine, PayrollRunData, journal_difference
from core.words import plural

__all__ = [
    "VOUCHER_TYPE_MANUAL",
    "Voucher",
    "VoucherRow",
    "JournalError",
    "build_voucher",
    "export_marker",
    "journal_difference",
    "is_balanced_to_the_cent",
    "format_amount",
]

VOUCHER_TYPE_MANUAL = 2
# Visma's VoucherRowApi caps amounts at 1e10 (2026 spec); larger is a data error, not a payroll.
MAX_AMOUNT = Decimal("9999999999.99")

ZERO = Decimal(0)
ZERO_CENTS = Decimal("0.00")


class JournalError(ServiceError):
    """A run that cannot become a voucher; `code` names the troubleshooting entry, `message` says what to do.

    A `ServiceError` (so pages show it like every other user-facing failure) with `entry_id == code`.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, entry_id=code, code=code)


@dataclass(frozen=True, slots=True)
class VoucherRow:
    """One row of a voucher: exactly one of debit and credit is non-zero, both in whole cents."""

    account_number: int
    debit: Decimal
    credit: Decimal
    transaction_text: str
    cost_center_item_id: str | None = None


@dataclass(frozen=True, slots=True)
class Voucher:
    """A voucher ready for `POST /v2/vouchers`; `marker` is also inside `voucher_text`."""

    voucher_date: date
    voucher_text: str
    rows: tuple[VoucherRow, ...]
    marker: str

    @property
    def total_debit(self) -> Decimal:
        return sum((r.debit for r in self.rows), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((r.credit for r in self.rows), ZERO)

    @property
    def is_balanced(self) -> bool:
        return self.total_debit == self.total_credit

    def to_visma_json(self) -> dict:
        """The VoucherApi body. Amounts become JSON numbers here, at the edge, and only if exact.

        A 2-decimal amount below 1e10 has at most 12 significant digits, so `float` holds it exactly enough
        that its shortest repr is the same decimal; the round-trip check makes that a guarantee.
        """
        rows = []
        for r in self.rows:
            row: dict = {
                "AccountNumber": r.account_number,
                "DebitAmount": _to_json_number(r.debit),
                "CreditAmount": _to_json_number(r.credit),
                "TransactionText": r.transaction_text,
            }
            if r.cost_center_item_id is not None:
                row["CostCenterItemId1"] = r.cost_center_item_id
            rows.append(row)
        return {
            "VoucherDate": self.voucher_date.isoformat(),
            "VoucherText": self.voucher_text,
            "VoucherType": VOUCHER_TYPE_MANUAL,
            "Rows": rows,
        }


def _to_json_number(amount: Decimal) -> float:
    value = float(amount)
    if amount != amount.quantize(CENT) or Decimal(repr(value)) != amount:
        raise JournalError(
            "amount-out-of-range",
            f"The amount {amount} cannot be sent to Visma exactly (at most 2 decimals, below 10 billion).",
        )
    return value


# --------------------------------------------------------------------------------------------------- balance


# --------------------------------------------------------------------------------------------------- build


def _resolve_account(payroll_account: str, ledger_map: Mapping[str, int] | None) -> int | None:
    key = payroll_account.strip()
    if ledger_map is not None:
        if key in ledger_map:
            target = ledger_map[key]
            return target if isinstance(target, int) and not isinstance(target, bool) and target > 0 else None
        if payroll_account in ledger_map:
            target = ledger_map[payroll_account]
            return target if isinstance(target, int) and not isinstance(target, bool) and target > 0 else None
    if key.isascii() and key.isdigit() and 0 < int(key) <= 9_999_999_999:
        return int(key)
    return None


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _fit_side(exact: list[Decimal], target: Decimal) -> tuple[list[Decimal], int | None]:
    """Round each amount half-up once and make the side add up to `target`.

    Returns the rounded amounts and the index of the row that took the rounding difference (None if none
    was needed or the difference was spread by largest remainder).
    """
    rounded = [round_cents(a) for a in exact]
    diff = target - sum(rounded, ZERO)
    if not diff or not rounded:
        return rounded, None
    largest = max(range(len(rounded)), key=lambda i: (rounded[i], -i))
    if rounded[largest] + diff > 0:
        rounded[largest] += diff
        return rounded, largest
    # Pathological: many tiny rows. Largest remainder keeps every row within a cent of its exact value.
    floors = [a.quantize(CENT, rounding=ROUND_FLOOR) for a in exact]
    cents = int((target - sum(floors, ZERO)) / CENT)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), -exact[i], i))
    if cents >= 0:
        for i in by_remainder[:cents]:
            floors[i] += CENT
    else:
        for i in [i for i in reversed(by_remainder) if floors[i] > 0][:-cents]:
            floors[i] -= CENT
    return floors, None


def build_voucher(
    run: PayrollRunData,
    *,
    ledger_map: Mapping[str, int] | None = None,
    cost_center_map: Mapping[str, str] | None = None,
    accounts_with_cost_centers: Collection[int] | None = None,
    marker: str | None = None,
    company_name: str | None = None,
) -> Voucher:
    """Build the voucher for one run (see the module docstring for the rules).

    `ledger_map`: payroll GL account -> Visma account number (numeric payroll accounts map to themselves
    when absent). `cost_center_map`: payroll cost-centre code -> Visma CostCenterItemId (None: the code is
    used as the id unchanged). `accounts_with_cost_centers`: Visma accounts that take a cost centre (None:
    never attach one). Raises `JournalError` with code `voucher-empty`, `account-not-mapped`,
    `cost-center-not-mapped`, `voucher-unbalanced` or `amount-out-of-range`.
    """
    if marker is None:
        marker = export_marker(run)
    if len(marker) > MAX_MARKER:
        raise ValueError("marker longer than 60 characters")
    with localcontext(prec=100):  # exact sums: no rounding before step 3
        sums = _exact_sums(run.lines)
        accounts = _resolve_accounts(run, sums, ledger_map)
        rows = _visma_rows(run, sums, accounts, frozenset(accounts_with_cost_centers or ()), cost_center_map)
        debit_keys, credit_keys, total_debit, total_credit = _sides(rows)
    target = _checked_total(run, debit_keys or credit_keys, total_debit, total_credit)
    debit_amounts, debit_adjusted = _fit_side([rows[k][0] for k in debit_keys], target)
    credit_amounts, credit_adjusted = _fit_side([-rows[k][0] for k in credit_keys], target)
    voucher_rows = (_side_rows(rows, debit_keys, debit_amounts, debit_adjusted, "debit")
                    + _side_rows(rows, credit_keys, credit_amounts, credit_adjusted, "credit"))
    if not voucher_rows:
        raise JournalError(
            "voucher-empty",
            f"Run {run.label} has no amounts to book (every account nets to 0,00). "
            "Check the run in the payroll system.",
        )
    voucher = Voucher(
        voucher_date=_last_day(run.year, run.period),
        voucher_text=voucher_text(run, company_name, marker),
        rows=tuple(voucher_rows),
        marker=marker,
    )
    assert voucher.is_balanced, "rounding rule broke the balance"
    return voucher


_SumKey = tuple[str, str | None, str]  # (payroll account, cost centre, component)
_RowKey = tuple[int, str | None]  # (Visma account, cost-centre item)


def _exact_sums(lines: Iterable[JournalLine]) -> dict[_SumKey, list[Decimal]]:
    """1. Exact debit and credit per (payroll account, cost centre, component): one dict step per line, no
    rounding (the caller's context holds 100 digits)."""
    sums: dict[_SumKey, list[Decimal]] = {}
    get = sums.get
    for line in lines:
        key = (line.ledger_account, line.cost_center, line.component or line.description)
        acc = get(key)
        if acc is None:
            sums[key] = [line.debit, line.credit]
        else:
            acc[0] += line.debit
            acc[1] += line.credit
    return sums


def _resolve_accounts(run: PayrollRunData, sums: Mapping[_SumKey, list[Decimal]],
                      ledger_map: Mapping[str, int] | None) -> dict[str, int]:
    """2a. The Visma account of every payroll account in the run (a handful of keys: clarity over speed)."""
    accounts: dict[str, int | None] = {}
    for payroll_account, _, _ in sums:
        if payroll_account not in accounts:
            accounts[payroll_account] = _resolve_account(payroll_account, ledger_map)
    unmapped = sorted(a for a, v in accounts.items() if v is None)
    if unmapped:
        raise JournalError(
            "account-not-mapped",
            f"Run {run.label}: payroll ledger {plural(len(unmapped), 'account')} "
            f"{', '.join(repr(a) for a in unmapped)} {plural(len(unmapped), 'has')} no Visma account. "
            "Map them to a Visma account number under Administrations → ledger mapping.",
        )
    return accounts  # type: ignore[return-value]  # no None left


def _visma_rows(run: PayrollRunData, sums: Mapping[_SumKey, list[Decimal]], accounts: Mapping[str, int],
                cc_accounts: frozenset[int], cost_center_map: Mapping[str, str] | None) -> dict[_RowKey, list]:
    """2b. Net amounts per (Visma account, cost-centre item), each with its (net, component) parts for the text."""
    rows: dict[_RowKey, list] = {}
    unmapped_cc: set[str] = set()
    for (payroll_account, cost_center, component), (debit, credit) in sums.items():
        account = accounts[payroll_account]
        item: str | None = None
        if cost_center and account in cc_accounts:
            code = cost_center.strip()
            item = code if cost_center_map is None else cost_center_map.get(code) or None
            if item is None:
                unmapped_cc.add(code)
                continue
        net = debit - credit
        row = rows.get((account, item))
        if row is None:
            rows[(account, item)] = [net, [(net, component)]]
        else:
            row[0] += net
            row[1].append((net, component))
    if unmapped_cc:
        raise JournalError(
            "cost-center-not-mapped",
            f"Run {run.label}: payroll {plural(len(unmapped_cc), 'cost centre')} "
            f"{', '.join(sorted(unmapped_cc))} {plural(len(unmapped_cc), 'has')} no Visma cost centre. "
            "Map them under Administrations → cost-centre mapping.",
        )
    return rows


def _sides(rows: Mapping[_RowKey, list]) -> tuple[list[_RowKey], list[_RowKey], Decimal, Decimal]:
    """3a. The debit and the credit rows (in account order) and their exact totals."""
    debit_keys = sorted((k for k, v in rows.items() if v[0] > 0), key=_row_sort)
    credit_keys = sorted((k for k, v in rows.items() if v[0] < 0), key=_row_sort)
    total_debit = sum((rows[k][0] for k in debit_keys), ZERO)
    total_credit = -sum((rows[k][0] for k in credit_keys), ZERO)
    return debit_keys, credit_keys, total_debit, total_credit


def _checked_total(run: PayrollRunData, any_rows: list, total_debit: Decimal, total_credit: Decimal) -> Decimal:
    """3b. Balance on exact amounts, then round once: the total both sides must come to."""
    if not run.lines or not any_rows:
        raise JournalError(
            "voucher-empty",
            f"Run {run.label} has no amounts to book. Check the run in the payroll system.",
        )
    if not is_balanced_to_the_cent(total_debit, total_credit):
        raise JournalError(
            "voucher-unbalanced",
            f"Run {run.label} does not balance: debit {format_amount(total_debit)}, credit "
            f"{format_amount(total_credit)} (difference {format_amount(total_debit - total_credit)}). "
            "Correct the journal in the payroll system and process or import it again.",
        )
    target = round_cents(total_debit)
    if target > MAX_AMOUNT:
        raise JournalError(
            "amount-out-of-range",
            f"Run {run.label}: total {format_amount(target)} is above Visma's limit of €9,999,999,999.99 per row.",
        )
    return target


def _side_rows(rows: Mapping[_RowKey, list], keys: list[_RowKey], amounts: list[Decimal], adjusted: int | None,
               side: str) -> list[VoucherRow]:
    """4. The voucher rows of one side; the row that took the rounding difference says so in its text."""
    out: list[VoucherRow] = []
    for i, ((account, item), amount) in enumerate(zip(keys, amounts, strict=True)):
        if not amount:
            continue
        suffix = ""
        if i == adjusted:
            delta = amount - round_cents(abs(rows[(account, item)][0]))
            suffix = f" (afronding {'+' if delta > 0 else '-'}{dutch_amount(abs(delta))})"
        out.append(
            VoucherRow(
                account_number=account,
                debit=amount if side == "debit" else ZERO_CENTS,
                credit=amount if side == "credit" else ZERO_CENTS,
                transaction_text=transaction_text(rows[(account, item)][1], suffix, account),
                cost_center_item_id=item,
            )
        )
    return out


def _row_sort(key: tuple[int, str | None]) -> tuple[int, str]:
    account, item = key
    return (account, item or "")
