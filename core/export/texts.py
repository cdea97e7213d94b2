"""The texts of a voucher: the run's marker (how a send is found again in Visma), each row's TransactionText and
the VoucherText (rules in `core.export.voucher`)."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

from core.payroll.types import PayrollRunData

__all__ = ["MAX_MARKER", "MAX_TRANSACTION_TEXT", "MAX_VOUCHER_TEXT", "export_marker", "transaction_text",
           "voucher_text"]

MAX_TRANSACTION_TEXT = 60
MAX_VOUCHER_TEXT = 1000
MAX_MARKER = 60
_MARKER_PREFIX = "ELX-"
_MARKER_END = "#"
_MORE = " e.a."  # "en andere": more components than fit in the text


def export_marker(run: PayrollRunData, *, generation: int = 0) -> str:
    """A marker unique to this run (and to this export generation), e.g. "ELX-BAKKERIJ-VDM-202603-1-3f9a1c#".

    Deterministic: the same run gives the same marker, so a send whose outcome is unknown can be looked up
    in Visma. `generation` > 0 is for an explicit, recorded re-send, which must not be mistaken for the
    first posting. The hash covers the full company code and the processing time, so a run that was
    reprocessed in payroll under the same number gets a new marker. At most 60 characters, only
    [A-Z0-9-] before the final "#", so it is safe inside an OData `contains(VoucherText, '…')` filter.
    """
    if generation < 0:
        raise ValueError("generation must be 0 or more")
    digest_source = "|".join(
        [run.company_code, str(run.year), str(run.period), str(run.run_number), run.processed_at.isoformat(),
         str(generation)]
    )
    digest = hashlib.sha256(digest_source.encode("utf-8")).hexdigest()[:6]
    tail = f"-{run.year}{run.period:02d}-{run.run_number}" + (f"-G{generation}" if generation else "")
    tail += f"-{digest}{_MARKER_END}"
    code = re.sub(r"[^A-Z0-9-]+", "-", run.company_code.upper()).strip("-") or "RUN"
    room = MAX_MARKER - len(_MARKER_PREFIX) - len(tail)
    if room < 1:
        raise ValueError("run number too long for a marker")
    return f"{_MARKER_PREFIX}{code[:room].rstrip('-') or 'X'}{tail}"



def transaction_text(components: list[tuple[Decimal, str]], suffix: str, account: int) -> str:
    """Component names, largest amount first, joined and cut at a name boundary within 60 characters."""
    names: list[str] = []
    seen: set[str] = set()
    for _, name in sorted(components, key=lambda c: (-abs(c[0]), c[1])):
        clean = " ".join(name.split())
        if clean and clean not in seen:
            seen.add(clean)
            names.append(clean)
    if not names:
        names = [f"Rekening {account}"]
    limit = MAX_TRANSACTION_TEXT - len(suffix)
    text = ""
    for i, name in enumerate(names):
        candidate = name if not text else f"{text}, {name}"
        more = _MORE if i < len(names) - 1 else ""
        if len(candidate) + len(more) <= limit:
            text = candidate
            continue
        if not text:  # the first name alone is too long: cut it
            text = name[: limit - 1].rstrip() + "…"
            return text + suffix
        return text + _MORE + suffix
    return text + suffix


def voucher_text(run: PayrollRunData, company_name: str | None, marker: str) -> str:
    who = " ".join((company_name or run.company_code).split())
    tail = f" {run.label} {marker}"
    room = MAX_VOUCHER_TEXT - len("Loonjournaal ") - len(tail)
    if len(who) > room:
        who = who[: room - 1].rstrip() + "…"
    return f"Loonjournaal {who}{tail}"
