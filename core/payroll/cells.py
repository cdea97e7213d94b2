"""One cell of a payroll journal report read as what it should be: an amount, a whole number or text.

Amounts: Dutch ("1.234,56", "1234,56") and English ("1,234.56", "1234.56") notation; an empty cell or "-" is zero;
negative amounts are refused (book them on the other side). A lone separator followed by exactly three digits
("1,234" / "1.234") is ambiguous and refused - unless the file settles it (``decimal_comma``). Every parser raises
``ValueError`` with a message for the user, which the file import turns into a `RowError` for that cell.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["MAX_AMOUNT", "cell_amount", "cell_int", "cell_percentage", "cell_text", "parse_amount"]

MAX_AMOUNT = Decimal("9999999999.99")
ZERO = Decimal(0)
_NUMBER_CHARS = re.compile(r"[0-9.,]+")


def _grouped(int_part: str, sep: str) -> str | None:
    """'1.234.567' with sep '.' -> '1234567', or None when the groups are not thousands groups."""
    groups = int_part.split(sep)
    if not (1 <= len(groups[0]) <= 3) or any(len(g) != 3 for g in groups[1:]):
        return None
    return "".join(groups)


def _bare_number(text: str) -> str:
    """The amount without spaces, currency and plus sign; refuses negatives and what is no number at all."""
    s = text.strip().replace("\u00a0", "").replace(" ", "").replace("€", "")
    if s.upper().startswith("EUR"):
        s = s[3:]
    if s in ("", "-"):
        return ""
    if s.startswith(("-", "(")) or s.endswith(("-", ")")):
        raise ValueError(f"negative amount '{text.strip()}'; book it as a positive amount on the other side")
    if s.startswith("+"):
        s = s[1:]
    if not _NUMBER_CHARS.fullmatch(s) or not any(ch.isdigit() for ch in s):
        raise ValueError(f"'{text.strip()}' is not an amount")
    return s


def _both_separators(s: str) -> tuple[str, str] | None:
    """'1.234,56' or '1,234.56': the last separator is the decimal one. (digits, fraction), or None when invalid."""
    dec = "," if s.rfind(",") > s.rfind(".") else "."
    thousands = "." if dec == "," else ","
    int_part, frac = s.rsplit(dec, 1)
    if dec in int_part or thousands in frac:
        return None
    digits = _grouped(int_part, thousands)
    return None if digits is None else (digits, frac)


def _one_separator(s: str, decimal_comma: bool | None, ambiguous: ValueError) -> tuple[str, str] | None:
    """'1234,56', '1.234.567' or '1,234': (digits, fraction), or None when invalid; raises ``ambiguous``."""
    sep = "," if "," in s else "."
    if s.count(sep) > 1:
        digits = _grouped(s, sep)
        return None if digits is None else (digits, "")
    int_part, frac = s.split(sep)
    digits = int_part
    if len(frac) == 3 and int_part not in ("", "0"):
        sep_is_decimal = decimal_comma if sep == "," else (None if decimal_comma is None else not decimal_comma)
        if sep_is_decimal is None:
            raise ambiguous
        if not sep_is_decimal:
            if not 1 <= len(int_part) <= 3:
                return None
            digits, frac = int_part + frac, ""
    if not frac and not digits:
        return None
    return digits, frac


def parse_amount(text: str, *, decimal_comma: bool | None = None) -> Decimal:
    """Parse a non-negative amount in Dutch or English notation; raises ValueError with a user message.

    `decimal_comma` is what the file says about a lone separator followed by three digits: True (the comma is
    decimal, e.g. a semicolon CSV), False (the point is decimal), None (neither: such a number is ambiguous).
    """
    s = _bare_number(text)
    if not s:
        return ZERO
    bad = ValueError(f"'{text.strip()}' is not a valid amount (use e.g. 1234,56 or 1234.56)")
    ambiguous = ValueError(
        f"'{text.strip()}' is ambiguous (a thousands separator or decimals?); write it without a thousands "
        "separator, e.g. 1234 or 1234,56"
    )
    if "," in s and "." in s:
        parts = _both_separators(s)
    elif "," in s or "." in s:
        parts = _one_separator(s, decimal_comma, ambiguous)
    else:
        parts = (s, "")
    if parts is None:
        raise bad
    digits, frac = parts
    try:
        value = Decimal(f"{digits or '0'}.{frac}" if frac else (digits or "0"))
    except InvalidOperation:
        raise bad from None
    if value > MAX_AMOUNT:
        raise ValueError(f"amount {text.strip()} is too large")
    return value


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def cell_amount(value: Any, decimal_comma: bool | None) -> Decimal:
    if value is None:
        return ZERO
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is not an amount")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        # The number Excel shows: Excel keeps 15 significant digits, so a 16th or 17th digit of the float's shortest
        # repr (0.1 + 0.2 = 0.30000000000000004) is binary noise of a formula, not data, and would not fit the stored
        # scale.
        amount = Decimal(format(value, ".15g"))
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


def cell_int(value: Any, what: str, low: int, high: int, range_note: str = "") -> int:
    text = cell_text(value)
    if isinstance(value, float) and not value.is_integer():
        text = repr(value)
    if not re.fullmatch(r"\d{1,6}", text):
        raise ValueError(f"{what} must be a whole number {low}..{high}, found '{text}'" if text else
                         f"{what} is empty; it must be a whole number {low}..{high}")
    number = int(text)
    if not low <= number <= high:
        raise ValueError(f"{what} {number} is out of range {low}..{high}{range_note}")
    return number


def cell_percentage(value: Any, hint: bool | None) -> Decimal:
    text = cell_text(value).rstrip("%").strip() if isinstance(value, str) else value
    pct = cell_amount(text, hint)
    if not ZERO < pct <= 100:
        raise ValueError(f"percentage {cell_text(value)} must be more than 0 and at most 100")
    return pct
