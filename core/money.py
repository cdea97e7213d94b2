"""Money, one home: amounts are ``Decimal`` and are rounded to cents once, at the edge (the voucher), half up.

The importer and the voucher builder share the balance rule. Amounts have one notation on screen and in messages,
the one the dashboard's tables use (English, euro sign first: €1,234.56); only the text inside a voucher row, which a
Dutch bookkeeper reads in Visma, uses the Dutch notation (1.234,56)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HALF_CENT = Decimal("0.005")


def round_cents(amount: Decimal) -> Decimal:
    """The one rounding: to the cent, half up."""
    return amount.quantize(CENT, ROUND_HALF_UP)


def format_amount(amount: Decimal) -> str:
    """An amount for messages and pages, as the tables show it: €1,234.56, -€0.59."""
    sign = "-" if amount < 0 else ""
    return f"{sign}€{abs(amount.quantize(CENT, ROUND_HALF_UP)):,.2f}"


def dutch_amount(amount: Decimal) -> str:
    """Dutch notation for the text of a voucher row, read by the bookkeeper in Visma: 1.234,56."""
    sign = "-" if amount < 0 else ""
    text = f"{abs(amount.quantize(CENT, ROUND_HALF_UP)):,.2f}"
    return sign + text.replace(",", "_").replace(".", ",").replace("_", ".")


def is_balanced_to_the_cent(total_debit: Decimal, total_credit: Decimal) -> bool:
    """The balance rule shared by the importer and the voucher builder: the exact difference is below half a
    cent, i.e. it rounds to 0.00. Amounts with two decimals must therefore balance exactly."""
    return abs(total_debit - total_credit) < HALF_CENT
