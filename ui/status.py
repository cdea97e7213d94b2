"""The status vocabulary drawn: badges, Visma logos and table cells for account and export statuses, the label
tables the Troubleshooting page filters with, and timestamps and periods for people.

The words and colours come from ``core.status`` (through ``core.services``); this module only turns them into
Streamlit Markdown, data URIs and cell text.
"""

from __future__ import annotations

import base64
from functools import cache
from typing import Any

import pandas as pd

from core import services
from ui.frame import STATIC

ACCOUNT_STATUS_LOOKS = services.ACCOUNT_STATUS_LOOKS
EXPORT_STATUS_LOOKS = services.EXPORT_STATUS_LOOKS

# Label tables (value -> label), drawn from the vocabulary, for selectboxes and DataFrame columns.
STATUS_LABELS = {status: look.label for status, look in EXPORT_STATUS_LOOKS.items()}
SEVERITY_LABELS = {severity: look.label for severity, look in services.SEVERITY_LOOKS.items()}
SEVERITY_COLORS = {severity: look.badge for severity, look in services.SEVERITY_LOOKS.items()}
FIX_IN_LABELS = {place: look.label for place, look in services.FIX_IN_PLACES.items()}
LANGUAGE_LABELS = dict(services.LANGUAGE_LABELS)


def _account_look(status: str) -> services.StatusLook:
    return ACCOUNT_STATUS_LOOKS.get(status) or services.unknown_status(status)


def _export_look(status: str) -> services.StatusLook:
    return EXPORT_STATUS_LOOKS.get(status) or services.unknown_status(status)


# ------------------------------------------------------------------------------------------------ badges and logos


@cache
def logo_uri(color: str) -> str:
    """The Visma logo in ``grey``, ``red``, ``orange`` or ``blue`` as a data URI (for tables and st.image)."""
    svg = (STATIC / f"visma-{color}.svg").read_bytes()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def account_status_label(status: str) -> str:
    """Plain label with a mark, for table cells: "● Authorized"."""
    look = _account_look(status)
    return f"{look.mark} {look.label}"


def account_badge(status: str) -> str:
    """Markdown badge for an account status (grey *not authorized*, green *authorized*, orange *needs re-auth*)."""
    look = _account_look(status)
    return f":{look.badge}-badge[{look.label}]"


def account_logo(status: str) -> str:
    """The Visma logo data URI in the colour of the account status (grey until authorized, then red)."""
    return logo_uri(_account_look(status).logo)


def export_badge(status: str, voucher_number: str | None = None) -> str:
    """Markdown badge for an export: grey *not sent*, blue *sending*, orange *unconfirmed*, green *sent* + voucher
    number, red *failed*."""
    look = _export_look(status)
    label = f"{look.label} · voucher {voucher_number}" if status == "sent" and voucher_number else look.label
    return f":{look.badge}-badge[{label}]"


# ---------------------------------------------------------------------------------------------------- table cells


def status_text(status: str | None, voucher_number: str | None = None) -> str:
    """Plain words for a status cell (the colour comes from a Styler): "Sent · 2026-0042", "Failed", "Not sent"."""
    status = status or "not_sent"
    text = STATUS_LABELS.get(status, status)
    return f"{text} · {voucher_number}" if status == "sent" and voucher_number else text


def status_cell_style(status: Any) -> str:
    """The cell style of an export status value ("" for anything else, such as an empty cell)."""
    look = EXPORT_STATUS_LOOKS.get(status) if isinstance(status, str) else None
    return look.cell_style if look else ""


def style_for(text: str) -> str:
    """The cell style for a status text made by :func:`status_text`."""
    for look in EXPORT_STATUS_LOOKS.values():
        if text == look.label or text.startswith(look.label + " ·"):
            return look.cell_style
    return ""


# ---------------------------------------------------------------------------------------------- times and periods


def format_time(value: Any) -> str:
    """A timestamp (datetime or ISO text) for people: ``2026-03-25 16:00 UTC``, in UTC when it has a zone;
    an em dash when empty."""
    if value is None or value == "":
        return "—"
    try:
        moment = pd.Timestamp(value)
    except (ValueError, TypeError):
        return str(value)
    if moment.tzinfo is not None:
        return moment.tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M")


def period_label(year: int, period: int) -> str:
    return f"{int(year)}-{int(period):02d}"
