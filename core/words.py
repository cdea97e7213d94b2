"""Counted nouns, one home: "1 run", "3 runs", "1 company", "7 companies" — never "run(s)" or "compan(y/ies)".

Pages, CLI texts and service messages all say numbers the same way."""

from __future__ import annotations

_IRREGULAR = {
    "company": "companies", "entry": "entries", "centre": "centres", "cost centre": "cost centres",
    "this": "these", "is": "are", "has": "have",
}


def plural(n: int, one: str) -> str:
    """The noun ``one`` in the form that goes with ``n`` (without the number)."""
    if n == 1:
        return one
    if one in _IRREGULAR:
        return _IRREGULAR[one]
    if one.endswith("y") and not one.endswith(("ay", "ey", "oy", "uy")):
        return one[:-1] + "ies"
    if one.endswith(("s", "x", "ch", "sh")):
        return one + "es"
    return one + "s"


def count(n: int, one: str, many: str | None = None) -> str:
    """``n`` with its noun: ``count(1, "run")`` → "1 run", ``count(2400, "company")`` → "2,400 companies" (the
    thousands separator of the dashboard's tables)."""
    return f"{n:,} {one if n == 1 else (many or plural(n, one))}"
